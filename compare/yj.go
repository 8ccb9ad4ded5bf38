package compare

// This file holds the Yeo–Johnson transform used by PredictiveRobust.

import "math"

// yeoJohnson returns the Yeo–Johnson power transform of z:
//
//	ψ(z, λ) = ((z+1)^λ − 1)/λ          z ≥ 0, λ ≠ 0;   log(1+z)   z ≥ 0, λ = 0
//	ψ(z, λ) = −((1−z)^(2−λ) − 1)/(2−λ)  z < 0, λ ≠ 2;   −log(1−z)  z < 0, λ = 2
//
// It is increasing in z for every λ; λ = 1 is the identity and λ < 1
// compresses the upper tail (and stretches the lower one).
func yeoJohnson(z, lambda float64) float64 {
	if z >= 0 {
		if math.Abs(lambda) < 1e-9 {
			return math.Log1p(z)
		}
		return (math.Pow(z+1, lambda) - 1) / lambda
	}
	if math.Abs(lambda-2) < 1e-9 {
		return -math.Log1p(-z)
	}
	return -(math.Pow(1-z, 2-lambda) - 1) / (2 - lambda)
}

// yjLogLik is the Gaussian profile log-likelihood of λ for data z,
//
//	ℓ(λ) = −(n/2)·log σ̂²(λ) + (λ−1)·Σ sign(z_i)·log(1+|z_i|),
//
// where σ̂² is the (biased) variance of the transformed data.
func yjLogLik(z []float64, lambda float64) float64 {
	n := float64(len(z))
	var s, ss, jac float64
	for _, v := range z {
		t := yeoJohnson(v, lambda)
		s += t
		ss += t * t
		if v >= 0 {
			jac += math.Log1p(v)
		} else {
			jac -= math.Log1p(-v)
		}
	}
	mean := s / n
	varr := ss/n - mean*mean
	if !(varr > 0) {
		return math.Inf(-1)
	}
	return -n/2*math.Log(varr) + (lambda-1)*jac
}

// fitYJ returns the maximum-likelihood λ in [lo, hi]: a 17-point grid, then
// golden-section search around the best grid point to a width of 1e-4.
// Deterministic.
func fitYJ(z []float64, lo, hi float64) float64 {
	const grid = 17
	step := (hi - lo) / (grid - 1)
	bk, bv := 0, math.Inf(-1)
	for k := 0; k < grid; k++ {
		if v := yjLogLik(z, lo+float64(k)*step); v > bv {
			bk, bv = k, v
		}
	}
	a := lo + float64(max(bk-1, 0))*step
	b := lo + float64(min(bk+1, grid-1))*step
	const ip = 0.6180339887498949
	x1, x2 := b-ip*(b-a), a+ip*(b-a)
	f1, f2 := yjLogLik(z, x1), yjLogLik(z, x2)
	for b-a > 1e-4 {
		if f1 >= f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - ip*(b-a)
			f1 = yjLogLik(z, x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + ip*(b-a)
			f2 = yjLogLik(z, x2)
		}
	}
	best := lo + float64(bk)*step
	if f1 > bv {
		best, bv = x1, f1
	}
	if f2 > bv {
		best = x2
	}
	return best
}
