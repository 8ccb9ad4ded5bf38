package audit

import (
	"context"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestDiscriminantMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := synthCase(t, rng, 6, 24)
	for _, labelOnly := range []bool{false, true} {
		d, err := fitDiscriminant(context.Background(), c, labelOnly)
		if err != nil {
			t.Fatal(err)
		}
		for j, w := range d.W {
			if w < 0 {
				t.Errorf("labelOnly=%v: weight of %s is %g; a negative weight would let lower similarity raise the score", labelOnly, d.Features[j], w)
			}
		}
		v := make([]float64, len(d.W))
		copy(v, d.Mean)
		base := d.Score(v)
		for j := range v {
			v[j] -= d.SD[j]
			if s := d.Score(v); s > base+1e-12 {
				t.Errorf("lowering %s raised the score from %g to %g", d.Features[j], base, s)
			}
			v[j] += d.SD[j]
		}
	}
}

func TestNonNegativeSolve(t *testing.T) {
	// S = I: the unconstrained solution is b itself; negatives are dropped.
	S := mat.NewSymDense(3, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1})
	w, err := nonNegativeSolve(S, []float64{2, -1, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{2, 0, 0.5}; w[0] != want[0] || w[1] != want[1] || w[2] != want[2] {
		t.Errorf("w = %v, want %v", w, want)
	}
	// Correlated features: the unconstrained solution has a negative
	// weight; the constrained one keeps the stronger feature alone.
	S = mat.NewSymDense(2, []float64{1, 0.9, 0.9, 1})
	w, err = nonNegativeSolve(S, []float64{1, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !(w[0] > 0 && w[1] == 0) {
		t.Errorf("w = %v, want the first feature only", w)
	}
}
