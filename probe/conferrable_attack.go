package probe

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/internal/parallel"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

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

// conferAttacks lists the (source, target) pairs of the sources order and
// attacks each batch of opts.Batch pairs once per fold, with the controls
// outside that fold, scoring on the fold's own (with every control when
// folds is 1). It returns the results in fold order, then pair order, and
// the objective summed over them before and after the attacks, summed
// batch by batch in that order. The batches run on several goroutines
// (parallel.ForEach), each with a conferrer of its own: an attack reads
// the models and d only and draws no random number, so the results and
// their sums are those of a loop over the folds and batches. It returns
// ctx's error when ctx is done before every batch was attacked.
func conferAttacks(ctx context.Context, teacher *model.MLP, pos, neg []*model.MLP, d *dataset.Dataset, order []int, rng *rand.Rand, folds int, o ConferrableOptions, lo, hi []float32) (res []conferResult, start, end float64, err error) {
	type side struct{ apos, aneg, spos, sneg []*model.MLP }
	sides := make([]side, folds)
	for f := range sides {
		sides[f] = side{deal(pos, folds, f, false), deal(neg, folds, f, false), deal(pos, folds, f, true), deal(neg, folds, f, true)}
		if folds == 1 {
			sides[f] = side{pos, neg, pos, neg}
		}
	}
	pairs, err := newConferrer(teacher, sides[0].apos, sides[0].aneg, o, lo, hi).pairs(ctx, d, order, rng)
	if err != nil {
		return nil, 0, 0, err
	}
	type batch struct{ f, b int } // fold, first pair
	var batches []batch
	for f := range folds {
		for b := 0; b < len(pairs); b += o.Batch {
			batches = append(batches, batch{f, b})
		}
	}
	type outcome struct {
		res        []conferResult
		start, end float64
	}
	outs := make([]outcome, len(batches))
	if err := parallel.ForEach(ctx, len(batches), func(i int) {
		s, b := sides[batches[i].f], batches[i].b
		c := newConferrer(teacher, s.apos, s.aneg, o, lo, hi)
		r, st, e := c.attack(d, pairs[b:min(len(pairs), b+o.Batch)], s.spos, s.sneg)
		outs[i] = outcome{r, st, e}
	}); err != nil {
		return nil, 0, 0, err
	}
	for _, out := range outs {
		res = append(res, out.res...)
		start += out.start
		end += out.end
	}
	return res, start, end, nil
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
	k        int
}

func newConferrer(teacher *model.MLP, pos, neg []*model.MLP, o ConferrableOptions, lo, hi []float32) *conferrer {
	c := &conferrer{teacher: teacher, pos: pos, neg: neg, o: o, lo: lo, hi: hi, k: teacher.Sizes[len(teacher.Sizes)-1]}
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
		mn := 1.0
		for j := 1; j <= np; j++ {
			q := float64(row(ps[j], i)[t])
			lp += math.Log(max(q, 1e-30))
			mn = min(mn, q)
		}
		for j := np + 1; j <= np+nn; j++ {
			q := float64(row(ps[j], i)[t])
			ln += math.Log(max(1-q, 1e-30))
			mx = max(mx, q)
		}
		h := c.o.HardNeg
		g := c.o.HardPos
		sum += c.o.Teacher*lt + c.o.Pos*((1-g)*lp/float64(np)+g*math.Log(max(mn, 1e-30))) +
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
	weakest := make([]int, n)
	start = c.objective(x, targets, ps)
	for s := 0; s < c.o.Steps; s++ {
		if s > 0 {
			c.objective(x, targets, ps) // refresh ps and tapes; the value is not needed
		}
		// The hardest negative per row, for the HardNeg term.
		for i, t := range targets {
			weakest[i] = 1
			for j := 2; j <= np; j++ {
				if row(ps[j], i)[t] < row(ps[weakest[i]], i)[t] {
					weakest[i] = j
				}
			}
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
				w = c.o.Pos
			default:
				w = c.o.Neg
			}
			if w == 0 {
				continue
			}
			for i, t := range targets {
				p, g := row(ps[j], i), row(dl, i)
				if j <= np {
					wp := w
					if j > 0 {
						wp = w * (1 - c.o.HardPos) / float64(np)
						if j == weakest[i] {
							wp += w * c.o.HardPos
						}
					}
					for l, v := range p {
						g[l] = float32(wp) * v
					}
					g[t] -= float32(wp)
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
			m.Backward(&c.tapes[j], dl, nil, dx) // input gradients only
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
