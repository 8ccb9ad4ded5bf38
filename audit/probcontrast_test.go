package audit

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/stat"
)

// blend returns w·a + (1−w)·b row by row.
func blend(w float64, a, b blas32.General) blas32.General {
	out := blas32.General{Rows: a.Rows, Cols: a.Cols, Stride: a.Cols, Data: make([]float32, len(a.Data))}
	for i := range out.Data {
		out.Data[i] = float32(w*float64(a.Data[i]) + (1-w)*float64(b.Data[i]))
	}
	return out
}

// TestProbContrast checks the probability contrast: high for a student
// against independent models, linear in the suspect's
// probabilities (a blended copy keeps its share), and a replica compared
// with the others only.
func TestProbContrast(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	w := newReplicaWorld(rng)
	tq := w.quirks()
	c := replicaCase(w, tq, 8)
	cp := c.contrast()
	if cp == nil {
		t.Fatal("contrast: got no panel, want one")
	}
	f := func(id string, p blas32.General) float64 { return cp.probValue(c.Teacher.P, id, p) }
	var indep []float64
	for range 40 {
		indep = append(indep, f("indep", w.answers(1, []float64{1}, w.quirks())))
	}
	// The independent models' mean is not 0 (it depends on the teacher's
	// and replicas' draws); audits read the contrast against them.
	mean, sd := stat.MeanStdDev(indep, nil)
	student := w.answers(1, []float64{0.6, 0.6}, tq, w.quirks())
	weak := w.answers(3, []float64{1}, w.quirks()) // diffuse
	vs, vw := f("student", student), f("weak", weak)
	if z := (vs - mean) / sd; z < 4 {
		t.Errorf("student: probability contrast z got %.1f, want ≥ 4", z)
	}
	for _, share := range []float64{0.7, 0.5} {
		got := f("blend", blend(share, student, weak))
		if want := share*vs + (1-share)*vw; math.Abs(got-want) > 1e-6*math.Abs(want)+1e-9 {
			t.Errorf("blend at %g: got %.6g, want %.6g (linear)", share, got, want)
		}
	}
	// A replica is contrasted with the other replicas only: its value is
	// ⟨R0, T − mean of the others⟩, computed here directly.
	r0 := c.Controls[0]
	var want float64
	for i := range nProbes {
		for j := range nClasses {
			var m float64
			for _, r := range c.Controls[1:8] {
				m += float64(r.P.Data[i*nClasses+j])
			}
			want += float64(r0.P.Data[i*nClasses+j]) * (float64(c.Teacher.P.Data[i*nClasses+j]) - m/7)
		}
	}
	want /= nProbes
	if got := f(r0.ID, r0.P); math.Abs(got-want) > 1e-9 {
		t.Errorf("replica %s: probability contrast %.9g, want %.9g (against the other 7 replicas)", r0.ID, got, want)
	}
}

// scrambler returns answers that spread their mass over the classes in a
// random order per probe, by a fixed decreasing profile: blended into a
// sharp copy, they set the order of its runner-up classes.
func scrambler(rng *rand.Rand, rows, cols int) blas32.General {
	p := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)}
	var sum float64
	for k := range cols {
		sum += math.Pow(0.7, float64(k))
	}
	for i := range rows {
		for k, j := range rng.Perm(cols) {
			p.Data[i*cols+j] = float32(math.Pow(0.7, float64(k)) / sum)
		}
	}
	return p
}

// TestProbContrastP checks the p-value the clearing rule reads: small for
// a student blended with answers whose spread-out mass sets the order of
// its runner-up classes, rarely small for independent models.
func TestProbContrastP(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	c, w, tq := guardCase(t, rng, 0)
	indep := func() blas32.General { return w.answers(1, []float64{1}, w.quirks()) }
	student := func() blas32.General { return w.answers(1, []float64{0.6, 0.6}, tq, w.quirks()) }
	ref, err := c.reference(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	pOf := func(p blas32.General) float64 {
		v, ok, err := c.probContrastP(ref, &fingerprint.Fingerprint{ID: "suspect", P: p}, agreementSimilarity(c.Teacher.P, p))
		if err != nil || !ok {
			t.Fatalf("probContrastP: %v, ok %v", err, ok)
		}
		return v
	}
	var blends, indeps int
	const n = 20
	for range n {
		b := blend(0.7, student(), scrambler(rng, nProbes, nClasses))
		if pOf(b) <= DefaultClear {
			blends++
		}
		if pOf(indep()) <= DefaultClear {
			indeps++
		}
	}
	if blends < n*3/4 || indeps > 2 {
		t.Errorf("probability-contrast p ≤ %g: %d of %d blended students, %d of %d independent models; want at least %d and at most 2", DefaultClear, blends, n, indeps, n, n*3/4)
	}
	t.Logf("p ≤ %g: %d of %d blended students, %d of %d independent models", DefaultClear, blends, n, indeps, n)
}

// TestSettleProbP checks that a suspect whose probabilities side with the
// teacher is not cleared, and never found DERIVED for it.
func TestSettleProbP(t *testing.T) {
	o := Options{}.withDefaults()
	pf := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		name  string
		probP *float64
		want  Verdict
	}{
		{"not computed", nil, NotDerived},
		{"far from the teacher", pf(0.6), NotDerived},
		{"just above the bound", pf(0.051), NotDerived},
		{"siding with the teacher", pf(0.01), Inconclusive},
	} {
		tr := TeacherResult{PValue: 0.4, PCombined: 0.4, TPR: 0.75, PowerControls: 8, ProbP: tt.probP}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want {
			t.Errorf("%s: verdict %s (%s), want %s", tt.name, tr.Verdict, tr.Reason, tt.want)
		}
		if tt.want == Inconclusive && !strings.Contains(tr.Reason, "its probabilities side with the teacher") {
			t.Errorf("%s: reason %q does not name the probabilities", tt.name, tr.Reason)
		}
	}
	tr := TeacherResult{PValue: 0.2, PCombined: 0.2, TPR: 0.75, PowerControls: 8, ProbP: pf(1e-6)}
	if settle(&tr, o, 1); tr.Verdict == Derived {
		t.Errorf("probability-contrast p 1e-6 alone: verdict DERIVED, want no finding of derivation")
	}
}

// agreeing returns n one-hot rows over 3 classes, the first k of them on
// class 0 (where the teacher of TestResembledUnderTrained answers) and the
// rest on class 1.
func agreeing(n, k int) blas32.General {
	p := blas32.General{Rows: n, Cols: 3, Stride: 3, Data: make([]float32, 3*n)}
	for i := range n {
		if i < k {
			p.Data[3*i] = 1
		} else {
			p.Data[3*i+1] = 1
		}
	}
	return p
}

// TestResembledUnderTrained checks which families of under-trained
// controls a suspect is held to: those whose largest agreement with the
// teacher, plus their spread, it does not exceed.
func TestResembledUnderTrained(t *testing.T) {
	const n = 100
	teacher := agreeing(n, n)
	r := &reference{}
	add := func(id, half, fam string, k int) {
		r.allCtl = append(r.allCtl, store.Control{FP: id, Role: store.RoleNegative, Half: half, Recipe: fam + " epochs=2"})
		r.agree = append(r.agree, agreementSimilarity(teacher, agreeing(n, k)))
		r.cond = append(r.cond, half == store.HalfUnderTrained)
	}
	// Family "weak": agreements 0.50, 0.55, 0.60 (sd 0.05, so up to 0.65);
	// family "less-weak": 0.80, 0.84 (sd ≈ 0.028, up to ≈ 0.868); a trained
	// negative at 0.99 never counts.
	add("w1", store.HalfUnderTrained, "weak", 50)
	add("w2", store.HalfUnderTrained, "weak", 55)
	add("w3", store.HalfUnderTrained, "weak", 60)
	add("l1", store.HalfUnderTrained, "less-weak", 80)
	add("l2", store.HalfUnderTrained, "less-weak", 84)
	add("x", store.HalfCalibration, "trained", 99)
	for _, tt := range []struct {
		k    int
		want []string
	}{
		{40, []string{"less-weak", "weak"}},
		{64, []string{"less-weak", "weak"}},
		{66, []string{"less-weak"}},
		{86, []string{"less-weak"}},
		{87, nil},
		{100, nil},
	} {
		got := resembledUnderTrained(r, agreementSimilarity(teacher, agreeing(n, tt.k)))
		var names []string
		for f := range got {
			names = append(names, f)
		}
		slices.Sort(names)
		if !slices.Equal(names, tt.want) {
			t.Errorf("suspect agreeing on %d of %d: joined %v, want %v", tt.k, n, names, tt.want)
		}
	}
}
