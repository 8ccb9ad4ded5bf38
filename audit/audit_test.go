package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/mat"
)

const (
	nProbes  = 120
	nClasses = 5
)

// synthCase builds a case whose controls are synthetic fingerprints: the
// teacher's answers are random; an independent model answers the teacher's
// top-1 label with probability pIndep per probe and a derived one with
// probability pDerived, otherwise a random other label.
func synthCase(t *testing.T, rng *rand.Rand, nPos, nNeg int) *Case {
	t.Helper()
	kinds := make([]probe.Kind, nProbes)
	for i := range kinds {
		switch {
		case i < 80:
			kinds[i] = probe.Mixup
		case i < 100:
			kinds[i] = probe.Data
		default:
			kinds[i] = probe.Mistake
		}
	}
	x := blas32.General{Rows: nProbes, Cols: 2, Stride: 2, Data: make([]float32, 2*nProbes)}
	labels := model.DefaultLabels(nClasses)
	s := &probe.Suite{Name: "synth", Labels: labels, X: x, Kinds: kinds}
	s.Hash = probe.CanonicalHash(s.X, s.Kinds, s.Labels)
	teacher := randomAnswers(rng)
	c := &Case{Suite: s, Teacher: &fingerprint.Fingerprint{ID: "t", Suite: s.Hash, P: teacher},
		Enrolment: &store.Enrolment{Name: "synth", Suite: s.Hash}}
	add := func(role, half string, p float64) {
		fp := &fingerprint.Fingerprint{ID: fmt.Sprintf("%s-%s-%d", role, half, len(c.Controls)), Suite: s.Hash, P: follow(rng, teacher, p)}
		c.Controls = append(c.Controls, fp)
		c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: fp.ID, Role: role, Half: half})
	}
	for _, half := range []string{store.HalfSelection, store.HalfCalibration} {
		for range nPos {
			add(store.RolePositive, half, 0.75+0.1*rng.Float64())
		}
		for range nNeg {
			add(store.RoleNegative, half, 0.35+0.1*rng.Float64())
		}
	}
	return c
}

// auditSuspect audits the answers p, as the suspect called name, against
// c alone.
func auditSuspect(t *testing.T, c *Case, name string, p blas32.General) TeacherResult {
	t.Helper()
	fp := &fingerprint.Fingerprint{ID: name, Suite: c.Suite.Hash, P: p}
	res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, name, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Results[0]
}

func randomAnswers(rng *rand.Rand) blas32.General {
	p := blas32.General{Rows: nProbes, Cols: nClasses, Stride: nClasses, Data: make([]float32, nProbes*nClasses)}
	for i := range nProbes {
		row := p.Data[i*nClasses : (i+1)*nClasses]
		var sum float32
		for j := range row {
			row[j] = rng.Float32() + 0.05
			sum += row[j]
		}
		for j := range row {
			row[j] /= sum
		}
	}
	return p
}

// follow returns answers whose top-1 equals the teacher's with
// probability p on each probe, as soft distributions.
func follow(rng *rand.Rand, teacher blas32.General, p float64) blas32.General {
	out := randomAnswers(rng)
	for i := range nProbes {
		trow := teacher.Data[i*nClasses : (i+1)*nClasses]
		row := out.Data[i*nClasses : (i+1)*nClasses]
		top := model.Argmax(trow)
		target := top
		if rng.Float64() >= p {
			target = (top + 1 + rng.IntN(nClasses-1)) % nClasses
		}
		for j := range row {
			row[j] *= 0.3
		}
		row[target] += 0.7
	}
	return out
}

func TestAuditVerdicts(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	tests := []struct {
		name    string
		suspect blas32.General
		want    Verdict
	}{
		{"copy", follow(rng, c.Teacher.P, 0.9), Derived},
		{"independent", follow(rng, c.Teacher.P, 0.4), NotDerived},
		{"label-only copy", oneHot(follow(rng, c.Teacher.P, 0.9)), Derived},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := auditSuspect(t, c, tt.name, tt.suspect)
			if got.Verdict != tt.want {
				t.Errorf("verdict = %s (p %.3g, reason %q), want %s", got.Verdict, got.PValue, got.Reason, tt.want)
			}
			if got.Statistics[StatScore].P != got.PValue {
				t.Errorf("p_value %g is not the lineage_score's p %g for a single teacher", got.PValue, got.Statistics[StatScore].P)
			}
		})
	}
}

func TestAuditInconclusive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := synthCase(t, rng, 4, 3) // 3 calibration negatives: below DefaultMinNull
	fp := &fingerprint.Fingerprint{ID: "s", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.9)}
	res, err := Audit([]*Case{c, c}, []*fingerprint.Fingerprint{fp, nil}, "s", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res.Results {
		if r.Verdict != Inconclusive || r.Reason == "" {
			t.Errorf("result %d: verdict %s reason %q, want INCONCLUSIVE with a reason", i, r.Verdict, r.Reason)
		}
	}
	other := &fingerprint.Fingerprint{ID: "x", Suite: "another-suite", P: fp.P}
	if _, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{other}, "x", Options{}); err == nil {
		t.Error("auditing a fingerprint of another suite: no error")
	}
}

// TestAuditNearestUndetected checks that a non-significant suspect that
// looks like a derived control the suite itself misses is INCONCLUSIVE, not
// NOT_DERIVED, and that one like an independent control is NOT_DERIVED.
func TestAuditNearestUndetected(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	weak := &fingerprint.Fingerprint{ID: "weak", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.4)}
	c.Controls = append(c.Controls, weak)
	c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: weak.ID, Role: store.RolePositive,
		Half: store.HalfCalibration, Recipe: "weak-copy seed=1"})
	withReport(t, c)
	var negative *fingerprint.Fingerprint
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RoleNegative && ctl.Half == store.HalfCalibration {
			negative = c.Controls[i]
		}
	}
	tests := []struct {
		name     string
		p        blas32.General
		want     Verdict
		nearRole string
	}{
		{"like the missed derived control", weak.P, Inconclusive, store.RolePositive},
		{"like an independent control", negative.P, NotDerived, store.RoleNegative},
	}
	for _, tt := range tests {
		fp := &fingerprint.Fingerprint{ID: "s", Suite: c.Suite.Hash, P: tt.p}
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, "s", Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Results[0]
		if got.Verdict != tt.want || got.Nearest == nil || got.Nearest.Role != tt.nearRole {
			t.Errorf("%s: verdict %s (p %.3g, reason %q, nearest %+v), want %s nearest a %s control",
				tt.name, got.Verdict, got.PValue, got.Reason, got.Nearest, tt.want, tt.nearRole)
		}
		if tt.want == Inconclusive && (got.Nearest.P == nil || *got.Nearest.P <= 0.01) {
			t.Errorf("%s: nearest control's p %v, want one above α", tt.name, got.Nearest.P)
		}
	}
}

// TestNullCalibration audits fresh independent suspects drawn like the
// negatives and checks that the fraction flagged stays within binomial
// slack of α.
func TestNullCalibration(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := synthCase(t, rng, 6, 24)
	const n = 200
	flagged := map[float64]int{}
	for range n {
		fp := &fingerprint.Fingerprint{ID: "n", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.35+0.1*rng.Float64())}
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, "n", Options{})
		if err != nil {
			t.Fatal(err)
		}
		countFlags(flagged, res.Results[0].PValue)
	}
	checkFlagRates(t, flagged, n)
}

// nullAlphas are the levels at which null-calibration tests count flags.
var nullAlphas = []float64{0.01, 0.05, 0.1}

// countFlags adds one to flagged[α] for every level in nullAlphas that p
// reaches.
func countFlags(flagged map[float64]int, p float64) {
	for _, a := range nullAlphas {
		if p <= a {
			flagged[a]++
		}
	}
}

// checkFlagRates fails the test when, at some level α, the fraction of n
// independent suspects flagged exceeds α by more than three binomial
// standard deviations.
func checkFlagRates(t *testing.T, flagged map[float64]int, n int) {
	t.Helper()
	for _, a := range nullAlphas {
		rate := float64(flagged[a]) / float64(n)
		if slack := 3 * math.Sqrt(a*(1-a)/float64(n)); rate > a+slack {
			t.Errorf("α=%g: %d of %d independent suspects flagged (%.3f), above α + 3 sd = %.3f", a, flagged[a], n, rate, a+slack)
		}
	}
}

func TestQuantizeAndPrune(t *testing.T) {
	m := model.NewMLP([]int{6, 8, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	q := m.Clone()
	quantize8(q)
	for l := range q.NumLayers() {
		w, orig := q.W(l).Data, m.W(l).Data
		var mx float64
		for _, v := range orig {
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		levels := map[float32]bool{}
		for i, v := range w {
			levels[v] = true
			if d := math.Abs(float64(v - orig[i])); d > mx/127/2+1e-6 {
				t.Fatalf("layer %d weight %d moved by %g, more than half a step", l, i, d)
			}
		}
		if len(levels) > 255 {
			t.Errorf("layer %d has %d levels, want at most 255", l, len(levels))
		}
	}
	p := m.Clone()
	prune(p, 0.5)
	for l := range p.NumLayers() {
		zero := 0
		for _, v := range p.W(l).Data {
			if v == 0 {
				zero++
			}
		}
		if n := len(p.W(l).Data); zero < n/2-1 || zero > n/2+1 {
			t.Errorf("layer %d: %d of %d weights zero, want half", l, zero, n)
		}
	}
}

func TestSmoothedLabels(t *testing.T) {
	d := dataset.Digits().Subset([]int{0, 1, 2})
	s := newSmoothedLabels(d, 0.1)
	p, err := s.Predict(context.Background(), d.X)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Len() {
		row := p.Data[i*10 : (i+1)*10]
		if got, want := row[d.Y[i]], float32(0.9+0.01); math.Abs(float64(got-want)) > 1e-6 {
			t.Errorf("row %d: p(label) = %v, want %v", i, got, want)
		}
	}
	noise := blas32.General{Rows: 1, Cols: 64, Stride: 64, Data: make([]float32, 64)}
	noise.Data[0] = 123
	if _, err := s.Predict(context.Background(), noise); err == nil {
		t.Error("a row that is not a training row: no error")
	}
}

func TestControlRecipes(t *testing.T) {
	rs := ControlRecipes(4, 1, []int{128}, model.ActReLU)
	pos, neg, under := 0, 0, 0
	seeds := map[uint64]bool{}
	for i, r := range rs {
		switch {
		case r.Derived():
			pos++
		case r.UnderTrained:
			under++
			if r.Epochs == 0 || r.Epochs >= 10 {
				t.Errorf("under-trained recipe %d (%s) trains %d epochs; want an under-trained model", i, r.Family, r.Epochs)
			}
		default:
			neg++
			if under > 0 {
				t.Errorf("recipe %d (%s) follows an under-trained one; they must come last, outside the alternating halves", i, r.Family)
			}
		}
		seeds[r.Seed] = true
	}
	if pos != 4 || neg != 4*NegativesPerPositive || under != UnderTrainedControls(4) {
		t.Errorf("got %d positive, %d negative, %d under-trained recipes; want 4, %d and %d", pos, neg, under, 4*NegativesPerPositive, UnderTrainedControls(4))
	}
	if len(seeds) != len(rs) {
		t.Errorf("%d distinct seeds for %d recipes", len(seeds), len(rs))
	}
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i].Family != rs[i+1].Family {
			t.Errorf("recipes %d and %d are %s and %s; pairs must share a family so both halves get it", i, i+1, rs[i].Family, rs[i+1].Family)
		}
	}
}

// TestPositiveControls checks that PositiveControls counts the positive
// recipes ControlRecipes makes (an odd --controls is rounded up), since
// enroll's rerun check compares it with the stored report.
func TestPositiveControls(t *testing.T) {
	for _, k := range []int{1, 2, 3, 4, 5, 16, 17} {
		pos := 0
		for _, r := range ControlRecipes(k, 1, []int{128}, model.ActReLU) {
			if r.Derived() {
				pos++
			}
		}
		if got := PositiveControls(k); got != pos || got%2 != 0 || got < k {
			t.Errorf("PositiveControls(%d) = %d; ControlRecipes made %d (want equal, even, ≥ k)", k, got, pos)
		}
	}
}

// TestFingerprintIDs checks that EnrollOptions.FingerprintIDs names one
// fingerprint per control ControlRecipes makes, besides the teacher's, as
// Enroll names them: enroll refuses a name whose IDs are taken with it.
func TestFingerprintIDs(t *testing.T) {
	for _, k := range []int{0, 3, 4, 5, 16, 17} {
		ids := EnrollOptions{Controls: k}.FingerprintIDs("acme")
		kk := k
		if kk == 0 {
			kk = DefaultControls
		}
		n := len(ControlRecipes(kk, 1, []int{128}, model.ActReLU))
		if len(ids) != n+1 || NumControls(kk) != n {
			t.Errorf("controls %d: %d IDs, NumControls %d; ControlRecipes made %d controls", k, len(ids), NumControls(kk), n)
			continue
		}
		if ids[0] != "acme/teacher" || ids[1] != "acme/control-00" || ids[n] != ControlID("acme", n-1) {
			t.Errorf("controls %d: IDs %q … %q", k, ids[:2], ids[n])
		}
	}
	if got := (EnrollOptions{Recipes: make([]Recipe, 2)}).FingerprintIDs("b"); len(got) != 3 || got[2] != "b/control-01" {
		t.Errorf("with two recipes: %q", got)
	}
}

func TestDiscriminantMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := synthCase(t, rng, 6, 24)
	for _, labelOnly := range []bool{false, true} {
		d, err := fitDiscriminant(c, labelOnly)
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
}

func colVectors(v []float64) [][]float64 {
	out := make([][]float64, len(v))
	for i, x := range v {
		out[i] = []float64{x}
	}
	return out
}

// TestLabelOnlyReference checks that a reference fingerprinted through a
// label-only endpoint joins the null of label-only suspects only: a
// full-output suspect's audit is the same with or without it, a
// label-only suspect's null counts it.
func TestLabelOnlyReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	base := synthCase(t, rng, 6, 24)
	withReport(t, base)
	soft := follow(rng, base.Teacher.P, 0.5)
	labels := oneHot(follow(rng, base.Teacher.P, 0.5))
	ref := &fingerprint.Fingerprint{ID: "ref", Suite: base.Suite.Hash, P: oneHot(follow(rng, base.Teacher.P, 0.4))}
	e := *base.Enrolment
	e.Controls = append(append([]store.Control(nil), base.Enrolment.Controls...), store.Control{FP: ref.ID, Role: store.RoleReference})
	withRef := Case{Enrolment: &e, Suite: base.Suite, Teacher: base.Teacher,
		Controls: append(append([]*fingerprint.Fingerprint(nil), base.Controls...), ref)}
	for _, tt := range []struct {
		name      string
		p         blas32.General
		wantExtra int
	}{{"full output", soft, 0}, {"label only", labels, 1}} {
		without := auditSuspect(t, base, tt.name, tt.p)
		with := auditSuspect(t, &withRef, tt.name, tt.p)
		if got := with.NullSize - without.NullSize; got != tt.wantExtra {
			t.Errorf("%s suspect: null size %d with the label-only reference, %d without; want %d more", tt.name, with.NullSize, without.NullSize, tt.wantExtra)
		}
		// Case.NullSize, which reference add and report print, counts
		// the null the audit uses.
		lo := tt.wantExtra == 1
		if got := withRef.NullSize(lo); got != with.NullSize {
			t.Errorf("%s suspect: Case.NullSize(%v) = %d with the reference, the audit's null has %d", tt.name, lo, got, with.NullSize)
		}
		if got := base.NullSize(lo); got != without.NullSize {
			t.Errorf("%s suspect: Case.NullSize(%v) = %d without the reference, the audit's null has %d", tt.name, lo, got, without.NullSize)
		}
		// (Clearing a full-output suspect also reads the audit of its
		// labels, whose null does count the reference: the verdict may
		// differ only when that p-value does.)
		sameLabels := (with.LabelsP == nil) == (without.LabelsP == nil) && (with.LabelsP == nil || *with.LabelsP == *without.LabelsP)
		if tt.wantExtra == 0 && (with.PValue != without.PValue || (sameLabels && with.Verdict != without.Verdict)) {
			t.Errorf("%s suspect: p %g (%s) with the label-only reference, %g (%s) without; want the same", tt.name, with.PValue, with.Verdict, without.PValue, without.Verdict)
		}
	}
}

// TestAuditLeavesSelfOut checks that a suspect is never part of its own
// null: a reference or negative control with the suspect's outputs (under
// its ID or another) is left out and named in LeftOut,
// so a copy added as a "reference" does not clear itself.
func TestAuditLeavesSelfOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	base := synthCase(t, rng, 6, 24)
	withReport(t, base)
	student := follow(rng, base.Teacher.P, 0.9)
	if got := auditSuspect(t, base, "stud", student); got.Verdict != Derived || len(got.LeftOut) != 0 {
		t.Fatalf("student before: got %s (p %g), left out %v; want DERIVED, none left out", got.Verdict, got.PValue, got.LeftOut)
	}
	ref := &fingerprint.Fingerprint{ID: "stud", Suite: base.Suite.Hash, P: student}
	e := *base.Enrolment
	e.Controls = append(append([]store.Control(nil), base.Enrolment.Controls...), store.Control{FP: ref.ID, Role: store.RoleReference})
	c := &Case{Enrolment: &e, Suite: base.Suite, Teacher: base.Teacher,
		Controls: append(append([]*fingerprint.Fingerprint(nil), base.Controls...), ref)}
	for _, name := range []string{"stud", "same-outputs"} {
		got := auditSuspect(t, c, name, student)
		if got.Verdict != Derived || !slices.Equal(got.LeftOut, []string{"stud"}) || got.NullSize != len(c.Enrolment.Controls)-1-countRole(c, store.RolePositive)-countHalf(c, store.HalfSelection, store.RoleNegative) {
			t.Errorf("%s with itself as a reference: got %s (p %g), null %d, left out %v; want DERIVED, the reference left out", name, got.Verdict, got.PValue, got.NullSize, got.LeftOut)
		}
		if got.Nearest != nil && got.Nearest.FP == "stud" {
			t.Errorf("%s: nearest control is the suspect itself", name)
		}
	}
	other := follow(rng, base.Teacher.P, 0.9)
	for _, name := range []string{"other", "stud"} {
		// A name is only a label: another model called "stud" is not the
		// reference stud.
		if got := auditSuspect(t, c, name, other); len(got.LeftOut) != 0 {
			t.Errorf("another student named %s: left out %v, want none", name, got.LeftOut)
		}
	}
	for i, ctl := range base.Enrolment.Controls {
		if ctl.Role == store.RoleNegative && ctl.Half == store.HalfCalibration {
			got := auditSuspect(t, base, "copy-of-negative", base.Controls[i].P)
			if !slices.Equal(got.LeftOut, []string{ctl.FP}) {
				t.Errorf("a negative control's outputs audited: left out %v, want %s", got.LeftOut, ctl.FP)
			}
			break
		}
	}
}

func countRole(c *Case, role string) int {
	n := 0
	for _, ctl := range c.Enrolment.Controls {
		if ctl.Role == role {
			n++
		}
	}
	return n
}

func countHalf(c *Case, half, role string) int {
	n := 0
	for _, ctl := range c.Enrolment.Controls {
		if ctl.Role == role && ctl.Half == half {
			n++
		}
	}
	return n
}

// TestRoleValues checks that RoleValues splits the null of full-output
// audits into negative controls and references, leaves label-only
// references out, and agrees with ControlValues.
func TestRoleValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	base := synthCase(t, rng, 6, 24)
	withReport(t, base)
	soft := &fingerprint.Fingerprint{ID: "soft-ref", Suite: base.Suite.Hash, P: follow(rng, base.Teacher.P, 0.4)}
	label := &fingerprint.Fingerprint{ID: "label-ref", Suite: base.Suite.Hash, P: oneHot(follow(rng, base.Teacher.P, 0.4))}
	e := *base.Enrolment
	e.Controls = append(append([]store.Control(nil), base.Enrolment.Controls...),
		store.Control{FP: soft.ID, Role: store.RoleReference}, store.Control{FP: label.ID, Role: store.RoleReference})
	c := Case{Enrolment: &e, Suite: base.Suite, Teacher: base.Teacher,
		Controls: append(append([]*fingerprint.Fingerprint(nil), base.Controls...), soft, label)}
	by, err := c.RoleValues(StatScore)
	if err != nil {
		t.Fatal(err)
	}
	baseBy, err := base.RoleValues(StatScore)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(by[store.RoleReference]), 1; got != want {
		t.Errorf("references: got %d values, want %d (the label-only one left out)", got, want)
	}
	if _, ok := baseBy[store.RoleReference]; ok {
		t.Errorf("no references: got a %q key", store.RoleReference)
	}
	if got, want := len(by[store.RoleNegative]), len(baseBy[store.RoleNegative]); got != want || want == 0 {
		t.Errorf("negatives: got %d values, want %d (> 0)", got, want)
	}
	null, pos, err := c.ControlValues(StatScore)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(null), len(by[store.RoleNegative])+1; got != want {
		t.Errorf("ControlValues null: got %d values, want %d", got, want)
	}
	if !slices.Equal(pos, by[store.RolePositive]) {
		t.Errorf("ControlValues positives differ from RoleValues'")
	}
}

// TestMeasured checks that a result says whether the suspect was measured
// against the teacher (a fingerprint on its suite, whatever the verdict),
// also once decoded from a stored audit record.
func TestMeasured(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := synthCase(t, rng, 4, 3) // too few negatives: measured, but INCONCLUSIVE
	fp := &fingerprint.Fingerprint{ID: "s", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.9)}
	res, err := Audit([]*Case{c, c}, []*fingerprint.Fingerprint{fp, nil}, "s", Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Result{res, back} {
		if !r.Results[0].Measured() || r.Results[1].Measured() {
			t.Errorf("Measured() = %v, %v; want true (fingerprinted, %s), false (not fingerprinted)",
				r.Results[0].Measured(), r.Results[1].Measured(), r.Results[0].Verdict)
		}
	}
}

// TestAuditWeakEvidence checks the band between α and Options.Clear: a
// suspect with p there is INCONCLUSIVE (weak evidence), not cleared, and
// NOT_DERIVED when the band is closed (Clear at α).
func TestAuditWeakEvidence(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	var fp *fingerprint.Fingerprint
	for k := 0; k < 200 && fp == nil; k++ {
		q := 0.45 + 0.3*rng.Float64()
		cand := &fingerprint.Fingerprint{ID: fmt.Sprintf("s%d", k), Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, q)}
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{cand}, cand.ID, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p := res.Results[0].PValue; p > DefaultAlpha && p <= DefaultClear {
			fp = cand
		}
	}
	if fp == nil {
		t.Fatal("set-up: no suspect with p in (α, DefaultClear] among 200 drawn")
	}
	for _, tt := range []struct {
		name   string
		opts   Options
		want   Verdict
		reason string
	}{
		{"default band", Options{}, Inconclusive, "weak evidence"},
		{"band closed", Options{Clear: DefaultAlpha}, NotDerived, ""},
		{"clear below α counts as α", Options{Clear: DefaultAlpha / 10}, NotDerived, ""},
	} {
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, fp.ID, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Results[0]
		if got.Verdict != tt.want || !strings.Contains(got.Reason, tt.reason) {
			t.Errorf("%s: verdict %s (p %.3g, reason %q), want %s with a reason containing %q", tt.name, got.Verdict, got.PValue, got.Reason, tt.want, tt.reason)
		}
	}
}
