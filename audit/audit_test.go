package audit

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
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
	c := withRefs(rng, base)
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

// withRefs returns a copy of base with two references added, drawn from
// rng: "soft-ref" with full outputs and "label-ref" answering labels only.
func withRefs(rng *rand.Rand, base *Case) *Case {
	soft := &fingerprint.Fingerprint{ID: "soft-ref", Suite: base.Suite.Hash, P: follow(rng, base.Teacher.P, 0.4)}
	label := &fingerprint.Fingerprint{ID: "label-ref", Suite: base.Suite.Hash, P: oneHot(follow(rng, base.Teacher.P, 0.4))}
	e := *base.Enrolment
	e.Controls = append(append([]store.Control(nil), base.Enrolment.Controls...),
		store.Control{FP: soft.ID, Role: store.RoleReference}, store.Control{FP: label.ID, Role: store.RoleReference})
	return &Case{Enrolment: &e, Suite: base.Suite, Teacher: base.Teacher,
		Controls: append(append([]*fingerprint.Fingerprint(nil), base.Controls...), soft, label)}
}
