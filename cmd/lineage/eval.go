package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/eval"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/report"
	"github.com/spf13/cobra"
)

// evalOptions are the flags of `lineage eval`.
type evalOptions struct {
	data    string
	against string
	format  report.Format
	remote  remoteOptions
}

// newEvalCommand builds `lineage eval`.
func newEvalCommand() *cobra.Command {
	o := &evalOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:     "eval MODEL [--data D] [--against OTHER]",
		Short:   "Evaluate a model on a dataset's test split (accuracy, NLL, calibration, throughput, agreement)",
		Example: `  lineage eval student.lnm --data digits --against teacher.lnm --format json`,
		Args:    exactArgs(1, "MODEL"),
		RunE: func(c *cobra.Command, args []string) error {
			err := runEval(c.Context(), c, o, args[0])
			if le := (*eval.LabelsError)(nil); errors.As(err, &le) && le.Against {
				return err // --label-map reads MODEL alone
			}
			return labelMapHintAs(err, o.remote.labelMap, evalLabelMapHintText)
		},
	}
	f := c.Flags()
	f.StringVar(&o.data, "data", "digits", "dataset whose test split is used")
	f.StringVar(&o.against, "against", "", "another model to measure top-1 agreement with (e.g. the teacher)")
	f.Var(&o.format, "format", formatUsage)
	o.remote.bind(c)
	o.remote.bindLabelMap(c)
	return c
}

// evalReport is the object `lineage eval` prints: eval.Metrics, except
// that the NLL and ECE of a model that answers labels only are null, with
// NoCalibration saying why (as its table says "n/a (labels only)").
type evalReport struct {
	Model               string   `json:"model"`
	TestAccuracy        float64  `json:"test_accuracy"`
	NLL                 *float64 `json:"nll"`
	ECE                 *float64 `json:"ece"`
	Params              int      `json:"params"`
	Throughput          float64  `json:"throughput_samples_per_s"`
	Agreement           *float64 `json:"agreement,omitempty"`
	TeacherTestAccuracy *float64 `json:"teacher_test_accuracy,omitempty"`
	Rows                int      `json:"rows"`
	LabelsOnly          bool     `json:"labels_only,omitempty"`
	NoCalibration       string   `json:"no_calibration,omitempty"`
	// LabelMap is the label map MODEL's labels were read with
	// (--label-map, pairs in the model's order), "" for by their names.
	LabelMap string `json:"label_map,omitempty"`
}

// noCalibration is why eval reports no NLL or ECE for a model that
// answers labels only.
const noCalibration = "every answer was a label (all its probability on one class), as a label-only API gives: NLL would count only a floor per wrong answer and ECE would be the error rate, neither a calibration"

// newEvalReport is the report of met, measured on the model ref.
func newEvalReport(ref string, met eval.Metrics) evalReport {
	r := evalReport{
		Model: remote.StripCredentials(ref), TestAccuracy: met.TestAccuracy, NLL: &met.NLL, ECE: &met.ECE,
		Params: met.Params, Throughput: met.Throughput, Agreement: met.Agreement,
		TeacherTestAccuracy: met.TeacherTestAccuracy, Rows: met.Rows, LabelsOnly: met.LabelsOnly,
	}
	if met.LabelsOnly {
		r.NLL, r.ECE, r.NoCalibration = nil, nil, noCalibration
	}
	return r
}

func runEval(ctx context.Context, c *cobra.Command, o *evalOptions, ref string) error {
	if err := o.remote.check(); err != nil {
		return err
	}
	sp, err := loadSplit(ctx, c.ErrOrStderr(), o.data)
	if err != nil {
		return err
	}
	if err := checkTestSplit(sp, o.data); err != nil {
		return err
	}
	// The remote flags are noted as without effect on a model file
	// when neither MODEL nor --against is a remote model.
	o.remote.remoteInRun = anyRemote(ref, o.against)
	m, closeM, err := o.remote.open(ctx, ref)
	if err != nil {
		return err
	}
	defer closeM()
	var other model.Model
	if o.against != "" {
		a, closeA, err := o.remote.open(ctx, o.against)
		if err != nil {
			return err
		}
		defer closeA()
		other = a
	}
	var suspect model.Model = m
	if lm := o.remote.labelMap; !lm.IsZero() {
		// --label-map reads MODEL alone; --against by its labels' names.
		if suspect, err = model.Relabel(m, lm); err != nil {
			return fmt.Errorf("eval %q: %w", remote.StripCredentials(ref), err)
		}
		fmt.Fprintf(c.ErrOrStderr(), "lineage: %s's labels were read as the dataset's by the label map you stated (--label-map %s), not by their names\n", remote.StripCredentials(ref), lm.Format(m.Info().Labels))
	} else {
		warnReordered(c.ErrOrStderr(), ref, m.Info().Labels, "dataset", sp.Test.Labels)
	}
	if other != nil {
		warnReordered(c.ErrOrStderr(), o.against, other.Info().Labels, "dataset", sp.Test.Labels)
	}
	met, err := eval.Evaluate(ctx, suspect, sp.Test, other)
	if err != nil {
		return err
	}
	r := newEvalReport(ref, met)
	if lm := o.remote.labelMap; !lm.IsZero() {
		r.LabelMap = lm.Format(m.Info().Labels)
	}
	var kv report.KV
	kv.Add("model", report.Text(r.Model))
	if r.LabelMap != "" {
		kv.Add("labels read as", report.Text(r.LabelMap))
	}
	kv.Add("test samples", report.Int(int64(sp.Test.Len())))
	if met.Params > 0 {
		kv.Add("parameters", report.Int(int64(met.Params)))
	} else {
		kv.Add("parameters", report.Text("not known (the model does not say)"))
	}
	kv.Add("test accuracy", report.Float(met.TestAccuracy, 4))
	if r.NLL == nil {
		kv.Add("test NLL", report.Text("n/a (labels only)"))
		kv.Add("test ECE", report.Text("n/a (labels only)"))
	} else {
		kv.Add("test NLL", report.Float(*r.NLL, 4))
		kv.Add("test ECE", report.Float(*r.ECE, 4))
	}
	kv.Add("throughput (samples/s)", report.Float(met.Throughput, 0))
	if met.Agreement != nil {
		kv.Add("top-1 agreement with "+o.against, report.Float(*met.Agreement, 4))
	}
	if met.TeacherTestAccuracy != nil {
		kv.Add("test accuracy of "+o.against, report.Float(*met.TeacherTestAccuracy, 4))
	}
	return printResult(c.OutOrStdout(), o.format, r, kv)
}

// evalLabelMapHintText is labelMapHint's advice for eval's MODEL, whose
// labels --label-map reads as the dataset's.
const evalLabelMapHintText = "; if they are the dataset's classes under other names, state which is which with --label-map MODEL_LABEL=DATASET_LABEL,... (see the README)"
