package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/bench"
	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/report"
	"github.com/spf13/cobra"
)

// benchKDOptions are the flags of `lineage bench kd`.
type benchKDOptions struct {
	data         string
	seeds        int
	epochs       int
	temperatures string
	alpha        float64
	format       report.Format
	verbose      bool
	noProgress   bool
}

// newBenchKDCommand builds `lineage bench kd`, the Hinton-shape
// distillation experiment (teacher, hard-label student, KD students).
func newBenchKDCommand() *cobra.Command {
	o := &benchKDOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "kd [--data digits,fashion-mnist] [--seeds 3]",
		Short: "Hinton-shape distillation experiment: teacher vs hard-label student vs KD students at T=1,4,10",
		Long: `Trains, per dataset and seed (1..--seeds), a teacher on hard labels, a small
student on hard labels and the same student distilled from the teacher at each
temperature (α=0.9, transfer = training inputs, full distribution), then
reports test accuracy (mean ± sd), test errors, agreement with the teacher,
parameters and training time. Figures are from the last epoch.

digits: 64-256-256-10 teacher, 64-16-10 student, 40 epochs (~20 s).
fashion-mnist: 784-512-512-10 teacher, 784-32-10 student, 12 epochs, batch 128
(~13 min on 2 cores with -tags openblas; results: docs/kd-bench.md).
Not run in CI.`,
		Example: `  lineage bench kd --data digits --seeds 3 --format markdown
  go run -tags openblas ./cmd/lineage bench kd --data digits,fashion-mnist --seeds 3 --format markdown`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runBenchKD(c.Context(), c, o) },
	}
	f := c.Flags()
	f.StringVar(&o.data, "data", strings.Join(bench.DefaultKDDatasets, ","), "datasets, comma-separated")
	f.IntVar(&o.seeds, "seeds", bench.DefaultKDSeeds, "number of seeds (runs seeds 1..N)")
	f.IntVar(&o.epochs, "epochs", 0, "epochs for every model (0: the per-dataset default)")
	f.StringVar(&o.temperatures, "temperatures", "1,4,10", "distillation temperatures, comma-separated")
	f.Float64Var(&o.alpha, "alpha", bench.DefaultKDAlpha, "soft-target weight α in (0,1]")
	f.Var(&o.format, "format", formatUsage)
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print one line per trained model to stderr")
	f.BoolVar(&o.noProgress, "no-progress", false, "never show a progress bar")
	return c
}

func runBenchKD(ctx context.Context, c *cobra.Command, o *benchKDOptions) error {
	if o.seeds < 1 {
		return usageError{fmt.Errorf("--seeds must be at least 1, got %d", o.seeds)}
	}
	if o.epochs < 0 {
		return usageError{fmt.Errorf("--epochs must be ≥ 0, got %d", o.epochs)}
	}
	if !(o.alpha > 0 && o.alpha <= 1) {
		return usageError{fmt.Errorf("--alpha must lie in (0,1], got %g", o.alpha)}
	}
	var temps []float64
	for _, s := range strings.Split(o.temperatures, ",") {
		T, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(T > 0) {
			return usageError{fmt.Errorf("--temperatures: %q is not a positive number", s)}
		}
		if T < distill.MinTemperature {
			return usageError{fmt.Errorf("--temperatures: %q is below the smallest temperature, %g", s, distill.MinTemperature)}
		}
		if T > distill.MaxTemperature {
			return usageError{fmt.Errorf("--temperatures: %q is above the largest temperature, %g", s, distill.MaxTemperature)}
		}
		if slices.Contains(temps, T) {
			return usageError{fmt.Errorf("--temperatures: %q is listed twice", s)}
		}
		temps = append(temps, T)
	}
	opts := bench.KDOptions{Seeds: o.seeds, Temperatures: temps, Alpha: o.alpha}
	for _, d := range strings.Split(o.data, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if slices.ContainsFunc(opts.Specs, func(sp bench.KDSpec) bool { return sp.Dataset == d }) {
			// It would be trained and printed twice, the same.
			return usageError{fmt.Errorf("--data: %q is listed twice", d)}
		}
		if err := checkDataName(ctx, d); err != nil {
			return err
		}
		sp := bench.DefaultKDSpec(d)
		if o.epochs > 0 {
			sp.Epochs = o.epochs
		}
		opts.Specs = append(opts.Specs, sp)
	}
	if len(opts.Specs) == 0 {
		return usageError{fmt.Errorf("--data: no dataset given")}
	}
	stderr := c.ErrOrStderr()
	var bar *report.Progress
	opts.Progress = func(r bench.KDRun, done, total int) {
		if bar == nil {
			bar = report.NewProgress(stderr, total, "bench kd", !o.noProgress && !o.verbose && isTerminal(stderr))
		}
		bar.Describe(fmt.Sprintf("%s seed %d %s", r.Dataset, r.Seed, r.Label()))
		bar.Add(1)
		if o.verbose {
			fmt.Fprintf(stderr, "[%d/%d] %s seed %d %-28s acc %.4f agree %.4f %6.1fs\n",
				done, total, r.Dataset, r.Seed, r.Label(), r.TestAccuracy, r.Agreement, r.TrainSeconds)
		}
	}
	res, err := bench.RunKD(ctx, opts)
	bar.End(err)
	if errors.Is(err, bench.ErrKDOptions) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	w := c.OutOrStdout()
	switch o.format {
	case report.FormatJSON:
		return writeJSON(w, res)
	case report.FormatCSV:
		return report.RenderAll(w, res.Tables(true), o.format)
	default:
		return report.RenderAll(w, res.Tables(false), o.format)
	}
}
