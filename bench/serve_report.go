package bench

// This file holds the serve benchmark's results and their table
// (serve.go).

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/report"
)

// Measure is one figure measured Repeats times.
type Measure struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Runs   []float64 `json:"runs"`
}

// Spread returns (Max − Min) / Median, the relative range of the runs (0
// for a zero median).
func (m Measure) Spread() float64 {
	if m.Median == 0 {
		return 0
	}
	return (m.Max - m.Min) / m.Median
}

func newMeasure(runs []float64) Measure {
	s := slices.Clone(runs)
	slices.Sort(s)
	m := Measure{Min: s[0], Max: s[len(s)-1], Runs: runs}
	if n := len(s); n%2 == 1 {
		m.Median = s[n/2]
	} else {
		m.Median = (s[n/2-1] + s[n/2]) / 2
	}
	return m
}

// ServeRow is the figures at one concurrency. Ceiling and Wrk are
// requests per second (multiply by the batch for probes per second);
// Lineage is probes per second. Ratio is the median over the repeats of
// lineage's probes/s over the ceiling's in the same repeat (see
// pairedRatio); WrkRatio the same against wrk (0 without wrk).
type ServeRow struct {
	Wire        string   `json:"wire"`
	Concurrency int      `json:"concurrency"`
	Ceiling     Measure  `json:"ceiling_req_per_s"`
	Wrk         *Measure `json:"wrk_req_per_s,omitempty"`
	Lineage     Measure  `json:"lineage_probes_per_s"`
	Ratio       float64  `json:"ratio"`
	WrkRatio    float64  `json:"wrk_ratio,omitempty"`
}

// ServeReport is ServeThroughput's outcome.
type ServeReport struct {
	Experiment  string     `json:"experiment"` // "serve"
	Model       string     `json:"model"`      // e.g. "64-64-10 relu"
	Batch       int        `json:"batch"`
	DurationS   float64    `json:"duration_s"` // of one measurement
	Repeats     int        `json:"repeats"`
	LineageRows int        `json:"predict_rows_per_concurrency"` // lineage Predict size ÷ C
	GOMAXPROCS  int        `json:"gomaxprocs"`
	CPUs        int        `json:"cpus"`
	Wrk         string     `json:"wrk,omitempty"` // wrk's version line, when run
	Rows        []ServeRow `json:"rows"`
	WallTimeS   float64    `json:"wall_time_s"`
}

// pairedRatio returns the median over runs i of lin[i] / (req[i]·batch):
// each lineage run against the load generator's run next to it, so slow
// drift of the machine cancels out of every ratio. Pairs with a zero
// denominator are skipped; no pairs gives 0.
func pairedRatio(lin, req []float64, batch float64) float64 {
	var r []float64
	for i := range min(len(lin), len(req)) {
		if d := req[i] * batch; d > 0 {
			r = append(r, lin[i]/d)
		}
	}
	if len(r) == 0 {
		return 0
	}
	return newMeasure(r).Median
}

// Table returns the report as one table. With split false each median
// carries its spread in a text cell ("12,345 ±3%", for the table and
// markdown formats); with split true medians and spreads are separate
// numeric columns (for CSV).
func (r *ServeReport) Table(split bool) report.Table {
	wrk := r.Wrk != ""
	t := report.Table{
		Title: fmt.Sprintf("lineage serve throughput on loopback: %s MLP, batch %d", r.Model, r.Batch),
		Notes: []string{
			fmt.Sprintf("Median of %d runs of %.3g s each, interleaved (lineage between the two load generators, whose order alternates); ± is the range (max − min) over the median. Ratios are medians of per-run ratios (each lineage run over the load generator's run next to it).", r.Repeats, r.DurationS),
			fmt.Sprintf("Ceiling: a Go load generator, C goroutines re-posting one pre-encoded %d-row request (the same wire format as lineage's) over keep-alive connections, bodies drained unparsed. lineage: remote.OpenHTTP (Concurrency C, BatchSize %d) calling Predict on C×%d rows from two goroutines, as lineage probe does (two journal batches in flight): encodes, decodes and validates every answer.", r.Batch, r.Batch, r.LineageRows),
			"Wire binary: the Open Inference Protocol's binary tensor data extension (JSON header + raw float32), which lineage serve lists and lineage's client uses by default; json: all-JSON bodies, what a server without the extension gets.",
			fmt.Sprintf("Server, load generator and client share the machine: GOMAXPROCS %d, %d CPUs; access log formatted to io.Discard.", r.GOMAXPROCS, r.CPUs),
		},
	}
	if wrk {
		t.Notes = append(t.Notes, "wrk: "+r.Wrk+", -t1 -cC, same request body (whole seconds).")
	}
	pct := func(v float64) string { return "±" + strconv.FormatFloat(100*v, 'f', 0, 64) + "%" }
	med := func(m Measure, scale float64) string {
		return fmtThousands(m.Median*scale) + " " + pct(m.Spread())
	}
	if split {
		t.Columns = []report.Column{{Name: "wire"}, {Name: "concurrency"},
			{Name: "ceiling req/s"}, {Name: "ceiling probes/s"}, {Name: "ceiling spread"}}
		if wrk {
			t.Columns = append(t.Columns, report.Column{Name: "wrk req/s"}, report.Column{Name: "wrk spread"})
		}
		t.Columns = append(t.Columns, report.Column{Name: "lineage probes/s"}, report.Column{Name: "lineage spread"},
			report.Column{Name: "lineage / ceiling"})
		if wrk {
			t.Columns = append(t.Columns, report.Column{Name: "lineage / wrk"})
		}
	} else {
		t.Columns = []report.Column{{Name: "wire"}, {Name: "concurrency"},
			{Name: "ceiling req/s", Align: report.AlignRight}, {Name: "ceiling probes/s", Align: report.AlignRight}}
		if wrk {
			t.Columns = append(t.Columns, report.Column{Name: "wrk req/s", Align: report.AlignRight})
		}
		t.Columns = append(t.Columns, report.Column{Name: "lineage probes/s", Align: report.AlignRight},
			report.Column{Name: "lineage / ceiling"})
		if wrk {
			t.Columns = append(t.Columns, report.Column{Name: "lineage / wrk"})
		}
	}
	b := float64(r.Batch)
	for _, row := range r.Rows {
		cells := []report.Cell{report.Text(row.Wire), report.Int(int64(row.Concurrency))}
		if split {
			cells = append(cells, report.Float(row.Ceiling.Median, 0), report.Float(row.Ceiling.Median*b, 0),
				report.Float(row.Ceiling.Spread(), 3))
			if wrk {
				cells = append(cells, report.Float(row.Wrk.Median, 0), report.Float(row.Wrk.Spread(), 3))
			}
			cells = append(cells, report.Float(row.Lineage.Median, 0), report.Float(row.Lineage.Spread(), 3))
		} else {
			cells = append(cells, report.Text(med(row.Ceiling, 1)), report.Text(fmtThousands(row.Ceiling.Median*b)))
			if wrk {
				cells = append(cells, report.Text(med(*row.Wrk, 1)))
			}
			cells = append(cells, report.Text(med(row.Lineage, 1)))
		}
		cells = append(cells, report.Float(row.Ratio, 2))
		if wrk {
			cells = append(cells, report.Float(row.WrkRatio, 2))
		}
		t.AddRow(cells...)
	}
	return t
}

// fmtThousands formats v rounded to an integer with comma separators.
func fmtThousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
