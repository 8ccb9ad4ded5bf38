package compare

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMidRanks(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		want []float64
	}{
		{"empty", nil, []float64{}},
		{"distinct", []float64{3, 1, 2}, []float64{2, 0, 1}},
		{"ties", []float64{1, 2, 2, 3, 5}, []float64{0, 1.5, 1.5, 3, 4}},
		{"all tied", []float64{7, 7, 7}, []float64{1, 1, 1}},
		{"negative zero ties zero", []float64{math.Copysign(0, -1), 0, -1}, []float64{1.5, 1.5, 0}},
	}
	for _, tt := range tests {
		got := make([]float64, len(tt.x))
		MidRanks(got, tt.x)
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
				break
			}
		}
	}
}

func TestSpearman(t *testing.T) {
	tests := []struct {
		name string
		x, y []float64
		want float64
	}{
		{"identical order", []float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}, 1},
		{"reversed", []float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}, -1},
		// Computed by hand: Pearson's r of the mid-ranks (0,1.5,1.5,3,4) and (1,0,2.5,2.5,4).
		{"ties", []float64{1, 2, 2, 3, 5}, []float64{2, 1, 4, 4, 9}, 0.7631578947368421},
		// No ties: 1 − 6Σd²/(n(n²−1)) = 1 − 6·2/(4·15) = 0.8.
		{"closed form", []float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}, 0.8},
		{"constant", []float64{1, 1, 1}, []float64{1, 2, 3}, 0},
		{"one value", []float64{1}, []float64{2}, 0},
		// Two values are enough: their ranks correlate ±1.
		{"two values", []float64{1, 2}, []float64{5, 9}, 1},
		{"two values reversed", []float64{1, 2}, []float64{9, 5}, -1},
	}
	for _, tt := range tests {
		if got := Spearman(tt.x, tt.y); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: got %.15f, want %.15f", tt.name, got, tt.want)
		}
	}
}

// TestSpearmanMonotone checks that an increasing transformation of either
// sample leaves ρ unchanged.
func TestSpearmanMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float64, 200), make([]float64, 200)
	for i := range x {
		x[i] = rng.NormFloat64()
		y[i] = x[i] + rng.NormFloat64()
	}
	want := Spearman(x, y)
	ex, cy := make([]float64, len(x)), make([]float64, len(y))
	for i := range x {
		ex[i] = math.Exp(x[i])
		cy[i] = y[i]*y[i]*y[i] + 3
	}
	if got := Spearman(ex, cy); math.Abs(got-want) > 1e-12 {
		t.Errorf("after exp and cube: got %.15f, want %.15f", got, want)
	}
	if !(want > 0.5 && want < 0.9) {
		t.Errorf("correlated samples: got %.3f, want in (0.5, 0.9)", want)
	}
}

func TestCentredLog(t *testing.T) {
	p := []float32{0.7, 0.2, 0.1, 0}
	got := make([]float64, len(p))
	CentredLog(got, p)
	var s float64
	for j, v := range got {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("class %d: got %v, want a finite coordinate (a zero counts as the floor)", j, v)
		}
		s += v
	}
	if !(math.Abs(s) <= 1e-9) {
		t.Errorf("sum: got %g, want 0", s)
	}
	if d, want := got[0]-got[1], math.Log(0.7/0.2); math.Abs(d-want) > 1e-6 {
		t.Errorf("log-ratio of classes 0 and 1: got %.9f, want %.9f", d, want)
	}
	if d, want := got[2]-got[3], math.Log(0.1/CentredLogFloor); math.Abs(d-want) > 1e-5 {
		t.Errorf("a zero counts as the floor: got %.6f, want %.6f", d, want)
	}
	// A temperature multiplies the coordinates by 1/T.
	q := []float32{0.5, 0.3, 0.15, 0.05}
	base, hot := make([]float64, 4), make([]float64, 4)
	CentredLog(base, q)
	r := make([]float32, 4)
	for _, T := range []float64{0.5, 2} {
		Rescale(r, q, T)
		CentredLog(hot, r)
		for j := range hot {
			if math.Abs(hot[j]-base[j]/T) > 1e-5 {
				t.Errorf("T=%g: class %d got %.6f, want %.6f", T, j, hot[j], base[j]/T)
			}
		}
	}
}

func FuzzSpearman(f *testing.F) {
	f.Add(1.0, 2.0, 3.0, 3.0, 2.0, 1.0)
	f.Add(0.0, 0.0, 0.0, 1.0, 2.0, 3.0)
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g float64) {
		x, y := []float64{a, b, c}, []float64{d, e, g}
		for _, v := range append(x, y...) {
			if math.IsNaN(v) {
				return
			}
		}
		r := Spearman(x, y)
		if math.IsNaN(r) || r < -1-1e-12 || r > 1+1e-12 {
			t.Fatalf("Spearman(%v, %v) = %v, want in [-1, 1]", x, y, r)
		}
		if s := Spearman(y, x); math.Abs(s-r) > 1e-12 {
			t.Fatalf("not symmetric: %v vs %v", r, s)
		}
	})
}
