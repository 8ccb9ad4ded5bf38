package compare

import (
	"math"
	"testing"
)

func TestHolmBH(t *testing.T) {
	tests := []struct {
		name     string
		p        []float64
		holm, bh []float64
	}{
		{
			// Sorted: .005·5 = .025; .01·4 = .04; .03·3 = .09; .04·2 = .08 → .09 (monotone); .2.
			// BH: .005·5/1 = .025; .01·5/2 = .025; .03·5/3 = .05; .04·5/4 = .05; .2.
			"five", []float64{0.01, 0.04, 0.03, 0.005, 0.2},
			[]float64{0.04, 0.09, 0.09, 0.025, 0.2},
			[]float64{0.025, 0.05, 0.05, 0.025, 0.2},
		},
		{"cap", []float64{0.6, 0.5}, []float64{1, 1}, []float64{0.6, 0.6}},
		// 2·0.6 = 1.2 is capped at 1 before the running maximum.
		{"cap above one", []float64{0.7, 0.6}, []float64{1, 1}, []float64{0.7, 0.7}},
		{"ties", []float64{0.02, 0.02, 0.02}, []float64{0.06, 0.06, 0.06}, []float64{0.02, 0.02, 0.02}},
		{"nan is one", []float64{math.NaN(), 0.01}, []float64{1, 0.02}, []float64{1, 0.02}},
		{"empty", nil, nil, nil},
		// Out of range: the nearer end (BH gave a negative q for -0.1).
		{"out of range", []float64{-0.1, 1.5}, []float64{0, 1}, []float64{0, 1}},
	}
	for _, tt := range tests {
		h := make([]float64, len(tt.p))
		b := make([]float64, len(tt.p))
		Holm(h, tt.p)
		BH(b, tt.p)
		for i := range tt.p {
			if !approx(h[i], tt.holm[i], 1e-12) {
				t.Errorf("%s: Holm = %v, want %v", tt.name, h, tt.holm)
				break
			}
		}
		for i := range tt.p {
			if !approx(b[i], tt.bh[i], 1e-12) {
				t.Errorf("%s: BH = %v, want %v", tt.name, b, tt.bh)
				break
			}
		}
	}
	// dst may alias p.
	p := []float64{0.01, 0.04, 0.03, 0.005, 0.2}
	Holm(p, p)
	if p[1] != 0.09 {
		t.Errorf("aliased Holm = %v", p)
	}
}
