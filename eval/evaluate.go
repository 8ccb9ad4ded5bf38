package eval

import (
	"context"
	"fmt"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// LabelsError says that a model Evaluate was given does not list the
// dataset's labels, each once. Against reports that it is the model to
// measure agreement with, not the one evaluated. It matches
// model.ErrLabelNames when the model lists as many labels as the dataset.
type LabelsError struct {
	Model, Dataset string
	Labels, Want   []string // the model's labels, the dataset's
	Against        bool
}

// Error names the model and the dataset, their labels and where they
// first differ.
func (e *LabelsError) Error() string {
	return fmt.Sprintf("evaluate: model %q labels %s do not match dataset %q labels %s (%s)", e.Model, model.LabelList(e.Labels), e.Dataset, model.LabelList(e.Want), model.LabelDiff(e.Labels, e.Want))
}

// Is reports whether target is model.ErrLabelNames and the model lists
// as many labels as the dataset.
func (e *LabelsError) Is(target error) bool {
	return target == model.ErrLabelNames && len(e.Labels) == len(e.Want)
}

// ThroughputBatch is the batch size Evaluate measures throughput with.
const ThroughputBatch = 256

// Metrics are a model's figures on a labelled split. Agreement and
// TeacherTestAccuracy are nil unless Evaluate was given a reference model.
// Params is 0 when the model does not say (model.Info).
type Metrics struct {
	TestAccuracy        float64  `json:"test_accuracy"`
	NLL                 float64  `json:"nll"`
	ECE                 float64  `json:"ece"`
	Params              int      `json:"params"`
	Throughput          float64  `json:"throughput_samples_per_s"`
	Agreement           *float64 `json:"agreement,omitempty"`             // top-1 agreement with against
	TeacherTestAccuracy *float64 `json:"teacher_test_accuracy,omitempty"` // accuracy of against
	Rows                int      `json:"rows"`
	// LabelsOnly reports that every answer was a label (one class at
	// probability 1, see compare.LabelOnly), as a label-only API gives: NLL then counts only the
	// floor's −log NLLFloor per wrong answer and ECE is the error rate,
	// neither the model's own calibration.
	LabelsOnly bool `json:"labels_only,omitempty"`
}

// Evaluate predicts d with m and returns its metrics; when against is not
// nil it is also run on d for Agreement and TeacherTestAccuracy. d must be
// labelled and non-empty (an error wrapping dataset.ErrEmpty otherwise) and
// the models must list d's labels, each once: a model listing them in
// another order (an API that sorts its class names, say) is read with its
// answers aligned to d's by label name (model.InLabelOrder). Throughput is measured on
// a separate timed pass of m over d in batches of ThroughputBatch rows.
func Evaluate(ctx context.Context, m model.Model, d *dataset.Dataset, against model.Model) (Metrics, error) {
	if d == nil || d.Y == nil {
		return Metrics{}, fmt.Errorf("evaluate: dataset has no labels")
	}
	if d.Len() == 0 {
		// Metrics of no rows would read as a model that is always wrong.
		return Metrics{}, fmt.Errorf("evaluate: dataset %q has no rows: %w", d.Name, dataset.ErrEmpty)
	}
	for k, mp := range []*model.Model{&m, &against} {
		mm := *mp
		if mm == nil {
			continue
		}
		info := mm.Info()
		aligned, ok := model.InLabelOrder(mm, d.Labels)
		if !ok {
			return Metrics{}, &LabelsError{Model: info.Name, Dataset: d.Name, Labels: info.Labels, Want: d.Labels, Against: k == 1}
		}
		*mp = aligned
		if info.InputSize != 0 && info.InputSize != d.Dim() {
			return Metrics{}, fmt.Errorf("evaluate: model %q takes %d inputs, dataset %q has %d features: %w", info.Name, info.InputSize, d.Name, d.Dim(), ErrShape)
		}
	}
	// Predictions first: a model that fails, fails there, and its error
	// is not reported as one of the throughput pass.
	p, err := m.Predict(ctx, d.X)
	if err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	if p.Rows != d.Len() || p.Cols != len(d.Labels) {
		return Metrics{}, fmt.Errorf("evaluate: model returned %d×%d for %d rows of %d classes: %w", p.Rows, p.Cols, d.Len(), len(d.Labels), ErrShape)
	}
	tp, err := Throughput(ctx, m, d.X, ThroughputBatch)
	if err != nil {
		return Metrics{}, fmt.Errorf("evaluate: %w", err)
	}
	met := Metrics{
		TestAccuracy: Accuracy(p, d.Y), NLL: NLL(p, d.Y), ECE: ECE(p, d.Y),
		Params: m.Info().Params, Throughput: tp, Rows: d.Len(), LabelsOnly: compare.LabelOnly(p),
	}
	if against != nil {
		q, err := against.Predict(ctx, d.X)
		if err != nil {
			return Metrics{}, fmt.Errorf("evaluate: reference model: %w", err)
		}
		if q.Rows != p.Rows || q.Cols != p.Cols {
			return Metrics{}, fmt.Errorf("evaluate: reference model returned %d×%d: %w", q.Rows, q.Cols, ErrShape)
		}
		ag, ta := Agreement(p, q), Accuracy(q, d.Y)
		met.Agreement, met.TeacherTestAccuracy = &ag, &ta
	}
	return met, nil
}
