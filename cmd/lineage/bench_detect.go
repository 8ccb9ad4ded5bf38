package main

import (
	"context"
	"fmt"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/bench"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/report"
	"github.com/spf13/cobra"
)

// benchDetectOptions are the flags of `lineage bench detect`.
type benchDetectOptions struct {
	seed              uint64
	quick             bool
	workers           int
	teacherHidden     string
	teacherActivation string
	controls          int
	otherTeachers     int
	data              string
	format            report.Format
	noProgress        bool
}

// newBenchDetectCommand builds `lineage bench detect`, the zoo experiment.
func newBenchDetectCommand() *cobra.Command {
	o := &benchDetectOptions{format: report.FormatTable, seed: 1, workers: bench.DefaultWorkers}
	c := &cobra.Command{
		Use:   "detect [--seed 1] [--quick] [--format json]",
		Short: "Zoo experiment: detection power and calibration of the auditor against derived and independent suspects",
		Long: `Trains a digits teacher, enrols it (lineage enroll's defaults), then builds
suspects the enrolment never saw, on fresh seeds: 60 derived ones in 15
families (soft KD at T=1,4,10; extraction through noise or mixup queries;
top-2-only and label-only extraction; KD then fine-tuning, int8 or 50%
pruning; a deeper, narrower student; students served at temperature 0.5 or 2
or as labels only) and 240 independent ones in 12 families (20 each: new seeds, other
architectures, the other half of the data, label smoothing, students of other
independent teachers, the teacher's own recipe with another seed, models
trained for a few epochs only, models that answer with labels only, and the
teacher's architecture trained as PyTorch's defaults train it). Every
suspect is fingerprinted through its serving wrapper on the enrolment's suite
and audited; it counts as flagged at α when its combined p-value is ≤ α.

Reports TPR and FPR at α = 0.01 and 0.05 per family and overall, the ROC AUC
of −log10(min p) (also without the derived families that state why they
are beyond a behavioural audit's reach: kd-t1, extract-noise and
extract-label-plain),
queries per audit and wall time — and the same figures for
the mistake-agreement baseline (QuRD/AKH) calibrated against the same null.
Every acceptance criterion the run misses is listed (shortfalls in the JSON);
a family that falls short is named with its median p-value and why.
The full run takes several minutes on 2 cores; --quick is a small smoke run.

--data runs the same experiment on another dataset (any name 'lineage train
--data' takes); the families' reasons were measured on digits and say so.`,
		Example: `  lineage bench detect --seed 1 --format json
  lineage bench detect --quick --format markdown
  lineage bench detect --data fashion-mnist-small --teacher-hidden 128 --format json
  lineage bench detect --teacher-hidden 32,32,32 --teacher-activation tanh --format json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runBenchDetect(c.Context(), c, o) },
	}
	f := c.Flags()
	f.Uint64Var(&o.seed, "seed", 1, "seed of the whole experiment")
	f.BoolVar(&o.quick, "quick", false, "small smoke run: small teacher and enrolment, one suspect in a few families")
	f.IntVar(&o.workers, "workers", bench.DefaultWorkers, "models trained at once")
	f.StringVar(&o.teacherHidden, "teacher-hidden", "", "hidden layers of the teacher, comma-separated (default 256,256; 64,64 with --quick)")
	f.StringVar(&o.teacherActivation, "teacher-activation", "relu", "hidden activation of the teacher: relu, tanh or gelu")
	f.IntVar(&o.controls, "controls", 0, "positive controls of the enrolment (0: enroll's default)")
	f.IntVar(&o.otherTeachers, "other-teachers", 0, "extra independent teachers whose students make the student-of-other negatives (0: 2, 1 with --quick)")
	f.StringVar(&o.data, "data", "digits", "dataset of the teacher, the controls and the zoo (a built-in name or a CSV/IDX path)")
	f.Var(&o.format, "format", formatUsage)
	f.BoolVar(&o.noProgress, "no-progress", false, "never show a progress bar")
	return c
}

func runBenchDetect(ctx context.Context, c *cobra.Command, o *benchDetectOptions) error {
	if o.workers < 1 {
		return usageError{fmt.Errorf("--workers must be at least 1, got %d", o.workers)}
	}
	if o.otherTeachers < 0 {
		return usageError{fmt.Errorf("--other-teachers must not be negative, got %d", o.otherTeachers)}
	}
	if o.controls != 0 && (o.controls < audit.MinControls || o.controls > audit.MaxControls) {
		return usageError{fmt.Errorf("--controls must be 0 (enroll's default) or %d to %d, got %d", audit.MinControls, audit.MaxControls, o.controls)}
	}
	hidden, err := parseLayerSizes("teacher-hidden", o.teacherHidden)
	if err != nil {
		return err
	}
	act, err := model.ParseActivation(o.teacherActivation)
	if err != nil {
		return usageError{fmt.Errorf("--teacher-activation: %w", err)}
	}
	stderr := c.ErrOrStderr()
	data, err := loadDataset(ctx, o.data)
	if err != nil {
		return err
	}
	opts := bench.DetectOptions{Seed: o.seed, Quick: o.quick, Workers: o.workers, TeacherHidden: hidden, TeacherActivation: act, Data: data, OtherTeachers: o.otherTeachers}
	opts.Enroll.Controls = o.controls
	var bar *report.Steps
	if !o.noProgress && isTerminal(stderr) {
		bar = report.NewSteps(stderr, "bench detect", true)
		opts.Progress = bar.Report
	}
	rep, err := bench.Detect(ctx, opts)
	bar.End(err)
	if err != nil {
		return err
	}
	w := c.OutOrStdout()
	if o.format == report.FormatJSON {
		return writeJSON(w, rep)
	}
	return report.RenderAll(w, rep.Tables(), o.format)
}
