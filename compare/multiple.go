package compare

import (
	"math"
	"slices"
)

// Holm writes into dst the Holm step-down adjusted p-values of p: with p
// sorted ascending as p_(1) ≤ … ≤ p_(m),
//
//	adj_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j)),
//
// returned in the original order. Rejecting every hypothesis with adj ≤ α
// controls the family-wise error rate at α under any dependence. lineage uses
// it across the teachers one suspect is audited against: "is it a copy of
// any of my m models?" asks m questions, and Holm keeps the chance of any
// false accusation at α while being uniformly more powerful than
// Bonferroni. NaN p-values are treated as 1, and values outside [0, 1]
// as the nearer end. dst may alias p; it panics if the lengths differ.
func Holm(dst, p []float64) {
	if len(dst) != len(p) {
		panic("compare: Holm length mismatch")
	}
	m := len(p)
	idx := order(p)
	vals := sortedCopy(p, idx)
	run := 0.0
	for r, v := range vals {
		a := math.Min(1, float64(m-r)*v)
		run = math.Max(run, a)
		dst[idx[r]] = run
	}
}

// BH writes into dst the Benjamini–Hochberg adjusted p-values (q-values) of
// p: with p sorted ascending as p_(1) ≤ … ≤ p_(m),
//
//	adj_(i) = min_{j ≥ i} min(1, m·p_(j)/j),
//
// returned in the original order. Rejecting every hypothesis with adj ≤ q
// keeps the expected fraction of false discoveries among the rejections
// (the false-discovery rate) at most q when the p-values are independent or
// positively dependent. lineage uses it when screening many suspects
// against a registry, where some false leads are acceptable but their
// proportion must stay bounded. NaN p-values are treated as 1, and values
// outside [0, 1] as the nearer end. dst may alias p; it panics if the
// lengths differ.
func BH(dst, p []float64) {
	if len(dst) != len(p) {
		panic("compare: BH length mismatch")
	}
	m := len(p)
	idx := order(p)
	vals := sortedCopy(p, idx)
	run := 1.0
	for r := m - 1; r >= 0; r-- {
		a := math.Min(1, float64(m)*vals[r]/float64(r+1))
		run = math.Min(run, a)
		dst[idx[r]] = run
	}
}

// order returns the indices of p sorted by ascending p (NaN as 1), stable.
func order(p []float64) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := nanOne(p[a]), nanOne(p[b])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return idx
}

func sortedCopy(p []float64, idx []int) []float64 {
	v := make([]float64, len(p))
	for r, i := range idx {
		v[r] = nanOne(p[i])
	}
	return v
}

// nanOne returns x in [0, 1], NaN as 1.
func nanOne(x float64) float64 {
	if math.IsNaN(x) {
		return 1
	}
	return min(max(x, 0), 1)
}
