package audit

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/watermark"
)

// Source says which teacher, if any, a recipe learns from.
type Source string

// The sources a recipe can learn from.
const (
	FromLabels  Source = "labels"  // the dataset's true labels: an independent model
	FromTeacher Source = "teacher" // the protected teacher: a derived model
	FromOther   Source = "other"   // an independently trained teacher: derived, but not from this one
)

// Recipe describes how to make one control (or zoo) model. The zero values
// of its numeric fields mean the distill package's defaults.
type Recipe struct {
	Family string `json:"family"` // e.g. "kd-t4", "independent-seed"
	Source Source `json:"source"`
	// Hidden and Activation give the architecture; empty means [64], relu.
	Hidden     []int            `json:"hidden,omitempty"`
	Activation model.Activation `json:"activation,omitempty"`
	// Temperature, Alpha, Loss, Reveal, Transfer and Queries configure the
	// distillation (Source teacher or other).
	Temperature float64 `json:"temperature,omitempty"`
	Alpha       float64 `json:"alpha,omitempty"`
	Loss        string  `json:"loss,omitempty"`
	Reveal      string  `json:"reveal,omitempty"`
	Transfer    string  `json:"transfer,omitempty"`
	Queries     int     `json:"queries,omitempty"`
	Epochs      int     `json:"epochs,omitempty"`
	// LR, WeightDecay and Init configure the training as the distill.Config
	// fields of those names do (zero values: its defaults; WeightDecay < 0
	// means none).
	LR          float64 `json:"lr,omitempty"`
	WeightDecay float64 `json:"weight_decay,omitempty"`
	Init        string  `json:"init,omitempty"`
	// Watermark makes the teacher answer with its watermarked labels
	// (watermark.Serve with the key DeriveKey gives it), as
	// `lineage serve --reveal label` does by default.
	Watermark bool `json:"watermark,omitempty"`
	// Half > 0 trains on only one half (1 or 2) of the training split.
	Half int `json:"half,omitempty"`
	// LabelSmoothing > 0 trains on true labels smoothed by this amount.
	LabelSmoothing float64 `json:"label_smoothing,omitempty"`
	// After is a post-processing step: "finetune" (a few epochs on true
	// labels), "int8" (weights rounded to 8 bits), "prune50" (half the
	// weights zeroed); "" means none.
	After string `json:"after,omitempty"`
	// Serve is a serving-time wrapper: "t0.5", "t2" (rescaled
	// probabilities) or "label" (labels only); "" serves the model as is.
	Serve string `json:"serve,omitempty"`
	// Seed is the model's training seed.
	Seed uint64 `json:"seed"`
	// UnderTrained puts an independent control of an enrolment among the
	// under-trained ones (store.HalfUnderTrained) instead of in one of the
	// two halves: it joins the null of suspects that agree with the
	// teacher no more than such models do (see UnderTrainedControls).
	UnderTrained bool `json:"under_trained,omitempty"`
}

// Derived reports whether models made by r derive from the protected teacher.
func (r Recipe) Derived() bool { return r.Source == FromTeacher }

// String returns a compact one-line description.
func (r Recipe) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s seed=%d hidden=%s", r.Family, r.Seed, hiddenString(r.Hidden))
	if r.Activation != "" {
		fmt.Fprintf(&b, " act=%s", r.Activation)
	}
	if r.Source != FromLabels {
		fmt.Fprintf(&b, " from=%s", r.Source)
		if r.Temperature != 0 {
			fmt.Fprintf(&b, " T=%g", r.Temperature)
		}
		if r.Reveal != "" {
			fmt.Fprintf(&b, " reveal=%s", r.Reveal)
		}
		if r.Transfer != "" {
			fmt.Fprintf(&b, " transfer=%s", r.Transfer)
		}
		if r.Queries != 0 {
			fmt.Fprintf(&b, " queries=%d", r.Queries)
		}
		if r.Watermark {
			b.WriteString(" watermarked")
		}
	}
	if r.Epochs != 0 {
		fmt.Fprintf(&b, " epochs=%d", r.Epochs)
	}
	if r.LR != 0 {
		fmt.Fprintf(&b, " lr=%g", r.LR)
	}
	if r.WeightDecay != 0 {
		fmt.Fprintf(&b, " wd=%g", max(r.WeightDecay, 0))
	}
	if r.Init != "" {
		fmt.Fprintf(&b, " init=%s", r.Init)
	}
	if r.Half != 0 {
		fmt.Fprintf(&b, " half=%d", r.Half)
	}
	if r.LabelSmoothing != 0 {
		fmt.Fprintf(&b, " smoothing=%g", r.LabelSmoothing)
	}
	if r.After != "" {
		fmt.Fprintf(&b, " after=%s", r.After)
	}
	if r.Serve != "" {
		fmt.Fprintf(&b, " serve=%s", r.Serve)
	}
	return b.String()
}

func hiddenString(h []int) string {
	if len(h) == 0 {
		return "64"
	}
	s := make([]string, len(h))
	for i, v := range h {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, ",")
}

// Teachers are the models recipes learn from. Other may be nil when no
// recipe uses FromOther.
type Teachers struct {
	Teacher model.Model
	Other   model.Model
}

// Make trains the model a recipe describes on the training split tr (val,
// when non-nil, is only reported) and applies its post-processing. The
// serving wrapper is not applied here (see Serve).
func Make(ctx context.Context, r Recipe, t Teachers, tr, val *dataset.Dataset) (*model.MLP, error) {
	data := tr
	if r.Half != 0 {
		data = half(tr, r.Half)
	}
	cfg := distill.Config{
		Train: data, Val: val, Name: r.Family,
		Hidden: r.Hidden, Activation: r.Activation, Epochs: r.Epochs, Seed: r.Seed,
		LR: r.LR, WeightDecay: r.WeightDecay, Init: r.Init,
	}
	switch {
	case r.LabelSmoothing > 0:
		cfg.Teacher = newSmoothedLabels(data, r.LabelSmoothing)
		cfg.Temperature, cfg.Alpha, cfg.Transfer = 1, 1, "data"
	case r.Source == FromTeacher || r.Source == FromOther:
		cfg.Teacher = t.Teacher
		if r.Source == FromOther {
			cfg.Teacher = t.Other
		}
		if cfg.Teacher == nil {
			return nil, fmt.Errorf("recipe %s: no %s teacher", r.Family, r.Source)
		}
		if r.Watermark {
			mlp, ok := cfg.Teacher.(*model.MLP)
			if !ok {
				return nil, fmt.Errorf("recipe %s: a watermark needs a native teacher model", r.Family)
			}
			cfg.Teacher = watermark.Serve(mlp, watermark.ForModel(mlp), watermark.DefaultEpsilon)
		}
		cfg.Temperature, cfg.Alpha, cfg.Loss = r.Temperature, r.Alpha, r.Loss
		cfg.Reveal, cfg.Transfer, cfg.Queries = r.Reveal, r.Transfer, r.Queries
		if rv, err := model.ParseReveal(r.Reveal); err == nil && rv.Mode == model.RevealTopK && rv.K >= len(data.Labels) {
			// The top K of at most K classes is the whole answer (the
			// trainer refuses such a K as a misstated full reveal): a
			// two-class teacher's kd-top2-jitter control learns from
			// its full answers, which is what top-2 reveals there.
			cfg.Reveal = "full"
		}
	}
	res, err := distill.Train(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("recipe %s: %w", r, err)
	}
	m := res.Student
	switch r.After {
	case "":
	case "finetune":
		ft, err := distill.Train(ctx, distill.Config{Train: data, Student: m, Epochs: 5, Seed: r.Seed + 1, LR: 1e-3})
		if err != nil {
			return nil, fmt.Errorf("recipe %s: fine-tune: %w", r, err)
		}
		m = ft.Student
	case "int8":
		quantize8(m)
	case "prune50":
		prune(m, 0.5)
	default:
		return nil, fmt.Errorf("recipe %s: unknown post-processing %q", r.Family, r.After)
	}
	m.Name = r.Family
	return m, nil
}

// ServeModel wraps m with the recipe's serving-time behaviour.
func (r Recipe) ServeModel(m model.Model) (model.Model, error) {
	switch r.Serve {
	case "":
		return m, nil
	case "t0.5":
		return model.WithTemperature(m, 0.5), nil
	case "t2":
		return model.WithTemperature(m, 2), nil
	case "label":
		return model.WithReveal(m, model.Reveal{Mode: model.RevealLabel}), nil
	case "top2":
		return model.WithReveal(m, model.Reveal{Mode: model.RevealTopK, K: 2}), nil
	}
	return nil, fmt.Errorf("recipe %s: unknown serving mode %q", r.Family, r.Serve)
}

// half returns the first (h = 1) or second (h = 2) half of d's rows taken
// in a fixed stratified order.
func half(d *dataset.Dataset, h int) *dataset.Dataset {
	byClass := map[int][]int{}
	for i, y := range d.Y {
		byClass[y] = append(byClass[y], i)
	}
	var idx []int
	for c := range len(d.Labels) {
		rows := byClass[c]
		n := len(rows) / 2
		if h == 1 {
			idx = append(idx, rows[:n]...)
		} else {
			idx = append(idx, rows[n:]...)
		}
	}
	slices.Sort(idx)
	return d.Subset(idx)
}

// quantize8 rounds every weight matrix to 8-bit symmetric levels per layer:
// w' = s·round(w/s), s = max|w|/127. Biases are kept.
func quantize8(m *model.MLP) {
	for l := range m.NumLayers() {
		w := m.W(l).Data
		var mx float64
		for _, v := range w {
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		if mx == 0 {
			continue
		}
		s := mx / 127
		for i, v := range w {
			w[i] = float32(s * math.Round(float64(v)/s))
		}
	}
}

// prune zeroes the fraction frac of each weight matrix's entries with the
// smallest magnitudes.
func prune(m *model.MLP, frac float64) {
	for l := range m.NumLayers() {
		w := m.W(l).Data
		mags := make([]float64, len(w))
		for i, v := range w {
			mags[i] = math.Abs(float64(v))
		}
		slices.Sort(mags)
		cut := mags[int(frac*float64(len(mags)))]
		for i, v := range w {
			if math.Abs(float64(v)) < cut {
				w[i] = 0
			}
		}
	}
}

// jitterSeed derives a recipe seed from a base seed and an index.
func jitterSeed(base uint64, i int) uint64 {
	r := rand.New(rand.NewPCG(base, uint64(i)+0x9e3779b97f4a7c15))
	return r.Uint64() % 1_000_000
}
