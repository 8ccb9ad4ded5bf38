package model

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// TestBackwardFiniteDifferences checks Backward's dTheta and dX against
// central finite differences of a float64 reference forward pass, for the
// loss L = Σ_ij C_ij·logits_ij with fixed random C, with a non-trivial
// normalisation, for each activation.
func TestBackwardFiniteDifferences(t *testing.T) {
	const (
		eps = 1e-5
		tol = 2e-3 // relative, float32 forward/backward against float64 differences
	)
	for _, act := range []Activation{ActReLU, ActTanh, ActGELU} {
		t.Run(string(act), func(t *testing.T) {
			rng := testRNG(11)
			m := NewMLP([]int{4, 6, 5, 3}, act, nil, rng)
			randomize(m, rng)
			const n = 3
			x := randMatrix(rng, n, 4, 1.5)
			c := randMatrix(rng, n, 3, 1)

			var tape Tape
			m.Forward(&tape, x)
			dTheta := make([]float32, len(m.Theta))
			for i := range dTheta {
				dTheta[i] = 0.25 // Backward accumulates: start from a known value
			}
			dX := blas32.General{Rows: n, Cols: 4, Stride: 4, Data: make([]float32, n*4)}
			m.Backward(&tape, c, dTheta, dX)

			theta := toF64(m.Theta)
			loss := func(theta []float64, x []float64) float64 {
				s := 0.0
				for i := 0; i < n; i++ {
					z := refLogits(m, theta, x[i*4:(i+1)*4])
					for j, v := range z {
						s += float64(c.Data[i*3+j]) * v
					}
				}
				return s
			}
			xs := toF64(x.Data)
			check := func(what string, i int, got float64, v []float64) {
				old := v[i]
				v[i] = old + eps
				lp := loss(theta, xs)
				v[i] = old - eps
				lm := loss(theta, xs)
				v[i] = old
				want := (lp - lm) / (2 * eps)
				if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
					t.Errorf("%s[%d] = %.6g, finite difference %.6g", what, i, got, want)
				}
			}
			for i := range theta {
				check("dTheta", i, float64(dTheta[i])-0.25, theta)
			}
			for i := range xs {
				check("dX", i, float64(dX.Data[i]), xs)
			}
		})
	}
}

// TestBackwardWithoutDX checks that skipping dX gives the same dTheta.
func TestBackwardWithoutDX(t *testing.T) {
	rng := testRNG(12)
	m := NewMLP([]int{4, 6, 3}, ActReLU, nil, rng)
	randomize(m, rng)
	x := randMatrix(rng, 5, 4, 1)
	c := randMatrix(rng, 5, 3, 1)
	var tape Tape
	a := make([]float32, len(m.Theta))
	b := make([]float32, len(m.Theta))
	m.Forward(&tape, x)
	m.Backward(&tape, c, a, blas32.General{})
	m.Forward(&tape, x)
	m.Backward(&tape, c, b, blas32.General{Rows: 5, Cols: 4, Stride: 4, Data: make([]float32, 20)})
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("dTheta[%d] = %v without dX, %v with", i, a[i], b[i])
		}
	}
}

// TestBackwardWithoutDTheta checks that Backward with a nil dTheta (input
// gradients only, as the adversarial attacks ask) writes the dX it writes
// when it also accumulates dTheta, bit for bit, for every activation.
func TestBackwardWithoutDTheta(t *testing.T) {
	for _, act := range []Activation{ActReLU, ActTanh, ActGELU} {
		rng := testRNG(13)
		m := NewMLP([]int{9, 40, 17, 3}, act, nil, rng)
		randomize(m, rng)
		x := randMatrix(rng, 11, 9, 1)
		c := randMatrix(rng, 11, 3, 1)
		var tape Tape
		want := blas32.General{Rows: 11, Cols: 9, Stride: 9, Data: make([]float32, 99)}
		got := blas32.General{Rows: 11, Cols: 9, Stride: 9, Data: make([]float32, 99)}
		m.Forward(&tape, x)
		m.Backward(&tape, c, make([]float32, len(m.Theta)), want)
		m.Forward(&tape, x)
		m.Backward(&tape, c, nil, got)
		for i := range want.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Fatalf("%s: dX[%d] = %v with a nil dTheta, %v with one", act, i, got.Data[i], want.Data[i])
			}
		}
	}
}
