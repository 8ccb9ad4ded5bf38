package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/bench"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/report"
	"github.com/spf13/cobra"
)

// benchServeOptions are the flags of `lineage bench serve`.
type benchServeOptions struct {
	duration    time.Duration
	batch       int
	concurrency string
	hidden      string
	repeats     int
	noWrk       bool
	wire        string
	format      report.Format
}

// newBenchServeCommand builds `lineage bench serve`, the serving
// throughput benchmark (lineage's OIP client against its OIP server on
// loopback, next to a Go load generator and wrk).
func newBenchServeCommand() *cobra.Command {
	o := &benchServeOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "serve [--duration 2s] [--batch 64] [--concurrency 1,4,16]",
		Short: "Serving throughput: lineage's OIP client against lineage serve on loopback, next to a load generator's ceiling",
		Long: `Starts lineage's OIP server for a fixed-seed 64-64-10 MLP on 127.0.0.1 in this
process and, for each wire format and at each concurrency C, measures:

  ceiling  a Go load generator: C goroutines re-posting one pre-encoded
           request of --batch rows over keep-alive connections (req/s, and
           probes/s = req/s × batch);
  wrk      the same request from wrk -t1 -cC, when wrk is on PATH;
  lineage  the remote client (Concurrency C, BatchSize --batch) calling
           Predict on C×batch rows from two goroutines, as lineage probe
           does: probes/s answered and validated.

Wire formats (--wire): binary, the Open Inference Protocol's binary tensor
data extension (a JSON header, then raw float32 bytes), which lineage serve
lists and lineage's client then uses; json, all-JSON bodies, what servers
without the extension get. Each figure is the median of --repeats interleaved
runs of --duration, with its range; lineage runs between the two load
generators, whose order alternates, and each ratio is the median of the
per-run ratios. The goal is lineage ≥ 90% of the ceiling. Takes about
wires × concurrencies × repeats × (2 or 3) × duration (~3 min by default).`,
		Example: `  lineage bench serve --format markdown
  lineage bench serve --duration 1s --concurrency 1,4 --format json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runBenchServe(c.Context(), c, o) },
	}
	f := c.Flags()
	f.DurationVar(&o.duration, "duration", bench.DefaultServeDuration, "length of one measurement")
	f.IntVar(&o.batch, "batch", bench.DefaultServeBatch, "rows per request")
	f.StringVar(&o.concurrency, "concurrency", "1,4,16", "concurrencies (requests in flight), comma-separated")
	f.StringVar(&o.hidden, "hidden", "64", "hidden layers of the served MLP, comma-separated")
	f.IntVar(&o.repeats, "repeats", bench.DefaultServeRepeats, "runs per measurement (the median is reported)")
	f.BoolVar(&o.noWrk, "no-wrk", false, "do not run wrk even when it is on PATH")
	f.StringVar(&o.wire, "wire", "binary,json", "wire formats to measure, comma-separated: binary, json")
	f.Var(&o.format, "format", formatUsage)
	return c
}

func runBenchServe(ctx context.Context, c *cobra.Command, o *benchServeOptions) error {
	if o.duration <= 0 {
		return usageError{fmt.Errorf("--duration must be positive, got %v", o.duration)}
	}
	if o.batch < 1 || o.batch > remote.MaxBatchSize {
		return usageError{fmt.Errorf("--batch must be 1 to %d, got %d", remote.MaxBatchSize, o.batch)}
	}
	if o.repeats < 1 {
		return usageError{fmt.Errorf("--repeats must be at least 1, got %d", o.repeats)}
	}
	var conc []int
	for _, s := range strings.Split(o.concurrency, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return usageError{fmt.Errorf("--concurrency: %q is not a positive integer", s)}
		}
		if n > remote.MaxConcurrency {
			return usageError{fmt.Errorf("--concurrency: %d is above %d", n, remote.MaxConcurrency)}
		}
		conc = append(conc, n)
	}
	hidden, err := parseLayerSizes("hidden", o.hidden)
	if err != nil {
		return err
	}
	var wires []string
	for _, s := range strings.Split(o.wire, ",") {
		s = strings.TrimSpace(s)
		if s != bench.WireBinary && s != bench.WireJSON {
			return usageError{fmt.Errorf("--wire: %q is not binary or json", s)}
		}
		wires = append(wires, s)
	}
	opts := bench.ServeOptions{Duration: o.duration, Batch: o.batch, Concurrency: conc, Hidden: hidden, Repeats: o.repeats, Wires: wires}
	if !o.noWrk {
		if p, err := exec.LookPath("wrk"); err == nil {
			opts.WrkPath = p
		}
	}
	rep, err := bench.ServeThroughput(ctx, opts)
	if errors.Is(err, bench.ErrServeOptions) {
		return usageError{err} // what the flags above do not check: --hidden's layers and parameters
	}
	if err != nil {
		return err
	}
	w := c.OutOrStdout()
	switch o.format {
	case report.FormatJSON:
		return writeJSON(w, rep)
	case report.FormatCSV:
		return report.RenderAll(w, []report.Table{rep.Table(true)}, o.format)
	default:
		return report.RenderAll(w, []report.Table{rep.Table(false)}, o.format)
	}
}
