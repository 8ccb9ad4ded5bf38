package probe

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// BoundaryOptions configures BoundaryProbes. The zero value means the
// defaults.
type BoundaryOptions struct {
	// Margin is the teacher top-2 margin p1−p2 below which a point counts
	// as on the boundary; zero means 0.1.
	Margin float64
	// MaxSteps bounds the bisection steps per pair; zero means 30.
	MaxSteps int
	// Oversample bounds the pairs tried to Oversample·n; zero means 3.
	Oversample int
}

func (o BoundaryOptions) withDefaults() BoundaryOptions {
	if o.Margin <= 0 {
		o.Margin = 0.1
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 30
	}
	if o.Oversample <= 0 {
		o.Oversample = 3
	}
	return o
}

// BoundaryProbes returns up to n points near the teacher's decision
// boundary. It draws pairs (a, b) of rows of d whose teacher top-1 labels
// differ (rand.NewPCG(seed, 3)) and bisects t on the mixup segment
// x(t) = a + t·(b−a): while the teacher still gives x(t) a's label the
// lower end moves up, otherwise the upper end moves down, until the top-2
// margin p1−p2 at the midpoint is below opts.Margin or opts.MaxSteps have
// run. Pairs that reach the margin are kept, in the order drawn, until n
// are found or Oversample·n pairs were tried. Only teacher.Predict is used,
// so any model.Model works; every bisection step is one batched Predict.
// Gen.Settings records "margin", "max_steps", "pairs_tried" and
// "mean_steps". Source holds each pair's first endpoint. When every row
// gets the same label the batch is empty and Gen.Note says why.
func BoundaryProbes(ctx context.Context, teacher model.Model, d *dataset.Dataset, n int, seed uint64, opts BoundaryOptions) (Batch, error) {
	opts = opts.withDefaults()
	gen := Generator{Kind: Boundary, Seed: seed, Settings: map[string]float64{
		"margin": opts.Margin, "max_steps": float64(opts.MaxSteps),
	}}
	D := d.Dim()
	empty := Batch{X: newMatrix(0, D), Gen: gen}
	if n <= 0 || d.Len() < 2 {
		return empty, nil
	}
	p, err := teacher.Predict(ctx, d.X)
	if err != nil {
		return Batch{}, fmt.Errorf("probe: boundary probes: teacher: %w", err)
	}
	top := argmaxRows(p)
	byLabel := map[int][]int{}
	for i, c := range top {
		byLabel[c] = append(byLabel[c], i)
	}
	if len(byLabel) < 2 {
		empty.Gen.Note = "teacher gives every held-out row the same label; no pairs to bisect"
		empty.Gen.Settings["pairs_tried"] = 0
		return empty, nil
	}
	rng := rand.New(rand.NewPCG(seed, streamBoundary))
	N := len(top)
	pick := func() (int, int) {
		a := rng.IntN(N)
		others := N - len(byLabel[top[a]])
		k := rng.IntN(others) // the k-th row, in row order, with another label
		for i, c := range top {
			if c == top[a] {
				continue
			}
			if k == 0 {
				return a, i
			}
			k--
		}
		panic("probe: unreachable")
	}

	budget := opts.Oversample * n
	var kept []int
	var points [][]float32
	tried, steps := 0, 0
	for len(kept) < n && tried < budget {
		want := n - len(kept)
		m := min(want+want/4+1, budget-tried)
		pairs := make([][2]int, m)
		for i := range pairs {
			pairs[i][0], pairs[i][1] = pick()
		}
		tried += m
		res, st, err := bisect(ctx, teacher, d, pairs, top, opts)
		if err != nil {
			return Batch{}, err
		}
		steps += st
		for i, r := range res {
			if r != nil && len(kept) < n {
				kept = append(kept, pairs[i][0])
				points = append(points, r)
			}
		}
	}
	x := newMatrix(len(kept), D)
	for i, r := range points {
		copy(row(x, i), r)
	}
	gen.Count = len(kept)
	gen.Settings["pairs_tried"] = float64(tried)
	gen.Settings["mean_steps"] = float64(steps) / float64(tried)
	if len(kept) < n {
		gen.Note = fmt.Sprintf("found %d of %d boundary points", len(kept), n)
	}
	return Batch{X: x, Source: kept, Gen: gen}, nil
}

// WatermarkMargin is the top-2 margin WatermarkProbes bisect to.
const WatermarkMargin = 0.02

// WatermarkProbes returns up to n points where the teacher's top 2 nearly
// tie (margin below WatermarkMargin) on mixup segments between rows of
// train, the data the teacher was trained on: the kind of input a
// label-only extraction queries, and where a label watermark
// (package watermark) moves the served boundary. They are BoundaryProbes
// on other data with a tighter margin, recorded as kind Watermark with
// the setting "training_data" = 1.
func WatermarkProbes(ctx context.Context, teacher model.Model, train *dataset.Dataset, n int, seed uint64) (Batch, error) {
	b, err := BoundaryProbes(ctx, teacher, train, n, seed, BoundaryOptions{Margin: WatermarkMargin})
	if err != nil {
		return Batch{}, err
	}
	b.Gen.Kind = Watermark
	b.Gen.Settings["training_data"] = 1
	return b, nil
}

// bisect runs the batched bisection for pairs and returns, per pair, the
// boundary point (nil when the margin was never reached) and the total
// number of pair-steps evaluated.
func bisect(ctx context.Context, teacher model.Model, d *dataset.Dataset, pairs [][2]int, top []int, opts BoundaryOptions) ([][]float32, int, error) {
	D := d.Dim()
	lo := make([]float32, len(pairs))
	hi := make([]float32, len(pairs))
	for i := range hi {
		hi[i] = 1
	}
	res := make([][]float32, len(pairs))
	active := make([]int, len(pairs))
	for i := range active {
		active[i] = i
	}
	steps := 0
	for s := 0; s < opts.MaxSteps && len(active) > 0; s++ {
		x := newMatrix(len(active), D)
		for k, i := range active {
			t := (lo[i] + hi[i]) / 2
			a, b := d.Row(pairs[i][0]), d.Row(pairs[i][1])
			r := row(x, k)
			for j := range r {
				r[j] = a[j] + t*(b[j]-a[j])
			}
		}
		p, err := teacher.Predict(ctx, x)
		if err != nil {
			return nil, 0, fmt.Errorf("probe: boundary probes: teacher: %w", err)
		}
		steps += len(active)
		next := active[:0]
		for k, i := range active {
			c, p1, p2 := top2(row(p, k))
			t := (lo[i] + hi[i]) / 2
			switch {
			case float64(p1-p2) < opts.Margin:
				res[i] = append([]float32(nil), row(x, k)...)
				continue
			case c == top[pairs[i][0]]:
				lo[i] = t
			default:
				hi[i] = t
			}
			next = append(next, i)
		}
		active = next
	}
	return res, steps, nil
}
