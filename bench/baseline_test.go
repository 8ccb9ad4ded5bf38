package bench

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
)

// baselineCase builds a case on a suite of 5 teacher-mistake probes (the
// least audit.MinMistakeProbes allows) and 2 data probes. The teacher
// predicts class 0 everywhere; each control agrees with it on the first
// agree[i] mistake probes and never on the data probes.
func baselineCase(ctls []store.Control, agree []int) *audit.Case {
	kinds := []probe.Kind{probe.Mistake, probe.Mistake, probe.Mistake, probe.Mistake, probe.Mistake, probe.Data, probe.Data}
	fp := func(agree int, teacher bool) *fingerprint.Fingerprint {
		p := blas32.General{Rows: len(kinds), Cols: 2, Stride: 2}
		for i := range kinds {
			if teacher || (kinds[i] == probe.Mistake && i < agree) {
				p.Data = append(p.Data, 0.8, 0.2)
			} else {
				p.Data = append(p.Data, 0.3, 0.7)
			}
		}
		return &fingerprint.Fingerprint{P: p}
	}
	c := &audit.Case{Enrolment: &store.Enrolment{Controls: ctls}, Suite: &probe.Suite{Kinds: kinds}, Teacher: fp(0, true)}
	for _, a := range agree {
		c.Controls = append(c.Controls, fp(a, false))
	}
	return c
}

// TestBaseline checks the mistake-agreement baseline: it counts the suite's
// teacher-mistake probes (usable at exactly MinMistakeProbes), its null is
// the mistake agreement of the calibration half's negative and reference
// controls only (no positive, no selection or under-trained half), and a
// suspect's p-value is compare.Test's default (robust) p-value against that
// null, or 1 when the null is too small.
func TestBaseline(t *testing.T) {
	ctls := []store.Control{
		{FP: "n1", Role: store.RoleNegative, Half: store.HalfCalibration},
		{FP: "n2", Role: store.RoleNegative, Half: store.HalfCalibration},
		{FP: "p", Role: store.RolePositive, Half: store.HalfCalibration},
		{FP: "sel", Role: store.RoleNegative, Half: store.HalfSelection},
		{FP: "ref", Role: store.RoleReference, Half: store.HalfCalibration},
		{FP: "under", Role: store.RoleNegative, Half: store.HalfUnderTrained},
	}
	agree := []int{1, 2, 5, 4, 3, 0}
	sim := func(k int) float64 {
		return compare.Similarity(compare.StatMistakeAgreement, compare.Value{Value: float64(k) / 5, N: 5})
	}
	c := baselineCase(ctls, agree)
	b := newBaseline(c)
	if !b.ok() || b.probes != 5 {
		t.Fatalf("baseline ok %v (%s), probes %d; want usable with 5 mistake probes", b.ok(), b.problem, b.probes)
	}
	wantNull := []float64{sim(1), sim(2), sim(3)}
	if len(b.null) != len(wantNull) {
		t.Fatalf("null %v, want %v (n1, n2, ref)", b.null, wantNull)
	}
	for i, w := range wantNull {
		if len(b.null[i]) != 1 || math.Abs(b.null[i][0]-w) > 1e-12 {
			t.Errorf("null[%d] = %v, want [%v]", i, b.null[i], w)
		}
	}
	suspect := c.Controls[2]
	got, err := b.pValue(suspect)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := compare.Test([][]float64{{sim(1)}, {sim(2)}, {sim(3)}}, []float64{sim(5)}, compare.Options{})
	if got != r.P || r.Stats[0].Method != compare.MethodT {
		t.Errorf("suspect agreeing on all 5: p %v, want the robust t-predictive %v (%s)", got, r.P, r.Stats[0].Method)
	}
	// Two null controls: too few for a p-value, so no evidence.
	small := newBaseline(baselineCase(ctls[:3], agree[:3]))
	if p, err := small.pValue(suspect); err != nil || p != 1 {
		t.Errorf("null of 2: p %v (err %v), want 1", p, err)
	}
	// Four mistake probes: unusable, saying why.
	c4 := baselineCase(ctls, agree)
	c4.Suite.Kinds = append([]probe.Kind{}, c4.Suite.Kinds...)
	c4.Suite.Kinds[4] = probe.Data
	if b4 := newBaseline(c4); b4.ok() || b4.probes != 4 {
		t.Errorf("4 mistake probes: ok %v, probes %d; want unusable, 4", b4.ok(), b4.probes)
	}
}
