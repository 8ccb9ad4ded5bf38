package model

import (
	"context"
	"math"
	"testing"
)

// TestPredictPartialNormalization checks the forward pass of a model whose
// normalisation has means only or deviations only (a file may give either,
// see Normalization) against the float64 reference, which applies each
// when present: the fast paths for a missing half must subtract the means
// and divide by the deviations exactly as the full one does.
func TestPredictPartialNormalization(t *testing.T) {
	tests := []struct {
		name              string
		keepMean, keepStd bool
	}{
		{"means only", true, false},
		{"deviations only", false, true},
		{"both", true, true},
		{"neither", false, false},
	}
	for _, tt := range tests {
		rng := testRNG(11)
		m := NewMLP([]int{5, 7, 3}, ActTanh, nil, rng)
		randomize(m, rng)
		if !tt.keepMean {
			m.Norm.Mean = nil
		}
		if !tt.keepStd {
			m.Norm.Std = nil
		}
		x := randMatrix(rng, 9, 5, 2)
		p, err := m.Predict(context.Background(), x)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		theta := toF64(m.Theta)
		for i := 0; i < x.Rows; i++ {
			want := refSoftmax(refLogits(m, theta, toF64(x.Data[i*5:(i+1)*5])))
			for j, w := range want {
				if got := float64(p.Data[i*3+j]); math.Abs(got-w) > 1e-5 {
					t.Fatalf("%s: p[%d,%d] = %v, want %v", tt.name, i, j, got, w)
				}
			}
		}
	}
}
