package probe

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// AttackMode says which adversarial objective AdversarialProbes uses.
type AttackMode string

// The attack modes. The empty AttackMode means AttackBoth.
const (
	// AttackUntargeted ascends the cross-entropy of the teacher's own
	// label for the clean input.
	AttackUntargeted AttackMode = "untargeted"
	// AttackTargeted descends the cross-entropy of the teacher's runner-up
	// class for the clean input.
	AttackTargeted AttackMode = "targeted"
	// AttackBoth alternates: even sources untargeted, odd sources targeted.
	AttackBoth AttackMode = "both"
)

// AdversarialOptions configures AdversarialProbes. The zero value means the
// defaults: a 10-step PGD, eps 0.1 of the range, both modes.
type AdversarialOptions struct {
	// Eps is the L∞ radius as a fraction of the input range hi−lo; zero
	// means 0.1.
	Eps float64
	// Steps is the number of PGD steps; zero means 10. One step with
	// StepSize == Eps is FGSM.
	Steps int
	// StepSize is the per-step move as a fraction of the range; zero means
	// 2.5·Eps/Steps (Madry et al.), or Eps when Steps is 1.
	StepSize float64
	// Mode picks the objective; empty means AttackBoth.
	Mode AttackMode
	// KeepMargin keeps a probe when p(y) − max_{k≠y} p(k) < KeepMargin
	// under the teacher, y being its label for the clean input: negative
	// values mean the label flipped. Zero means 0.2.
	KeepMargin float64
	// Oversample bounds the sources attacked to Oversample·n; zero means 3.
	Oversample int
	// PerFeature takes the range (for eps and clipping) per feature
	// instead of the global dataset.Range.
	PerFeature bool
	// Batch bounds the number of rows attacked together; zero means 256.
	Batch int
}

func (o AdversarialOptions) withDefaults() AdversarialOptions {
	if o.Eps <= 0 {
		o.Eps = 0.1
	}
	if o.Steps <= 0 {
		o.Steps = 10
	}
	if o.StepSize <= 0 {
		o.StepSize = 2.5 * o.Eps / float64(o.Steps)
		if o.Steps == 1 {
			o.StepSize = o.Eps
		}
	}
	if o.Mode == "" {
		o.Mode = AttackBoth
	}
	if o.KeepMargin == 0 {
		o.KeepMargin = 0.2
	}
	if o.Oversample <= 0 {
		o.Oversample = 3
	}
	if o.Batch <= 0 {
		o.Batch = 256
	}
	return o
}

// AdversarialProbes returns up to n adversarial inputs crafted with PGD on
// the teacher's own input gradients (model.MLP.Backward with dX):
//
//	x ← clip(x + α·sign(∇ₓ L)),  projected onto ‖x − x₀‖∞ ≤ ε·r and [lo, hi]
//
// where L is +CE(teacher, y) (untargeted, y the teacher's label for x₀) or
// −CE(teacher, t) (targeted, t the runner-up class for x₀), r = hi − lo and
// α = StepSize·r. Sources are held-out rows of d in an order drawn with
// rand.NewPCG(seed, 4); a probe is kept when the teacher's label flips or
// nearly flips (see KeepMargin), until n are kept or Oversample·n sources
// were attacked. Gen.Settings records "eps", "steps", "step_size",
// "targeted" (share of targeted attacks: 0, 0.5 or 1), "keep_margin",
// "per_feature", "tried" and "flipped". Source holds the clean rows.
func AdversarialProbes(ctx context.Context, teacher *model.MLP, d *dataset.Dataset, n int, seed uint64, opts AdversarialOptions) (Batch, error) {
	opts = opts.withDefaults()
	targeted := 0.5
	switch opts.Mode {
	case AttackUntargeted:
		targeted = 0
	case AttackTargeted:
		targeted = 1
	case AttackBoth:
	default:
		return Batch{}, fmt.Errorf("probe: adversarial probes: unknown attack mode %q", opts.Mode)
	}
	D := d.Dim()
	if len(teacher.Sizes) == 0 || teacher.Sizes[0] != D {
		return Batch{}, fmt.Errorf("probe: adversarial probes: teacher takes %v inputs, data has %d features: %w", teacher.Sizes[:min(1, len(teacher.Sizes))], D, ErrShape)
	}
	per := 0.0
	if opts.PerFeature {
		per = 1
	}
	gen := Generator{Kind: Adversarial, Seed: seed, Settings: map[string]float64{
		"eps": opts.Eps, "steps": float64(opts.Steps), "step_size": opts.StepSize,
		"targeted": targeted, "keep_margin": opts.KeepMargin, "per_feature": per,
	}}
	lo, hi := bounds(d, opts.PerFeature)
	rng := rand.New(rand.NewPCG(seed, streamAdversarial))
	order := rng.Perm(d.Len())
	order = order[:min(len(order), opts.Oversample*max(0, n))]

	var kept []int
	var points [][]float32
	tried, flipped := 0, 0
	a := newAttacker(teacher)
	for start := 0; start < len(order) && len(kept) < n; {
		if err := ctx.Err(); err != nil {
			return Batch{}, err
		}
		// Attack a little more than is still needed, at most opts.Batch.
		want := n - len(kept)
		src := order[start:min(len(order), start+min(opts.Batch, want+want/4+1))]
		res := a.attack(d, src, start, lo, hi, opts)
		start += len(src)
		tried += len(src)
		for i, r := range res {
			if r.margin < 0 {
				flipped++
			}
			if float64(r.margin) < opts.KeepMargin && len(kept) < n {
				kept = append(kept, src[i])
				points = append(points, r.x)
			}
		}
	}
	x := newMatrix(len(kept), D)
	for i, r := range points {
		copy(row(x, i), r)
	}
	gen.Count = len(kept)
	gen.Settings["tried"] = float64(tried)
	gen.Settings["flipped"] = float64(flipped)
	if len(kept) < n {
		gen.Note = fmt.Sprintf("kept %d of %d adversarial probes", len(kept), n)
	}
	return Batch{X: x, Source: kept, Gen: gen}, nil
}

// attacker holds the scratch buffers of one PGD run.
type attacker struct {
	m    *model.MLP
	tape model.Tape
	k    int
}

func newAttacker(m *model.MLP) *attacker {
	return &attacker{m: m, k: m.Sizes[len(m.Sizes)-1]}
}

type attackResult struct {
	x      []float32
	margin float32 // p(y) − max_{k≠y} p(k) after the attack
}

// attack runs PGD on the rows src of d; offset is the position of src[0]
// in the source order, which decides the mode under AttackBoth.
func (a *attacker) attack(d *dataset.Dataset, src []int, offset int, lo, hi []float32, o AdversarialOptions) []attackResult {
	D, k, n := d.Dim(), a.k, len(src)
	x0 := gather(d.X, src)
	x := gather(d.X, src)
	prob := make([]float32, k)

	// Clean labels and targets.
	y := make([]int, n)
	target := make([]int, n)
	sign := make([]float32, n) // +1 ascend CE(target), −1 descend
	logits := a.m.Forward(&a.tape, x0)
	for i := 0; i < n; i++ {
		softmaxInto(prob, row(logits, i))
		y[i] = argmaxExcept(prob, -1)
		targ := o.Mode == AttackTargeted || (o.Mode == AttackBoth && (offset+i)%2 == 1)
		if targ && k > 1 {
			target[i], sign[i] = argmaxExcept(prob, y[i]), -1
		} else {
			target[i], sign[i] = y[i], 1
		}
	}

	eps := make([]float32, D)
	step := make([]float32, D)
	for j := range eps {
		r := float64(hi[j] - lo[j])
		eps[j] = float32(o.Eps * r)
		step[j] = float32(o.StepSize * r)
	}
	dl := newMatrix(n, k)
	dx := newMatrix(n, D)
	for s := 0; s < o.Steps; s++ {
		logits := a.m.Forward(&a.tape, x)
		for i := 0; i < n; i++ {
			g := row(dl, i)
			softmaxInto(g, row(logits, i))
			g[target[i]] -= 1
			for j := range g {
				g[j] *= sign[i]
			}
		}
		a.m.Backward(&a.tape, dl, nil, dx) // input gradients only
		for i := 0; i < n; i++ {
			xr, x0r, gr := row(x, i), row(x0, i), row(dx, i)
			for j, g := range gr {
				v := xr[j]
				switch {
				case g > 0:
					v += step[j]
				case g < 0:
					v -= step[j]
				}
				v = min(max(v, x0r[j]-eps[j]), x0r[j]+eps[j])
				xr[j] = min(max(v, lo[j]), hi[j])
			}
		}
	}
	logits = a.m.Forward(&a.tape, x)
	out := make([]attackResult, n)
	for i := 0; i < n; i++ {
		softmaxInto(prob, row(logits, i))
		other := argmaxExcept(prob, y[i])
		out[i] = attackResult{x: append([]float32(nil), row(x, i)...), margin: prob[y[i]] - prob[other]}
	}
	return out
}

// argmaxExcept returns the arg-max of p over indices other than skip (ties
// to the lowest index); skip −1 excludes nothing. A one-element p with
// skip 0 returns 0.
func argmaxExcept(p []float32, skip int) int {
	best := -1
	for j, v := range p {
		if j != skip && (best < 0 || v > p[best]) {
			best = j
		}
	}
	if best < 0 {
		return 0
	}
	return best
}
