package model

import (
	"math"
	"unsafe"
)

// bits views a float32 slice as its IEEE 754 bit patterns.
func bits(f []float32) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(f))), len(f))
}

// reluForward sets z[i] = max(0, z[i]) (negative numbers, including -0,
// become +0; NaN with the sign bit clear stays NaN). It is branch-free:
// signs of pre-activations are unpredictable.
func reluForward(z []float32) {
	zb := bits(z)
	for i, b := range zb {
		zb[i] = b &^ (b >> 31)
	}
}

// reluBackward sets g[i] = 0 where the activation a[i] is not positive,
// branch-free.
func reluBackward(g, a []float32) {
	gb, ab := bits(g), bits(a[:len(g)])
	for i, b := range ab {
		keep := ^(b >> 31) & (-b >> 31) // all ones iff b > 0
		gb[i] &= keep
	}
}

// tanhForward sets z[i] = tanh(z[i]).
func tanhForward(z []float32) {
	for i, v := range z {
		z[i] = float32(math.Tanh(float64(v)))
	}
}

// tanhBackward sets g[i] *= 1 - a[i]², a being the tanh activations.
func tanhBackward(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		g[i] *= 1 - v*v
	}
}

// geluForward sets a[i] = z[i]·Φ(z[i]), Φ the standard normal CDF (exact
// erf form).
func geluForward(a, z []float32) {
	a = a[:len(z)]
	for i, v := range z {
		x := float64(v)
		a[i] = float32(0.5 * x * (1 + math.Erf(x/math.Sqrt2)))
	}
}

// geluBackward sets g[i] *= Φ(z[i]) + z[i]·φ(z[i]), the derivative of x·Φ(x).
func geluBackward(g, z []float32) {
	z = z[:len(g)]
	const invSqrt2Pi = 0.3989422804014327
	for i, v := range z {
		x := float64(v)
		d := 0.5*(1+math.Erf(x/math.Sqrt2)) + x*invSqrt2Pi*math.Exp(-0.5*x*x)
		g[i] = float32(float64(g[i]) * d)
	}
}
