package probe

import (
	"math/rand/v2"
	"slices"

	"github.com/lineage-audit/lineage/dataset"
	"gonum.org/v1/gonum/blas/blas32"
)

// PCG streams, one per generator, so generators sharing a seed still draw
// independent numbers.
const (
	streamData uint64 = iota + 1
	streamNoise
	streamBoundary
	streamAdversarial
	streamMistake
	streamConferrable
)

// DataProbes returns n held-out rows of d, sampled without replacement and
// stratified by class when d is labelled: every class gets
// floor(n·share) rows with the remainders going to the largest fractional
// parts (ties to the lower class index). Rows are returned in ascending
// dataset order; Source holds their indices. n ≥ d.Len() takes every row;
// n ≤ 0 gives an empty batch. The draw uses rand.NewPCG(seed, 1).
func DataProbes(d *dataset.Dataset, n int, seed uint64) Batch {
	n = max(0, min(n, d.Len()))
	rng := rand.New(rand.NewPCG(seed, streamData))
	var idx []int
	if d.Y == nil || n == d.Len() {
		idx = rng.Perm(d.Len())[:n]
	} else {
		idx = stratified(d.Y, len(d.Labels), n, rng)
	}
	slices.Sort(idx)
	return Batch{
		X:      gather(d.X, idx),
		Source: idx,
		Gen:    Generator{Kind: Data, Count: len(idx), Seed: seed},
	}
}

// stratified draws n of the indices of y (class per row, k classes) with
// per-class quotas proportional to the class sizes.
func stratified(y []int, k, n int, rng *rand.Rand) []int {
	byClass := make([][]int, k)
	for i, c := range y {
		byClass[c] = append(byClass[c], i)
	}
	N := len(y)
	quota := make([]int, k)
	frac := make([]float64, k)
	given := 0
	for c, rows := range byClass {
		exact := float64(n) * float64(len(rows)) / float64(N)
		quota[c] = int(exact)
		frac[c] = exact - float64(quota[c])
		given += quota[c]
	}
	order := make([]int, k)
	for c := range order {
		order[c] = c
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case frac[a] > frac[b]:
			return -1
		case frac[a] < frac[b]:
			return 1
		}
		return 0
	})
	for i := 0; given < n; i = (i + 1) % k {
		if c := order[i]; quota[c] < len(byClass[c]) {
			quota[c]++
			given++
		}
	}
	var idx []int
	for c, rows := range byClass {
		perm := rng.Perm(len(rows))
		for _, p := range perm[:quota[c]] {
			idx = append(idx, rows[p])
		}
	}
	return idx
}

// NoiseOptions configures NoiseProbes. The zero value draws every feature
// from the global range of the data.
type NoiseOptions struct {
	// PerFeature draws feature j uniformly from the j-th column's own
	// min/max instead of the global dataset.Range.
	PerFeature bool
}

// NoiseProbes returns n probes whose features are drawn independently and
// uniformly from [lo, hi): the global d.Range() or, with
// opts.PerFeature, each feature's own min/max over d. Source is all -1.
// The draw uses rand.NewPCG(seed, 2).
func NoiseProbes(d *dataset.Dataset, n int, seed uint64, opts NoiseOptions) Batch {
	n = max(0, n)
	lo, hi := bounds(d, opts.PerFeature)
	rng := rand.New(rand.NewPCG(seed, streamNoise))
	x := newMatrix(n, d.Dim())
	src := make([]int, n)
	for i := 0; i < n; i++ {
		r := row(x, i)
		for j := range r {
			r[j] = lo[j] + rng.Float32()*(hi[j]-lo[j])
		}
		src[i] = -1
	}
	per := 0.0
	if opts.PerFeature {
		per = 1
	}
	return Batch{X: x, Source: src, Gen: Generator{Kind: Noise, Count: n, Seed: seed,
		Settings: map[string]float64{"per_feature": per}}}
}

// MixedScaleRatio is the ratio of d's global range to its median feature's
// range (dataset.MedianRange) above which MixedScales reports mixed scales.
const MixedScaleRatio = dataset.MixedScaleRatio

// MixedScales reports whether d's features lie on different scales
// (dataset.MixedScales): its global range (d.Range) exceeds
// MixedScaleRatio times the median range of the features that vary.
// Images (the digits' pixels all span 0–16, a ratio of 1) do not; tabular
// data of unscaled measurements do (the breast cancer data's areas reach
// 4,254 where its median feature spans 0.47, a ratio of 9,100). On such
// data the global range, as a radius or as bounds, puts probes thousands
// of a small feature's standard deviations from any data, where every
// ReLU network's softmax underflows to exact zeros: take each feature's
// own range instead (PerFeature).
func MixedScales(d *dataset.Dataset) bool { return dataset.MixedScales(d) }

// bounds returns per-feature lower and upper input limits: the global
// range of d repeated, or each column's own min/max.
func bounds(d *dataset.Dataset, perFeature bool) (lo, hi []float32) {
	D := d.Dim()
	lo, hi = make([]float32, D), make([]float32, D)
	if !perFeature {
		l, h := d.Range()
		for j := range lo {
			lo[j], hi[j] = l, h
		}
		return lo, hi
	}
	return dataset.FeatureRanges(d)
}

// gather copies the rows idx of x into a new matrix.
func gather(x blas32.General, idx []int) blas32.General {
	out := newMatrix(len(idx), x.Cols)
	for k, i := range idx {
		copy(row(out, k), row(x, i))
	}
	return out
}
