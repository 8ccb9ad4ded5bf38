package probe

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// TargetMode says which target classes ConferrableProbes attacks towards.
type TargetMode string

// The target modes. The empty TargetMode means TargetAll.
const (
	// TargetRunnerUp attacks each source towards the teacher's runner-up
	// class for it.
	TargetRunnerUp TargetMode = "runner-up"
	// TargetRandom attacks each source towards one class drawn uniformly
	// from those the teacher does not predict for it.
	TargetRandom TargetMode = "random"
	// TargetAll attacks each source towards every class the teacher does
	// not predict for it, and keeps the best (at most PerSource per
	// source).
	TargetAll TargetMode = "all"
)

// ConferrableOptions configures ConferrableProbes. The zero value means the
// defaults listed with each field.
type ConferrableOptions struct {
	// Eps is the L∞ radius as a fraction of the input range hi−lo; zero
	// means 0.15.
	Eps float64
	// Steps is the number of PGD steps; zero means 30.
	Steps int
	// StepSize is the per-step move as a fraction of the range; zero means
	// 2.5·Eps/Steps.
	StepSize float64
	// Teacher, Pos and Neg weigh the three terms of the objective (see
	// ConferrableProbes); zero means 1 for Teacher and Pos and 3 for Neg
	// (the best held-out separation measured on digits), and a negative
	// value drops the term.
	Teacher, Pos, Neg float64
	// HardNeg, in [0, 1], mixes the negative term between the mean over
	// the negative controls (0) and the single negative control most
	// likely to predict the target (1), which pushes on the independent
	// model that follows the probe best; zero means 0.5 and a negative
	// value means 0.
	HardNeg float64
	// HardPos, in [0, 1], mixes the positive term the same way between
	// the mean over the positive controls (0) and the positive control
	// least likely to predict the target (1); zero and negative values
	// mean 0.
	HardPos float64
	// Target picks the target classes; empty means TargetAll.
	Target TargetMode
	// PerSource bounds the probes kept per source row; zero means 1.
	PerSource int
	// Oversample bounds the sources attacked to Oversample·n; zero means 3.
	Oversample int
	// MinScore keeps only probes whose conferrability score on the
	// controls (share of positives predicting the target minus share of
	// negatives predicting it) is at least MinScore; zero means any
	// score above −1 and a negative value disables the bound.
	MinScore float64
	// Folds > 1 cross-fits: the controls are dealt into Folds folds
	// (control i to fold i mod Folds, positives and negatives separately),
	// every pair is attacked once per fold with the controls outside that
	// fold, and each result is scored on the fold's own controls only, so
	// a probe's score measures how it transfers to controls it was not
	// optimised against. Zero means 2; 1 attacks and scores with every
	// control. Folds is capped at the smaller number of controls.
	Folds int
	// PerFeature takes the range (for eps and clipping) per feature
	// instead of the global dataset.Range.
	PerFeature bool
	// Batch bounds the number of (source, target) pairs attacked together;
	// zero means 1024. Up to GOMAXPROCS batches are attacked at once, each
	// with buffers of its own (the models' activations on its pairs); the
	// result does not depend on how many.
	Batch int
}

func (o ConferrableOptions) withDefaults() ConferrableOptions {
	if o.Eps <= 0 {
		o.Eps = 0.15
	}
	if o.Steps <= 0 {
		o.Steps = 30
	}
	if o.StepSize <= 0 {
		o.StepSize = 2.5 * o.Eps / float64(o.Steps)
	}
	weight := func(w, def float64) float64 {
		switch {
		case w == 0:
			return def
		case w < 0:
			return 0
		}
		return w
	}
	o.Teacher, o.Pos, o.Neg = weight(o.Teacher, 1), weight(o.Pos, 1), weight(o.Neg, 3)
	switch {
	case o.HardNeg == 0:
		o.HardNeg = 0.5
	case o.HardNeg < 0:
		o.HardNeg = 0
	case o.HardNeg > 1:
		o.HardNeg = 1
	}
	o.HardPos = min(max(o.HardPos, 0), 1)
	if o.Target == "" {
		o.Target = TargetAll
	}
	if o.PerSource <= 0 {
		o.PerSource = 1
	}
	if o.Oversample <= 0 {
		o.Oversample = 3
	}
	if o.Folds <= 0 {
		o.Folds = 2
	}
	if o.Batch <= 0 {
		o.Batch = 1024
	}
	return o
}

// ConferrableProbes returns up to n conferrable adversarial examples
// (Lukas, Zhang & Kerschbaum, "Deep Neural Network Fingerprinting by
// Conferrable Adversarial Examples", ICLR 2021): inputs near held-out rows
// of d that the teacher and its derived models (the positive controls pos)
// label with a target class t while independent models (the negative
// controls neg) do not. Each (source x₀, target t) pair is optimised with
// PGD on the input gradients of every model (model.MLP.Backward with dX),
// ascending
//
//	J(x) = a·log p_T(t|x)
//	     + b·[(1−g)·mean_{P∈pos} log p_P(t|x) + g·log min_{P∈pos} p_P(t|x)]
//	     + c·[(1−h)·mean_{N∈neg} log(1−p_N(t|x)) + h·log(1−max_{N∈neg} p_N(t|x))]
//
// with a, b, c = opts.Teacher, Pos, Neg, g = opts.HardPos and
// h = opts.HardNeg, by
// x ← x + α·sign(∇ₓJ), projected onto ‖x − x₀‖∞ ≤ ε·r and [lo, hi]
// (r = hi − lo, α = StepSize·r). Targets are every class the teacher does
// not predict for x₀, its runner-up, or one drawn at random (opts.Target).
//
// Sources are rows of d in an order drawn with rand.NewPCG(seed, 6), at
// most Oversample·n of them. A result is kept when the teacher's top-1 on
// it is t and its conferrability score — the share of pos predicting t
// minus the share of neg predicting t — is at least MinScore; kept results
// are ranked by that score, then by mean_pos p(t) − mean_neg p(t), then by
// pair order, at most PerSource per source, and the best n are returned in
// rank order. The result depends only on the models, d, n, seed and opts.
//
// Gen.Settings records "eps", "steps", "step_size", the weights "w_teacher",
// "w_pos", "w_neg", "hard_neg", "target" (0 all, 1 runner-up, 2 random),
// "per_source", "per_feature", "min_score", the numbers of controls
// "pos" and "neg", the pairs "tried", "hit" (teacher top-1 is t), the mean
// objective J over the pairs before and after the attack ("objective_start",
// "objective_end") and the mean score of the kept probes ("mean_score").
// Source holds the clean rows. It returns ErrNoControls without a positive
// or a negative control and an error wrapping ErrShape when a model's input
// or output size disagrees with the teacher's or d's.
func ConferrableProbes(ctx context.Context, teacher *model.MLP, pos, neg []*model.MLP, d *dataset.Dataset, n int, seed uint64, opts ConferrableOptions) (Batch, error) {
	opts = opts.withDefaults()
	if len(pos) == 0 || len(neg) == 0 {
		return Batch{}, fmt.Errorf("probe: conferrable probes: %d positive and %d negative controls: %w", len(pos), len(neg), ErrNoControls)
	}
	D := d.Dim()
	k := teacher.Sizes[len(teacher.Sizes)-1]
	for i, m := range append(append([]*model.MLP{teacher}, pos...), neg...) {
		if len(m.Sizes) < 2 || m.Sizes[0] != D || m.Sizes[len(m.Sizes)-1] != k {
			return Batch{}, fmt.Errorf("probe: conferrable probes: model %d (%q) has sizes %v, want %d inputs and %d outputs: %w", i, m.Name, m.Sizes, D, k, ErrShape)
		}
	}
	var target float64
	switch opts.Target {
	case TargetAll:
	case TargetRunnerUp:
		target = 1
	case TargetRandom:
		target = 2
	default:
		return Batch{}, fmt.Errorf("probe: conferrable probes: unknown target mode %q", opts.Target)
	}
	per := 0.0
	if opts.PerFeature {
		per = 1
	}
	gen := Generator{Kind: Conferrable, Seed: seed, Settings: map[string]float64{
		"eps": opts.Eps, "steps": float64(opts.Steps), "step_size": opts.StepSize,
		"w_teacher": opts.Teacher, "w_pos": opts.Pos, "w_neg": opts.Neg, "hard_neg": opts.HardNeg, "hard_pos": opts.HardPos,
		"target": target, "per_source": float64(opts.PerSource), "per_feature": per,
		"min_score": opts.MinScore, "pos": float64(len(pos)), "neg": float64(len(neg)),
	}}
	n = max(0, n)
	lo, hi := bounds(d, opts.PerFeature)
	rng := rand.New(rand.NewPCG(seed, streamConferrable))
	order := rng.Perm(d.Len())
	order = order[:min(len(order), opts.Oversample*n)]

	folds := max(1, min(opts.Folds, len(pos), len(neg)))
	gen.Settings["folds"] = float64(folds)
	res, start, end, err := conferAttacks(ctx, teacher, pos, neg, d, order, rng, folds, opts, lo, hi)
	if err != nil {
		return Batch{}, err
	}
	hit := 0
	var kept []conferResult
	for _, r := range res {
		if !r.hit {
			continue
		}
		hit++
		if opts.MinScore < 0 || (opts.MinScore == 0 && r.score > -1) || (opts.MinScore > 0 && r.score >= opts.MinScore) {
			kept = append(kept, r)
		}
	}
	slices.SortStableFunc(kept, func(a, b conferResult) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(b.soft, a.soft)
	})
	perSrc := map[int]int{}
	var out []conferResult
	var sum float64
	for _, r := range kept {
		if len(out) == n {
			break
		}
		if perSrc[r.src] >= opts.PerSource {
			continue
		}
		perSrc[r.src]++
		out = append(out, r)
		sum += r.score
	}
	x := newMatrix(len(out), D)
	src := make([]int, len(out))
	for i, r := range out {
		copy(row(x, i), r.x)
		src[i] = r.src
	}
	gen.Count = len(out)
	gen.Settings["tried"] = float64(len(res))
	gen.Settings["hit"] = float64(hit)
	if len(res) > 0 {
		gen.Settings["objective_start"] = start / float64(len(res))
		gen.Settings["objective_end"] = end / float64(len(res))
	}
	if len(out) > 0 {
		gen.Settings["mean_score"] = sum / float64(len(out))
	}
	if len(out) < n {
		gen.Note = fmt.Sprintf("kept %d of %d conferrable probes", len(out), n)
	}
	return Batch{X: x, Source: src, Gen: gen}, nil
}
