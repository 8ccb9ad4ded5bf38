package compare

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestAUC(t *testing.T) {
	tests := []struct {
		name     string
		pos, neg []float64
		want     float64
	}{
		// Pairs won: 3 beats 1,2,2,0 (4); each 2 beats 1,0 and ties 2,2 (3 each); 5 beats all (5): 15/20.
		{"ties", []float64{3, 2, 2, 5}, []float64{1, 2, 2, 0, 4}, 0.75},
		{"perfect", []float64{3, 4}, []float64{1, 2}, 1},
		{"reversed", []float64{1, 2}, []float64{3, 4}, 0},
		{"all tied", []float64{1, 1}, []float64{1}, 0.5},
		{"empty", nil, []float64{1}, math.NaN()},
		{"nan", []float64{math.NaN()}, []float64{1}, math.NaN()},
	}
	for _, tt := range tests {
		if got := AUC(tt.pos, tt.neg); !approx(got, tt.want, 1e-12) {
			t.Errorf("%s: AUC = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRatesOf checks the rates counted from given p-values: a control is
// flagged at p ≤ α (p = α included), TPR counts the positives and FPR the
// negatives, and a role without controls has a NaN rate.
func TestRatesOf(t *testing.T) {
	pos := []float64{0.001, 0.01, 0.02, 0.5}
	neg := []float64{0.01, 0.3, 0.6, 0.9, 1}
	tests := []struct {
		name     string
		pos, neg []float64
		alpha    float64
		tpr, fpr float64
		upper    float64
	}{
		// Clopper–Pearson: one of 5 flagged gives 0.6574, none 1 − 0.05^(1/5).
		{"p = α counts as flagged", pos, neg, 0.01, 0.5, 0.2, 0.657408},
		{"below every negative", pos, neg, 0.005, 0.25, 0, 1 - math.Pow(0.05, 0.2)},
		{"no negatives", pos, nil, 0.05, 0.75, math.NaN(), 1},
		// Every negative flagged: the bound is 1 (Beta(k+1, n−k) has no
		// second parameter left).
		{"every negative flagged", pos, neg, 1, 1, 1, 1},
	}
	for _, tt := range tests {
		got := RatesOf(tt.pos, tt.neg, []float64{tt.alpha})
		if len(got) != 1 || got[0].Alpha != tt.alpha {
			t.Fatalf("%s: RatesOf = %+v, want one rate at α = %g", tt.name, got, tt.alpha)
		}
		if r := got[0]; !approx(r.TPR, tt.tpr, 1e-12) || !approx(r.FPR, tt.fpr, 1e-12) || !approx(r.FPRUpper, tt.upper, 1e-5) {
			t.Errorf("%s: TPR %v, FPR %v, FPRUpper %v; want %v, %v, %v", tt.name, r.TPR, r.FPR, r.FPRUpper, tt.tpr, tt.fpr, tt.upper)
		}
	}
}

func TestCalibrate(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	gen := gaussianGen(2, 0.5)
	neg := make([][]float64, 20)
	for i := range neg {
		neg[i] = gen(rng)
	}
	// Positives: far above the null on both statistics, except the last,
	// which looks like a negative.
	pos := [][]float64{{8, 9}, {7, 10}, {9, 8}, {0, 1}}
	c, err := Calibrate(pos, neg, []float64{0.01, 0.05}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Rates[0].TPR != 0.75 || c.Rates[1].TPR != 0.75 {
		t.Errorf("TPR = %v, %v; want 0.75, 0.75", c.Rates[0].TPR, c.Rates[1].TPR)
	}
	if c.Rates[0].FPR > 0.1 || c.Rates[0].FPRUpper <= c.Rates[0].FPR || c.Rates[0].FPRUpper > 0.35 {
		t.Errorf("Rate[0] = %+v; want small FPR and a sensible upper bound", c.Rates[0])
	}
	// 0 of 20 flagged: one-sided 95 % bound 1 − 0.05^(1/20).
	if fp := countLE(c.NegP, 0.01); fp == 0 && !approx(c.Rates[0].FPRUpper, 1-math.Pow(0.05, 1.0/20), 1e-9) {
		t.Errorf("FPRUpper = %v, want %v", c.Rates[0].FPRUpper, 1-math.Pow(0.05, 1.0/20))
	}
	if c.AUC < 0.7 || c.AUC > 1 {
		t.Errorf("AUC = %v, want in [0.7, 1]", c.AUC)
	}
	if len(c.PosP) != 4 || len(c.NegP) != 20 || c.PosP[0] > 1e-3 {
		t.Errorf("PosP = %v (len %d), NegP len %d", c.PosP, len(c.PosP), len(c.NegP))
	}
	// JSON with no positives: NaN TPR and AUC become null.
	c, err = Calibrate(nil, neg, []float64{0.05}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil || !strings.Contains(string(b), `"tpr":null`) || !strings.Contains(string(b), `"auc":null`) {
		t.Errorf("json = %s, %v; want tpr and auc null", b, err)
	}
	// Too few negatives for leave-one-out.
	if _, err := Calibrate(pos, neg[:3], []float64{0.05}, Options{}); err == nil {
		t.Error("Calibrate with 3 negatives: want an error")
	}
}

func TestNearest(t *testing.T) {
	controls := [][]float64{{0, 0}, {10, 1}, {0, 2}}
	names := []string{"a", "b", "c"}
	// sd of column 0 = 5.7735, column 1 = 1: x=(5, 1.2) is 0.866/… from b
	// in standardised units and nearer c in raw units on column 1.
	tests := []struct {
		x    []float64
		want string
		dist float64
	}{
		{[]float64{9, 1.1}, "b", math.Hypot(1/math.Sqrt(100.0/3), 0.1)},
		{[]float64{0, 1.9}, "c", 0.1},
		{[]float64{math.NaN(), 0.2}, "a", 0.2},
	}
	for _, tt := range tests {
		got := Nearest(controls, names, tt.x)
		if got.Name != tt.want || !approx(got.Distance, tt.dist, 1e-9) {
			t.Errorf("Nearest(%v) = %+v, want %s at %v", tt.x, got, tt.want, tt.dist)
		}
	}
	if got := Nearest(nil, nil, []float64{1}); got.Index != -1 {
		t.Errorf("Nearest(no controls) = %+v, want index -1", got)
	}
	// Equally near controls: the first is named.
	if got := Nearest([][]float64{{1, 1}, {1, 1}, {0, 0}}, []string{"first", "second", "third"}, []float64{1, 1}); got.Name != "first" || got.Index != 0 {
		t.Errorf("Nearest(tie) = %+v, want the first, index 0", got)
	}
	if got := Nearest(controls, nil, []float64{0, 0}); got.Index != 0 || got.Name != "" {
		t.Errorf("Nearest(nil names) = %+v, want index 0, no name", got)
	}
}

// TestCalibrateWiring recomputes what Calibrate reports from its parts:
// each positive's p-value is Test against all negatives, each negative's
// Test against the others (leave-one-out), the rates are RatesOf those
// p-values (FPR over the negatives, TPR over the positives, in counts that
// differ so a swapped denominator shows) and the AUC is AUC of their
// −log10 MinP scores (not of −log10 P). α = 0.5 flags some of both kinds.
func TestCalibrateWiring(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := gaussianGen(2, 0.3)
	neg := make([][]float64, 12)
	for i := range neg {
		neg[i] = gen(rng)
	}
	// The last two positives look like negatives: their combined p-value
	// is capped at 1, as are some negatives', while their MinP differ, so
	// an AUC of −log10 P instead of −log10 MinP would tie them.
	pos := [][]float64{{3, 0}, {0.5, 0.5}, {-1, 2.5}, {0.1, -0.2}, {-1.5, -1.5}}
	alphas := []float64{0.05, 0.5}
	c, err := Calibrate(pos, neg, alphas, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var posS, negS []float64
	for i, x := range pos {
		r, _ := Test(neg, x, Options{})
		if c.PosP[i] != r.P {
			t.Errorf("positive %d: p %v, want Test against all negatives %v", i, c.PosP[i], r.P)
		}
		posS = append(posS, -math.Log10(r.MinP))
	}
	for i, x := range neg {
		rest := append(append([][]float64{}, neg[:i]...), neg[i+1:]...)
		r, _ := Test(rest, x, Options{})
		if c.NegP[i] != r.P {
			t.Errorf("negative %d: p %v, want leave-one-out %v", i, c.NegP[i], r.P)
		}
		negS = append(negS, -math.Log10(r.MinP))
	}
	want := RatesOf(c.PosP, c.NegP, alphas)
	for i, w := range want {
		if g := c.Rates[i]; g != w {
			t.Errorf("rate at α = %g: %+v, want %+v", alphas[i], g, w)
		}
	}
	if fp := countLE(c.NegP, 0.5); fp == 0 || fp == len(neg) {
		t.Errorf("%d of %d negatives flagged at α = 0.5; the test needs some but not all", fp, len(neg))
	}
	if got, w := c.AUC, AUC(posS, negS); got != w {
		t.Errorf("AUC %v, want %v", got, w)
	}
}
