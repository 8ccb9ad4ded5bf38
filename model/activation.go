package model

import "math"

// reluForward sets z[i] = max(0, z[i]).
func reluForward(z []float32) {
	for i, v := range z {
		if v < 0 {
			z[i] = 0
		}
	}
}

// reluBackward sets g[i] = 0 where the activation a[i] is not positive.
func reluBackward(g, a []float32) {
	a = a[:len(g)]
	for i, v := range a {
		if v <= 0 {
			g[i] = 0
		}
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
