package probe

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
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
	// means 0.25.
	Eps float64
	// Steps is the number of PGD steps; zero means 40.
	Steps int
	// StepSize is the per-step move as a fraction of the range; zero means
	// 2.5·Eps/Steps.
	StepSize float64
	// Teacher, Pos and Neg weigh the three terms of the objective (see
	// ConferrableProbes); zero means 1 each and a negative value drops the
	// term.
	Teacher, Pos, Neg float64
	// HardNeg, in [0, 1], mixes the negative term between the mean over
	// the negative controls (0) and the single negative control most
	// likely to predict the target (1), which pushes on the independent
	// model that follows the probe best; zero means 0.5 and a negative
	// value means 0.
	HardNeg float64
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
	// zero means 1024.
	Batch int
}

func (o ConferrableOptions) withDefaults() ConferrableOptions {
	if o.Eps <= 0 {
		o.Eps = 0.25
	}
	if o.Steps <= 0 {
		o.Steps = 40
	}
	if o.StepSize <= 0 {
		o.StepSize = 2.5 * o.Eps / float64(o.Steps)
	}
	weight := func(w float64) float64 {
		switch {
		case w == 0:
			return 1
		case w < 0:
			return 0
		}
		return w
	}
	o.Teacher, o.Pos, o.Neg = weight(o.Teacher), weight(o.Pos), weight(o.Neg)
	switch {
	case o.HardNeg == 0:
		o.HardNeg = 0.5
	case o.HardNeg < 0:
		o.HardNeg = 0
	case o.HardNeg > 1:
		o.HardNeg = 1
	}
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
//	J(x) = a·log p_T(t|x) + b·mean_{P∈pos} log p_P(t|x)
//	     + c·[(1−h)·mean_{N∈neg} log(1−p_N(t|x)) + h·log(1−max_{N∈neg} p_N(t|x))]
//
// with a, b, c = opts.Teacher, Pos, Neg and h = opts.HardNeg, by
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
		"w_teacher": opts.Teacher, "w_pos": opts.Pos, "w_neg": opts.Neg, "hard_neg": opts.HardNeg,
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
	var res []conferResult
	var start, end float64
	var pairs []conferPair
	for f := range folds {
		// Attack with the controls outside fold f, score on fold f.
		apos, aneg := deal(pos, folds, f, false), deal(neg, folds, f, false)
		spos, sneg := deal(pos, folds, f, true), deal(neg, folds, f, true)
		if folds == 1 {
			apos, aneg, spos, sneg = pos, neg, pos, neg
		}
		c := newConferrer(teacher, apos, aneg, opts, lo, hi)
		if f == 0 {
			var err error
			if pairs, err = c.pairs(ctx, d, order, rng); err != nil {
				return Batch{}, err
			}
		}
		for b := 0; b < len(pairs); b += opts.Batch {
			if err := ctx.Err(); err != nil {
				return Batch{}, err
			}
			chunk := pairs[b:min(len(pairs), b+opts.Batch)]
			r, s, e := c.attack(d, chunk, spos, sneg)
			res = append(res, r...)
			start += s
			end += e
		}
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

// deal returns the models of fold f (in) or of every other fold (!in) when
// ms are dealt into folds round-robin.
func deal(ms []*model.MLP, folds, f int, in bool) []*model.MLP {
	var out []*model.MLP
	for i, m := range ms {
		if (i%folds == f) == in {
			out = append(out, m)
		}
	}
	return out
}

// conferPair is one source row and the class it is attacked towards.
type conferPair struct{ src, target int }

// conferResult is the outcome of attacking one pair.
type conferResult struct {
	src   int
	x     []float32
	hit   bool    // the teacher's top-1 is the target
	score float64 // share of pos predicting the target − share of neg
	soft  float64 // mean_pos p(t) − mean_neg p(t)
}

// conferrer holds the models and scratch buffers of one generation.
type conferrer struct {
	teacher  *model.MLP
	pos, neg []*model.MLP
	o        ConferrableOptions
	lo, hi   []float32
	tapes    []model.Tape // one per model: teacher, pos..., neg...
	dTheta   []float32
	k        int
}

func newConferrer(teacher *model.MLP, pos, neg []*model.MLP, o ConferrableOptions, lo, hi []float32) *conferrer {
	c := &conferrer{teacher: teacher, pos: pos, neg: neg, o: o, lo: lo, hi: hi, k: teacher.Sizes[len(teacher.Sizes)-1]}
	size := 0
	for _, m := range append(append([]*model.MLP{teacher}, pos...), neg...) {
		size = max(size, len(m.Theta))
	}
	c.dTheta = make([]float32, size)
	c.tapes = make([]model.Tape, 1+len(pos)+len(neg))
	return c
}

// pairs lists the (source, target) pairs for the sources order, in source
// order and then ascending target.
func (c *conferrer) pairs(ctx context.Context, d *dataset.Dataset, order []int, rng *rand.Rand) ([]conferPair, error) {
	if len(order) == 0 {
		return nil, nil
	}
	p, err := c.teacher.Predict(ctx, gather(d.X, order))
	if err != nil {
		return nil, fmt.Errorf("probe: conferrable probes: %w", err)
	}
	var out []conferPair
	for i, s := range order {
		pr := row(p, i)
		y := argmaxExcept(pr, -1)
		switch c.o.Target {
		case TargetRunnerUp:
			out = append(out, conferPair{s, argmaxExcept(pr, y)})
		case TargetRandom:
			t := rng.IntN(c.k - 1)
			if t >= y {
				t++
			}
			out = append(out, conferPair{s, t})
		default:
			for t := range c.k {
				if t != y {
					out = append(out, conferPair{s, t})
				}
			}
		}
	}
	return out, nil
}

// probs runs m on x on tape and writes its probabilities into p (x.Rows×k).
func probs(m *model.MLP, tape *model.Tape, x, p blas32.General) {
	logits := m.Forward(tape, x)
	for i := 0; i < x.Rows; i++ {
		softmaxInto(row(p, i), row(logits, i))
	}
}

// objective returns the objective J summed over the rows of x, leaving
// every model's probabilities in ps and its forward pass on its tape
// (teacher, pos..., neg...).
func (c *conferrer) objective(x blas32.General, targets []int, ps []blas32.General) float64 {
	models := c.models()
	for j, m := range models {
		probs(m, &c.tapes[j], x, ps[j])
	}
	var sum float64
	np, nn := len(c.pos), len(c.neg)
	for i, t := range targets {
		lt := math.Log(max(float64(row(ps[0], i)[t]), 1e-30))
		var lp, ln, mx float64
		for j := 1; j <= np; j++ {
			lp += math.Log(max(float64(row(ps[j], i)[t]), 1e-30))
		}
		for j := np + 1; j <= np+nn; j++ {
			q := float64(row(ps[j], i)[t])
			ln += math.Log(max(1-q, 1e-30))
			mx = max(mx, q)
		}
		h := c.o.HardNeg
		sum += c.o.Teacher*lt + c.o.Pos*lp/float64(np) +
			c.o.Neg*((1-h)*ln/float64(nn)+h*math.Log(max(1-mx, 1e-30)))
	}
	return sum
}

func (c *conferrer) models() []*model.MLP {
	return append(append([]*model.MLP{c.teacher}, c.pos...), c.neg...)
}

// attack runs PGD on the pairs and returns the results, scored on the
// controls spos and sneg, and the summed objective before and after.
func (c *conferrer) attack(d *dataset.Dataset, pairs []conferPair, spos, sneg []*model.MLP) (res []conferResult, start, end float64) {
	D, k, n := d.Dim(), c.k, len(pairs)
	src := make([]int, n)
	targets := make([]int, n)
	for i, p := range pairs {
		src[i], targets[i] = p.src, p.target
	}
	x0 := gather(d.X, src)
	x := gather(d.X, src)
	models := c.models()
	np, nn := len(c.pos), len(c.neg)
	ps := make([]blas32.General, len(models))
	for j := range ps {
		ps[j] = newMatrix(n, k)
	}
	eps := make([]float32, D)
	step := make([]float32, D)
	for j := range eps {
		r := float64(c.hi[j] - c.lo[j])
		eps[j] = float32(c.o.Eps * r)
		step[j] = float32(c.o.StepSize * r)
	}
	dl := newMatrix(n, k)
	dx := newMatrix(n, D)
	grad := newMatrix(n, D)
	hardest := make([]int, n)
	start = c.objective(x, targets, ps)
	for s := 0; s < c.o.Steps; s++ {
		if s > 0 {
			c.objective(x, targets, ps) // refresh ps and tapes; the value is not needed
		}
		// The hardest negative per row, for the HardNeg term.
		for i, t := range targets {
			hardest[i] = np + 1
			for j := np + 1; j <= np+nn; j++ {
				if row(ps[j], i)[t] > row(ps[hardest[i]], i)[t] {
					hardest[i] = j
				}
			}
		}
		clear(grad.Data)
		for j, m := range models {
			// dl = −∂J/∂logits (descending −J).
			var w float64
			switch {
			case j == 0:
				w = c.o.Teacher
			case j <= np:
				w = c.o.Pos / float64(np)
			default:
				w = c.o.Neg
			}
			if w == 0 {
				continue
			}
			for i, t := range targets {
				p, g := row(ps[j], i), row(dl, i)
				if j <= np {
					for l, v := range p {
						g[l] = float32(w) * v
					}
					g[t] -= float32(w)
					continue
				}
				// Negative: ∂log(1−p_t)/∂z_l = −p_t(δ_lt − p_l)/(1−p_t).
				wn := (1 - c.o.HardNeg) / float64(nn)
				if j == hardest[i] {
					wn += c.o.HardNeg
				}
				pt := float64(p[t])
				f := float32(w * wn * pt / max(1-pt, 1e-6))
				for l, v := range p {
					g[l] = -f * v
				}
				g[t] += f
			}
			th := c.dTheta[:len(m.Theta)]
			clear(th)
			m.Backward(&c.tapes[j], dl, th, dx)
			for l, v := range dx.Data {
				grad.Data[l] += v
			}
		}
		for i := 0; i < n; i++ {
			xr, x0r, gr := row(x, i), row(x0, i), row(grad, i)
			for j, g := range gr {
				v := xr[j]
				switch {
				case g < 0: // descending −J
					v += step[j]
				case g > 0:
					v -= step[j]
				}
				v = min(max(v, x0r[j]-eps[j]), x0r[j]+eps[j])
				xr[j] = min(max(v, c.lo[j]), c.hi[j])
			}
		}
	}
	end = c.objective(x, targets, ps)
	res = make([]conferResult, n)
	for i, t := range targets {
		top, _, _ := top2(row(ps[0], i))
		res[i] = conferResult{src: src[i], x: append([]float32(nil), row(x, i)...), hit: top == t}
	}
	// Score on the scoring controls.
	p := newMatrix(n, k)
	var tape model.Tape
	for j, m := range append(append([]*model.MLP{}, spos...), sneg...) {
		w := 1 / float64(len(spos))
		if j >= len(spos) {
			w = -1 / float64(len(sneg))
		}
		probs(m, &tape, x, p)
		for i, t := range targets {
			pr := row(p, i)
			if c1, _, _ := top2(pr); c1 == t {
				res[i].score += w
			}
			res[i].soft += w * float64(pr[t])
		}
	}
	return res, start, end
}
