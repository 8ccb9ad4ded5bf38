package audit

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// withUnderTrained returns a copy of base with n under-trained controls
// (store.HalfUnderTrained, two families) whose answers follow the teacher's
// top answer with probability follows each.
func withUnderTrained(t *testing.T, rng *rand.Rand, base *Case, n int, follows float64) *Case {
	t.Helper()
	e := *base.Enrolment
	e.Controls = append([]store.Control(nil), base.Enrolment.Controls...)
	c := &Case{Enrolment: &e, Suite: base.Suite, Teacher: base.Teacher, Controls: append([]*fingerprint.Fingerprint(nil), base.Controls...)}
	for i := range n {
		fp := &fingerprint.Fingerprint{ID: fmt.Sprintf("under-%d", i), Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, follows+0.04*rng.Float64())}
		fam := "under-trained"
		if i >= n/2 {
			fam = "under-trained-teacher-arch"
		}
		c.Controls = append(c.Controls, fp)
		c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: fp.ID, Role: store.RoleNegative, Half: store.HalfUnderTrained, Recipe: fam + " epochs=2"})
	}
	return c
}

// TestUnderTrainedControls checks the under-trained controls' part in
// audits (see UnderTrainedControls and reference.nullFor): a suspect that
// agrees with the teacher no more than they do is held to them too — a
// model like them, flagged against the trained null alone, is not flagged,
// with full outputs or labels — while a suspect that agrees more than all
// of them by more than their spread gets exactly the p-value it gets
// without them.
func TestUnderTrainedControls(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	base := synthCase(t, rng, 6, 24)
	withReport(t, base)
	// The trained negatives follow the teacher on 35–45 % of the probes;
	// these under-trained ones on 66–70 %, like the suspects below.
	c := withUnderTrained(t, rng, base, 8, 0.66)
	for _, tt := range []struct {
		name string
		p    blas32.General
	}{
		{"full outputs", follow(rng, c.Teacher.P, 0.68)},
		{"labels", oneHot(follow(rng, c.Teacher.P, 0.68))},
	} {
		before := auditSuspect(t, base, "like", tt.p)
		after := auditSuspect(t, c, "like", tt.p)
		if before.Verdict != Derived {
			t.Fatalf("set-up: a suspect like the under-trained controls (%s) is %s (p %g) against the trained null alone; want DERIVED, the error they are there to prevent", tt.name, before.Verdict, before.PValue)
		}
		if after.Verdict == Derived || after.PValue <= 0.05 {
			t.Errorf("suspect like the under-trained controls (%s): %s, p %g with them; want not DERIVED, p > 0.05", tt.name, after.Verdict, after.PValue)
		}
		if got, want := after.NullSize, before.NullSize+8; got != want || after.UnderTrained != 8 {
			t.Errorf("suspect like the under-trained controls (%s): null of %d, %d of them under-trained; want %d, 8 (the trained null and the 8 under-trained controls)", tt.name, got, after.UnderTrained, want)
		}
		var back TeacherResult
		if b, err := json.Marshal(after); err != nil || json.Unmarshal(b, &back) != nil || back.UnderTrained != 8 {
			t.Errorf("suspect like the under-trained controls (%s): under_trained_in_null %d after a JSON round trip (%v), want 8", tt.name, back.UnderTrained, err)
		}
	}
	by, err := c.RoleValues(StatScore)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(by[store.RoleNegative]), base.NullSize(false); got != want {
		t.Errorf("RoleValues: %d negatives, want %d (the trained null the report's figure draws)", got, want)
	}
	if got := len(by[store.HalfUnderTrained]); got != 8 {
		t.Errorf("RoleValues: %d under-trained controls, want 8 (drawn apart in the report's figure)", got)
	}
	for _, lo := range []bool{false, true} {
		if got, want := c.NullSize(lo), base.NullSize(lo); got != want {
			t.Errorf("Case.NullSize(%v) = %d, want %d (the trained null: the under-trained controls join it only for suspects like them)", lo, got, want)
		}
	}
	for _, tt := range []struct {
		name string
		p    blas32.General
	}{
		{"copy with full outputs", follow(rng, c.Teacher.P, 0.95)},
		{"copy with labels", oneHot(follow(rng, c.Teacher.P, 0.95))},
	} {
		b, a := auditSuspect(t, base, tt.name, tt.p), auditSuspect(t, c, tt.name, tt.p)
		if a.PValue != b.PValue || a.Verdict != b.Verdict || a.NullSize != b.NullSize || a.UnderTrained != 0 {
			t.Errorf("%s: p %g (%s, null %d) with the under-trained controls, %g (%s, null %d) without; want the same", tt.name, a.PValue, a.Verdict, a.NullSize, b.PValue, b.Verdict, b.NullSize)
		}
	}
}

// TestNullFor checks reference.nullFor's rule: the under-trained rows are
// dropped only above the highest of their agreements plus their standard
// deviation, and self is left out whatever the agreement.
func TestNullFor(t *testing.T) {
	r := &reference{
		allCtl: []store.Control{{FP: "pos", Role: store.RolePositive}, {FP: "a", Role: store.RoleNegative}, {FP: "u1", Role: store.RoleNegative, Half: store.HalfUnderTrained}, {FP: "u2", Role: store.RoleNegative, Half: store.HalfUnderTrained}},
		allF:   make([][]float64, 4), allD: make([][]float64, 4), allIdx: []int{0, 1, 2, 3},
		null: make([][]float64, 3), dnull: make([][]float64, 3), nullFam: []string{"x", "under-trained", "under-trained"},
		agree: []float64{0.5, 0.1, 0.3},
		cond:  []bool{false, true, true},
	}
	sd := 0.1414213562373095 // of 0.1 and 0.3
	for _, tt := range []struct {
		a    float64
		self string
		want []string
	}{
		{0.2, "", []string{"pos", "a", "u1", "u2"}},
		{0.3 + sd - 1e-9, "", []string{"pos", "a", "u1", "u2"}},
		{0.3 + sd + 1e-9, "", []string{"pos", "a"}},
		{0.9, "a", []string{"pos"}},
		{0.05, "u2", []string{"pos", "a", "u1"}},
		// Leave-one-out: u2 gone, the rule reads u1 alone (no spread).
		{0.11, "u2", []string{"pos", "a"}},
	} {
		got := r.nullFor(tt.a, tt.self)
		var ids []string
		for _, c := range got.allCtl {
			ids = append(ids, c.FP)
		}
		if fmt.Sprint(ids) != fmt.Sprint(tt.want) {
			t.Errorf("nullFor(%g, %q): models %v, want %v", tt.a, tt.self, ids, tt.want)
		}
		if len(got.null) != len(got.cond) || len(got.null) != len(got.agree) || len(got.null) != len(got.nullFam) || len(got.null) != len(ids)-1 {
			t.Errorf("nullFor(%g, %q): %d null rows, %d cond, %d agree, %d families for %d null models", tt.a, tt.self, len(got.null), len(got.cond), len(got.agree), len(got.nullFam), len(ids)-1)
		}
	}
}

// TestTestNeverBelowTrained checks reference.test's rule: the under-trained
// controls can only raise a p-value. Here they score tightly and low, so a
// null with them has a smaller pooled within-family spread and more degrees
// of freedom, and on its own would give the suspect a smaller p-value than
// the trained null does; and their low agreement would pull the outside
// rule's margin down.
func TestTestNeverBelowTrained(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	r := &reference{ds: []decisionStat{{StatScore, 1, -1}}}
	add := func(fp, fam string, half string, score, agree float64) {
		r.allCtl = append(r.allCtl, store.Control{FP: fp, Role: store.RoleNegative, Half: half})
		r.allF = append(r.allF, nil)
		r.allD = append(r.allD, []float64{score})
		r.allIdx = append(r.allIdx, len(r.allIdx))
		r.null = append(r.null, []float64{score})
		r.dnull = append(r.dnull, []float64{score})
		r.nullFam = append(r.nullFam, fam)
		r.agree = append(r.agree, agree)
		r.cond = append(r.cond, half == store.HalfUnderTrained)
	}
	for f := range 4 {
		for j := range 8 {
			add(fmt.Sprintf("n%d-%d", f, j), fmt.Sprintf("fam%d", f), store.HalfCalibration, float64(f)*0.3+rng.NormFloat64(), 0.5+0.05*rng.Float64())
		}
	}
	for j := range 12 {
		add(fmt.Sprintf("u%d", j), "under-trained", store.HalfUnderTrained, 0.5+0.05*rng.NormFloat64(), 0.3+0.05*rng.Float64())
	}
	x := []float64{3.2}
	trained := r.nullFor(math.Inf(1), "")
	dt, err := decide(trained.ds, trained.dnull, trained.nullFam, x)
	if err != nil {
		t.Fatal(err)
	}
	dw, err := decide(r.ds, r.dnull, r.nullFam, x)
	if err != nil {
		t.Fatal(err)
	}
	if !(dw.P < dt.P) {
		t.Fatalf("set-up: p %g with the under-trained controls, %g without; want smaller with them, the case the rule is for", dw.P, dt.P)
	}
	for _, a := range []float64{0.2, 0.31} { // below and among the under-trained agreements
		d, outside, err := r.test(x, a, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.P != dt.P {
			t.Errorf("test(agreement %g): p %g, want the trained null's %g (the larger)", a, d.P, dt.P)
		}
		if _, want := outsideNull(trained.agree, a); outside != want {
			t.Errorf("test(agreement %g): outside %v, want %v (the trained null's rule)", a, outside, want)
		}
	}
}
