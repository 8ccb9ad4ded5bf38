package compare

import (
	"math"
)

// JSDivergence returns the Jensen–Shannon divergence of the distributions p
// and q in bits:
//
//	JS(p, q) = ½ Σ_i p_i log2(p_i/m_i) + ½ Σ_i q_i log2(q_i/m_i),  m = (p+q)/2,
//
// with 0·log 0 = 0. p and q are first divided by their own (float64) sums,
// so rows that are off by float32 rounding are handled; all sums are
// accumulated in float64 and the result is clamped to [0, 1]. It returns NaN
// when either input has a negative or non-finite entry or sums to zero.
// It panics if the lengths differ.
func JSDivergence(p, q []float32) float64 {
	if len(p) != len(q) {
		panic("compare: JSDivergence length mismatch")
	}
	sp, okp := rowSum(p)
	sq, okq := rowSum(q)
	if !okp || !okq {
		return math.NaN()
	}
	var js float64
	for i := range p {
		a := float64(p[i]) / sp
		b := float64(q[i]) / sq
		m := 0.5 * (a + b)
		if a > 0 {
			js += a * math.Log2(a/m)
		}
		if b > 0 {
			js += b * math.Log2(b/m)
		}
	}
	js *= 0.5
	return math.Min(1, math.Max(0, js))
}

// TotalVariation returns the total-variation distance of the
// distributions p and q,
//
//	TV(p, q) = ½ Σ_i |p_i − q_i|,
//
// as given (no normalisation: rows that sum to 1 ± ε may give up to 1 + ε),
// summed in float64. It panics if the lengths differ.
func TotalVariation(p, q []float32) float64 {
	if len(p) != len(q) {
		panic("compare: TotalVariation length mismatch")
	}
	var s float64
	for i := range p {
		s += math.Abs(float64(p[i]) - float64(q[i]))
	}
	return s / 2
}

// KLDivergence returns the Kullback–Leibler divergence of q from p in bits:
//
//	KL(p ‖ q) = Σ_i p_i log2(p_i/q_i),
//
// with 0·log(0/q) = 0 and p_i·log(p_i/0) = +Inf for p_i > 0. Like
// JSDivergence it normalises both inputs by their float64 sums, returns NaN
// for negative, non-finite or all-zero inputs, and clamps tiny negative
// rounding errors to 0. It panics if the lengths differ.
func KLDivergence(p, q []float32) float64 {
	if len(p) != len(q) {
		panic("compare: KLDivergence length mismatch")
	}
	sp, okp := rowSum(p)
	sq, okq := rowSum(q)
	if !okp || !okq {
		return math.NaN()
	}
	var kl float64
	for i := range p {
		a := float64(p[i]) / sp
		if a == 0 {
			continue
		}
		b := float64(q[i]) / sq
		if b == 0 {
			return math.Inf(1)
		}
		kl += a * math.Log2(a/b)
	}
	return math.Max(0, kl)
}

// rowSum returns the float64 sum of p and whether p is a valid (non-negative,
// finite, not all zero) unnormalised distribution.
func rowSum(p []float32) (float64, bool) {
	var s float64
	for _, v := range p {
		f := float64(v)
		if !(f >= 0) || math.IsInf(f, 0) {
			return 0, false
		}
		s += f
	}
	return s, s > 0
}

// Top1 returns the index of the largest entry of p (the predicted label);
// ties go to the lowest index and NaN entries are never chosen. It returns
// -1 for an empty slice or one with no comparable entry.
func Top1(p []float32) int {
	best := -1
	for i, v := range p {
		if v != v {
			continue
		}
		if best < 0 || v > p[best] {
			best = i
		}
	}
	return best
}

// Rescale writes into dst the distribution p rescaled to temperature T:
//
//	dst_i = p_i^(1/T) / Σ_j p_j^(1/T) = softmax(log p / T)_i,
//
// computed in log space with the maximum subtracted, so it neither
// overflows nor underflows; zero entries stay exactly zero (log 0 = −Inf).
// T > 1 flattens p, T < 1 sharpens it, T = 1 only renormalises it. If p has
// no positive finite entry (or a NaN), dst is filled with NaN. dst may alias
// p. It panics if the lengths differ or T is not positive and finite.
func Rescale(dst, p []float32, T float64) {
	if len(dst) != len(p) {
		panic("compare: Rescale length mismatch")
	}
	if !(T > 0) || math.IsInf(T, 0) {
		panic("compare: Rescale temperature must be positive and finite")
	}
	inv := 1 / T
	mx := math.Inf(-1)
	for _, v := range p {
		f := float64(v)
		if f != f || f < 0 || math.IsInf(f, 0) {
			mx = math.NaN()
			break
		}
		if f > 0 {
			mx = math.Max(mx, math.Log(f)*inv)
		}
	}
	if math.IsNaN(mx) || math.IsInf(mx, -1) {
		for i := range dst {
			dst[i] = float32(math.NaN())
		}
		return
	}
	var s float64
	for _, v := range p {
		if v > 0 {
			s += math.Exp(math.Log(float64(v))*inv - mx)
		}
	}
	for i, v := range p {
		if v > 0 {
			dst[i] = float32(math.Exp(math.Log(float64(v))*inv-mx) / s)
		} else {
			dst[i] = 0
		}
	}
}
