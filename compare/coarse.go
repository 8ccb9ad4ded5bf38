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
