package compare

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// MidRanks writes into dst the ranks of x's entries in ascending order,
// counted from 0, with tied entries sharing the mean of their positions
// (mid-ranks). NaN entries are not allowed. It panics if the lengths
// differ.
func MidRanks(dst, x []float64) {
	if len(dst) != len(x) {
		panic("compare: MidRanks length mismatch")
	}
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case x[a] < x[b]:
			return -1
		case x[a] > x[b]:
			return 1
		}
		return a - b
	})
	for s := 0; s < len(idx); {
		e := s + 1
		for e < len(idx) && x[idx[e]] == x[idx[s]] {
			e++
		}
		r := float64(s+e-1) / 2
		for _, i := range idx[s:e] {
			dst[i] = r
		}
		s = e
	}
}

// Spearman returns Spearman's rank correlation of x and y: the Pearson
// correlation of their mid-ranks (MidRanks),
//
//	ρ = Σ_i (r_i − r̄)(s_i − s̄) / √(Σ_i (r_i − r̄)² · Σ_i (s_i − s̄)²).
//
// It depends only on the order of each sample's entries, so it is
// unchanged by any increasing transformation of either. It returns 0
// when either sample has fewer than two distinct values, and panics if
// the lengths differ.
func Spearman(x, y []float64) float64 {
	if len(x) != len(y) {
		panic("compare: Spearman length mismatch")
	}
	if len(x) < 2 {
		return 0
	}
	rx, ry := make([]float64, len(x)), make([]float64, len(y))
	MidRanks(rx, x)
	MidRanks(ry, y)
	r := stat.Correlation(rx, ry, nil)
	if math.IsNaN(r) {
		return 0
	}
	return r
}

// CentredLogFloor is the smallest probability CentredLog takes the
// logarithm of; smaller entries (float32 softmax tails underflow) count as
// this value.
const CentredLogFloor = 1e-30

// CentredLog writes into dst the centred log-probabilities of p,
//
//	a_j = log max(p_j, CentredLogFloor),   dst_j = a_j − (1/n) Σ_k a_k,
//
// the log-ratio coordinates of the distribution. A serving-time
// temperature (p^(1/T), renormalised) multiplies them by 1/T, up to the
// floor. It panics if the lengths differ.
func CentredLog(dst []float64, p []float32) {
	if len(dst) != len(p) {
		panic("compare: CentredLog length mismatch")
	}
	var m float64
	for j, v := range p {
		dst[j] = math.Log(math.Max(float64(v), CentredLogFloor))
		m += dst[j]
	}
	m /= float64(len(p))
	for j := range dst {
		dst[j] -= m
	}
}
