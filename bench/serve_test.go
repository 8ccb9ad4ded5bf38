package bench

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/report"
)

// TestServeThroughputShort runs a very short benchmark (two concurrencies,
// one 150 ms run each) and checks the report's shape and that every figure
// was measured.
func TestServeThroughputShort(t *testing.T) {
	opts := ServeOptions{Duration: 150 * time.Millisecond, Batch: 16, Concurrency: []int{1, 3}, Hidden: []int{8}, Repeats: 1}
	if p, err := exec.LookPath("wrk"); err == nil && !testing.Short() {
		opts.WrkPath = p
	}
	rep, err := ServeThroughput(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rep.Model, "64-8-10 relu"; got != want {
		t.Errorf("model = %q, want %q", got, want)
	}
	if got, want := len(rep.Rows), 4; got != want {
		t.Fatalf("got %d rows, want %d (2 wires × 2 concurrencies)", got, want)
	}
	for i, row := range rep.Rows {
		if got, want := row.Concurrency, opts.Concurrency[i%2]; got != want {
			t.Errorf("row %d: concurrency = %d, want %d", i, got, want)
		}
		if got, want := row.Wire, DefaultServeWires[i/2]; got != want {
			t.Errorf("row %d: wire = %q, want %q", i, got, want)
		}
		if len(row.Ceiling.Runs) != 1 || len(row.Lineage.Runs) != 1 {
			t.Errorf("row %d: got %d ceiling and %d lineage runs, want 1 each", i, len(row.Ceiling.Runs), len(row.Lineage.Runs))
		}
		if !(row.Ceiling.Median > 0 && row.Lineage.Median > 0) {
			t.Errorf("row %d: ceiling %g req/s, lineage %g probes/s; want both > 0", i, row.Ceiling.Median, row.Lineage.Median)
		}
		if want := row.Lineage.Median / (row.Ceiling.Median * float64(opts.Batch)); row.Ratio != want {
			t.Errorf("row %d: ratio = %g, want %g", i, row.Ratio, want)
		}
		if (row.Wrk != nil) != (opts.WrkPath != "") {
			t.Errorf("row %d: wrk measured = %v, want %v", i, row.Wrk != nil, opts.WrkPath != "")
		}
	}
	for _, split := range []bool{false, true} {
		var buf bytes.Buffer
		if err := report.RenderAll(&buf, []report.Table{rep.Table(split)}, report.FormatMarkdown); err != nil {
			t.Fatalf("split %v: %v", split, err)
		}
		if !strings.Contains(buf.String(), "lineage / ceiling") {
			t.Errorf("split %v: markdown lacks the ratio column:\n%s", split, buf.String())
		}
	}
}

func TestServeThroughputOptions(t *testing.T) {
	tests := []struct {
		name string
		opts ServeOptions
	}{
		{"negative duration", ServeOptions{Duration: -time.Second}},
		{"negative batch", ServeOptions{Batch: -1}},
		{"zero concurrency", ServeOptions{Concurrency: []int{4, 0}}},
		{"negative repeats", ServeOptions{Repeats: -2}},
		{"zero hidden", ServeOptions{Hidden: []int{0}}},
		// Served, every request failed: "HTTP 500 ... prediction failed".
		{"too many layers", ServeOptions{Hidden: slices.Repeat([]int{1}, model.MaxLayers)}},
		// The MLP's parameters overflowed an int: makeslice panicked.
		{"too many parameters", ServeOptions{Hidden: []int{1 << 40, 1 << 40}}},
		{"unknown wire", ServeOptions{Wires: []string{"binary", "xml"}}},
	}
	for _, tt := range tests {
		_, err := ServeThroughput(context.Background(), tt.opts)
		if !errors.Is(err, ErrServeOptions) {
			t.Errorf("%s: got error %v, want ErrServeOptions", tt.name, err)
		}
	}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		runs             []float64
		median, min, max float64
		spread           float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3, 1},
		{[]float64{4, 1, 2, 3}, 2.5, 1, 4, 1.2},
		{[]float64{5}, 5, 5, 5, 0},
	}
	for _, tt := range tests {
		m := newMeasure(tt.runs)
		if m.Median != tt.median || m.Min != tt.min || m.Max != tt.max || m.Spread() != tt.spread {
			t.Errorf("newMeasure(%v) = median %g min %g max %g spread %g, want %g %g %g %g",
				tt.runs, m.Median, m.Min, m.Max, m.Spread(), tt.median, tt.min, tt.max, tt.spread)
		}
	}
}

func TestPairedRatio(t *testing.T) {
	tests := []struct {
		name     string
		lin, req []float64
		batch    float64
		want     float64
	}{
		// Per-run ratios 0.5, 1, 0.9: the median pairs each lineage run
		// with its own load-generator run (the ratio of medians would be
		// 90/100 = 0.9 here too, but 0.5 would drag a mean).
		{"paired", []float64{50, 90, 90}, []float64{1, 0.9, 1}, 100, 0.9},
		{"even count", []float64{80, 100}, []float64{1, 1}, 100, 0.9},
		{"zero denominator skipped", []float64{80, 100}, []float64{0, 1}, 100, 1},
		{"none", nil, nil, 64, 0},
	}
	for _, tt := range tests {
		if got := pairedRatio(tt.lin, tt.req, tt.batch); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: pairedRatio(%v, %v, %g) = %g, want %g", tt.name, tt.lin, tt.req, tt.batch, got, tt.want)
		}
	}
}

func TestParseWrk(t *testing.T) {
	const ok = `Running 1s test @ http://127.0.0.1:1/v2/models/bench/infer
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   300.00us  100.00us   2.00ms   90.00%
  12000 requests in 1.00s, 9.00MB read
Requests/sec:  12000.50
Transfer/sec:      9.00MB
`
	tests := []struct {
		out     string
		want    float64
		wantErr bool
	}{
		{ok, 12000.50, false},
		{strings.Replace(ok, "Requests/sec", "  Non-2xx or 3xx responses: 12\nRequests/sec", 1), 0, true},
		{strings.Replace(ok, "Requests/sec", "  Socket errors: connect 0, read 1, write 0, timeout 0\nRequests/sec", 1), 0, true},
		{"Running 1s test\n", 0, true},
	}
	for i, tt := range tests {
		got, err := parseWrk([]byte(tt.out))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("case %d: parseWrk = %g, %v; want %g, error %v", i, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFmtThousands(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{0, "0"}, {999.4, "999"}, {1000, "1,000"}, {1234567.8, "1,234,568"}, {-12345, "-12,345"}}
	for _, tt := range tests {
		if got := fmtThousands(tt.v); got != tt.want {
			t.Errorf("fmtThousands(%g) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
