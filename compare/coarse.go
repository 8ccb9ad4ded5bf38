package compare

import (
	"slices"

	"gonum.org/v1/gonum/blas/blas32"
)

// CoarseShare returns the fraction of p's rows that are not full-precision
// probabilities below the top class: rows holding an exact zero, or two
// classes other than the top one with exactly the same probability. A
// float32 softmax gives neither (short of underflow far beyond any
// trained classifier's margins); outputs rounded to a few decimals, or
// flattened below the top class (the top-1 probability kept and the rest
// spread evenly), give them on most rows. On such rows the order and the
// sizes of the runner-up classes — what the replica contrast and residual
// read — are gone or made up. A one-hot row counts (it holds zeros); an
// empty matrix has share 0.
func CoarseShare(p blas32.General) float64 {
	if p.Rows == 0 || p.Cols == 0 {
		return 0
	}
	n := 0
	buf := make([]float32, 0, p.Cols)
	for i := 0; i < p.Rows; i++ {
		if coarseRow(row(p, i), buf) {
			n++
		}
	}
	return float64(n) / float64(p.Rows)
}

// coarseRow reports whether r holds an exact zero or a tie between two
// classes other than its top one (Top1). buf is scratch space of capacity
// len(r): the classes below the top are sorted there, so that a tie shows
// as two neighbours, in O(K log K) for K classes.
func coarseRow(r, buf []float32) bool {
	top := Top1(r)
	rest := buf[:0]
	for j, v := range r {
		if v == 0 {
			return true
		}
		if j != top {
			rest = append(rest, v)
		}
	}
	slices.Sort(rest)
	for k := 1; k < len(rest); k++ {
		if rest[k] == rest[k-1] {
			return true
		}
	}
	return false
}

// MixFloor returns the sum over classes of each class's smallest
// probability over p's rows,
//
//	ε̂ = Σ_j min_i p_ij,
//
// the largest share ε for which every row could be (1−ε)·q_i + ε·r, a mix
// of some distribution q_i with one fixed distribution r over the classes
// (uniform, class priors or any other). Serving p' = (1−ε)·p + ε/K in
// place of a model's p gives ε̂ ≥ ε; a trained classifier's own outputs
// give nearly 0, since each class is all but ruled out on some probe
// (below 0.02 for every control of a digits enrolment, label-smoothed ones
// the highest). Such a floor lifts every class the model rules out to the
// same level, which hides the runner-up sizes the full-output statistics
// read, and leaves the order of the rest. An empty matrix has ε̂ 0. It is
// MixFloorTrim with k = 0.
func MixFloor(p blas32.General) float64 { return MixFloorTrim(p, 0) }

// MixFloorTrim returns the sum over classes of each class's (k+1)-th
// smallest probability over p's rows,
//
//	ε̂_k = Σ_j p_(k+1),j,
//
// MixFloor with the k smallest values of every class left out: a floor
// served on all but k rows (a mix left off a few inputs, so that MixFloor
// finds nothing) still shows in full. k at or above p.Rows, or an empty
// matrix, gives 0; a negative k panics.
func MixFloorTrim(p blas32.General, k int) float64 {
	if k < 0 {
		panic("compare: negative trim")
	}
	if p.Rows == 0 || p.Cols == 0 || k >= p.Rows {
		return 0
	}
	var sum float64
	col := make([]float32, p.Rows)
	for j := 0; j < p.Cols; j++ {
		for i := range col {
			col[i] = p.Data[i*p.Stride+j]
		}
		if k == 0 {
			sum += float64(slices.Min(col))
			continue
		}
		slices.Sort(col)
		sum += float64(col[k])
	}
	return sum
}
