package audit

import (
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/compare"
)

func TestWorstFamilyP(t *testing.T) {
	// Many easy independent models near 0 and a minority of hard ones (the
	// teacher's recipe with other seeds) near 1.5, with the same spread.
	rng := rand.New(rand.NewPCG(9, 9))
	var null []float64
	var fam []string
	for i := range 40 {
		f, mu := "easy", 0.0
		if i%10 == 0 {
			f, mu = "hard", 1.5
		}
		null = append(null, mu+0.3*rng.NormFloat64())
		fam = append(fam, f)
	}
	x := 1.7 // a typical hard-family model
	p, worst, ok := worstFamilyP(null, fam, x)
	if !ok || worst != "hard" {
		t.Fatalf("worst family = %q (ok %v), want hard", worst, ok)
	}
	if p < 0.1 {
		t.Errorf("p of a typical hard-family score = %g, want large", p)
	}
	pooled, err := compare.Test(colVectors(null), []float64{x}, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !(pooled.P < p) {
		t.Errorf("pooled p %g is not below the worst-family p %g: the test does not show the problem", pooled.P, p)
	}
	if p, _, _ := worstFamilyP(null, fam, 5); p > 1e-4 {
		t.Errorf("p of a score far above every family = %g, want tiny", p)
	}
	// Far out the p-value stays positive and monotone (1 − CDF gave 0
	// below about 1e-16).
	if p1, _, _ := worstFamilyP(null, fam, 10); !(p1 > 0) {
		t.Errorf("p of a score 28 sds above the hard family = %g, want > 0", p1)
	} else if p2, _, _ := worstFamilyP(null, fam, 12); !(p2 > 0 && p2 < p1) {
		t.Errorf("p at 12 = %g, want positive and below p at 10 (%g)", p2, p1)
	}
	if _, _, ok := worstFamilyP([]float64{1, 2}, []string{"a", "b"}, 3); ok {
		t.Error("one model per family: no degrees of freedom, but ok")
	}
	// Degrees of freedom N − F: ok needs at least two.
	for _, tt := range []struct {
		name string
		null []float64
		fam  []string
		want bool
	}{
		{"one degree of freedom", []float64{1, 2, 5}, []string{"a", "a", "b"}, false},
		{"two degrees of freedom", []float64{1, 2, 4, 5}, []string{"a", "a", "b", "b"}, true},
	} {
		if _, _, got := worstFamilyP(tt.null, tt.fam, 3); got != tt.want {
			t.Errorf("%s: ok = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func colVectors(v []float64) [][]float64 {
	out := make([][]float64, len(v))
	for i, x := range v {
		out[i] = []float64{x}
	}
	return out
}
