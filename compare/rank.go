package compare

import (
	"math"
	"slices"
)

// RankProfile writes into dst the rank profile of a probability row p: a
// unit vector that depends only on the order of p's entries. With r_j the
// mid-rank of class j counted from the top (0 for the most probable class;
// tied entries share the mean of their positions),
//
//	v_j = −log(1 + r_j),   dst_j = (v_j − v̄) / √(Σ_k (v_k − v̄)²).
//
// The logarithm weighs the order of the leading classes more than that of
// the tail. Because only ranks enter, the profile is unchanged by any
// serving-time rescaling that keeps the order (a temperature, p^(1/T)), and
// the dot product of two profiles is a weighted rank correlation in
// [−1, 1]. A one-hot (label-only) row yields a profile that marks its top
// class alone. A row whose entries all tie has no order: dst is all zero.
// It panics if the lengths differ.
func RankProfile(dst []float64, p []float32) {
	if len(dst) != len(p) {
		panic("compare: RankProfile length mismatch")
	}
	n := len(p)
	if n == 0 {
		return
	}
	var buf [16]int
	idx := buf[:0]
	if n > len(buf) {
		idx = make([]int, 0, n)
	}
	for j := range p {
		idx = append(idx, j)
	}
	// Descending by probability; ties in index order (they share a mid-rank).
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return a - b
	})
	var mean float64
	for s := 0; s < n; {
		e := s + 1
		for e < n && p[idx[e]] == p[idx[s]] {
			e++
		}
		r := float64(s+e-1) / 2
		v := -math.Log1p(r)
		for _, j := range idx[s:e] {
			dst[j] = v
		}
		mean += v * float64(e-s)
		s = e
	}
	mean /= float64(n)
	var ss float64
	for j := range dst {
		dst[j] -= mean
		ss += dst[j] * dst[j]
	}
	if ss == 0 {
		clear(dst)
		return
	}
	inv := 1 / math.Sqrt(ss)
	for j := range dst {
		dst[j] *= inv
	}
}
