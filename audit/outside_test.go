package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

func TestOutsideNull(t *testing.T) {
	null := []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5} // sd 0.187
	tests := []struct {
		name string
		null []float64
		x    float64
		want bool
	}{
		{"inside", null, 0.25, false},
		{"above", null, 2, false},
		{"just below the minimum", null, -0.1, false},
		{"below the minimum by more than the sd", null, -0.2, true},
		{"far below", null, -3, true},
		{"not measured", null, math.NaN(), false},
		{"four null models", null[:4], -3, true},
		{"two null models: the fewest with a spread", []float64{0, 0.5}, -3, true},
		{"one null model: no spread", null[:1], -3, false},
	}
	for _, tt := range tests {
		why, got := outsideNull(tt.null, tt.x)
		if got != tt.want || (got && !strings.Contains(why, "far less than any of the")) {
			t.Errorf("%s: outsideNull(x = %g) = %v, %q; want %v", tt.name, tt.x, got, why, tt.want)
		}
	}
}

// TestAuditOutsideNullSmall: the rule applies wherever the test does, so
// also with fewer null models than DefaultMinNull when Options.MinNull
// allows that many (it once needed DefaultMinNull whatever the options).
func TestAuditOutsideNullSmall(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 4)
	withReport(t, c)
	fp := &fingerprint.Fingerprint{ID: "untrained", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.05)}
	res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, "untrained", Options{MinNull: 3})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Results[0]
	if got.NullSize >= DefaultMinNull || got.NullSize < 3 {
		t.Fatalf("null of %d models; the test needs 3–%d", got.NullSize, DefaultMinNull-1)
	}
	if got.Outside == "" || got.PValue != 1 {
		t.Errorf("suspect outside a null of %d: p %g, outside %q; want p 1 and the reason", got.NullSize, got.PValue, got.Outside)
	}
}

// TestAuditOutsideNull: a model that follows the teacher's top answer far
// less often than any independent control is not tested against them (the
// lineage score, relative to the replicas, can put such a model above the
// null): INCONCLUSIVE, saying why, with p = 1 when there is no watermark.
func TestAuditOutsideNull(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	got := auditSuspect(t, c, "untrained", follow(rng, c.Teacher.P, 0.05))
	if got.Verdict != Inconclusive || got.Outside == "" || got.Reason != got.Outside || got.PValue != 1 {
		t.Errorf("suspect outside the null: verdict %s, p %g, outside %q, reason %q; want INCONCLUSIVE, p 1 and the reason",
			got.Verdict, got.PValue, got.Outside, got.Reason)
	}
	if _, ok := got.Statistics[StatScore]; !ok {
		t.Error("the lineage score's evidence is not reported")
	}
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var back TeacherResult
	if err := json.Unmarshal(b, &back); err != nil || back.Outside != got.Outside {
		t.Errorf("JSON round trip: outside %q (err %v), want %q", back.Outside, err, got.Outside)
	}
	if in := auditSuspect(t, c, "independent", follow(rng, c.Teacher.P, 0.4)); in.Outside != "" {
		t.Errorf("an independent model like the null's is outside it: %q", in.Outside)
	}
}

// twoTeachers returns two synthetic enrolments, "synth" and "synth-2",
// with their reports, drawn from rng.
func twoTeachers(t *testing.T, rng *rand.Rand) (c1, c2 *Case) {
	t.Helper()
	c1 = synthCase(t, rng, 6, 24)
	withReport(t, c1)
	c2 = synthCase(t, rng, 6, 24)
	c2.Enrolment.Name = "synth-2"
	withReport(t, c2)
	return c1, c2
}

// TestAuditClearsBeforeHolm: Holm's correction across teachers raises a
// p-value to guard against false DERIVED verdicts; a suspect with weak
// evidence against one teacher (p in (α, Clear] alone) is not cleared by
// auditing it against a second teacher as well.
func TestAuditClearsBeforeHolm(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c1, c2 := twoTeachers(t, rng)
	var fp *fingerprint.Fingerprint
	for k := 0; k < 400 && fp == nil; k++ {
		cand := &fingerprint.Fingerprint{ID: fmt.Sprintf("s%d", k), Suite: c1.Suite.Hash, P: follow(rng, c1.Teacher.P, 0.45+0.3*rng.Float64())}
		res, err := Audit([]*Case{c1, c2}, []*fingerprint.Fingerprint{cand, cand}, cand.ID, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r := res.Results[0]; r.PCombined > DefaultAlpha && r.PCombined <= DefaultClear && r.PValue > DefaultClear {
			fp = cand
		}
	}
	if fp == nil {
		t.Fatal("set-up: no suspect with p in (α, DefaultClear] that Holm's correction over two teachers lifts above it")
	}
	res, err := Audit([]*Case{c1, c2}, []*fingerprint.Fingerprint{fp, fp}, fp.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Results[0]; r.Verdict != Inconclusive || !strings.Contains(r.Reason, "before it") {
		t.Errorf("p %.3g before the correction, %.3g after: verdict %s (reason %q), want INCONCLUSIVE naming the p-value before it",
			r.PCombined, r.PValue, r.Verdict, r.Reason)
	}
}

// TestLabelOnlyPower: a label-only suspect is cleared only on the power
// the suite has on the controls' labels, not on the full-output power the
// enrolment report holds.
func TestLabelOnlyPower(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	// The calibration positives' labels follow the teacher no more than
	// an independent model's, while the stored report says every one of
	// them was detected.
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RolePositive && ctl.Half == store.HalfCalibration {
			c.Controls[i].P = follow(rng, c.Teacher.P, 0.4)
		}
	}
	b, err := json.Marshal(EnrolReport{Calibration: compare.Calibration{
		PosP: []float64{0.001, 0.001, 0.001, 0.001, 0.001, 0.001}, NegP: []float64{0.5, 0.6, 0.7, 0.8, 0.9}}})
	if err != nil {
		t.Fatal(err)
	}
	c.Enrolment.Report = b
	full := auditSuspect(t, c, "independent", follow(rng, c.Teacher.P, 0.4))
	if full.Verdict != NotDerived || full.TPR != 1 {
		t.Fatalf("full-output suspect: verdict %s (reason %q), TPR %v; want NOT_DERIVED on the report's TPR 1", full.Verdict, full.Reason, full.TPR)
	}
	got := auditSuspect(t, c, "independent labels", oneHot(follow(rng, c.Teacher.P, 0.4)))
	if got.Verdict != Inconclusive || got.TPR >= MinPower || got.PowerControls != 6 || !strings.Contains(got.Reason, "labels alone") {
		t.Errorf("label-only suspect: verdict %s (reason %q), TPR %v on %d controls; want INCONCLUSIVE, the labels' TPR below %v on 6",
			got.Verdict, got.Reason, got.TPR, got.PowerControls, MinPower)
	}
}

// TestOldReportGated: the calibration p-values of a report written before
// the outside-null rule count a positive control an audit would now put
// outside the null as detected; audits count it as missed.
func TestOldReportGated(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RolePositive && ctl.Half == store.HalfCalibration {
			c.Controls[i].P = follow(rng, c.Teacher.P, 0.05) // the first: outside
			break
		}
	}
	indep := follow(rng, c.Teacher.P, 0.4)
	for _, tt := range []struct {
		name    string
		rule    bool
		wantTPR float64
	}{
		{"report before the rule", false, 5.0 / 6},
		{"report after the rule", true, 1},
	} {
		b, err := json.Marshal(EnrolReport{OutsideRule: tt.rule, Calibration: compare.Calibration{
			PosP: []float64{0.001, 0.001, 0.001, 0.001, 0.001, 0.001}, NegP: []float64{0.5, 0.6, 0.7, 0.8, 0.9}}})
		if err != nil {
			t.Fatal(err)
		}
		c.Enrolment.Report = b
		if got := auditSuspect(t, c, "independent", indep); got.TPR != tt.wantTPR {
			t.Errorf("%s: calibration TPR %v, want %v", tt.name, got.TPR, tt.wantTPR)
		}
	}
}

// TestNearestOutside: the p-value of the nearest derived control, which
// tells whether the suite catches copies like the suspect, is what an
// audit of that control gives: 1 when it is outside the null.
func TestNearestOutside(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	var weak *fingerprint.Fingerprint
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RolePositive && ctl.Half == store.HalfCalibration {
			weak = c.Controls[i]
			weak.P = follow(rng, c.Teacher.P, 0.05)
			break
		}
	}
	got := auditSuspect(t, c, "like the weak control", weak.P)
	if got.Nearest == nil || got.Nearest.FP != weak.ID || got.Nearest.P == nil || *got.Nearest.P != 1 {
		t.Errorf("nearest control %+v, want %s with p = 1", got.Nearest, weak.ID)
	}
}

// TestLabelCalibrationWalk: labelCalibration tests each calibration
// negative leave-one-out against the other null models, references
// included but not counted, even when references sit between negatives in
// the enrolment's list; recomputed here by fingerprint ID.
func TestLabelCalibrationWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := interleaveRefs(t, rng, synthCase(t, rng, 6, 24))
	checkLabelWalk(t, c)
}

// TestLabelCalibrationWalkWatermark is TestLabelCalibrationWalk with a
// label watermark: each control's p-value is also combined with the
// watermark test of its own labels (not a neighbour's), and a positive
// control that answers with the marked labels is detected by it.
func TestLabelCalibrationWalkWatermark(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	base, mk := markCase(t, rng, 60)
	marked := ""
	for i, ctl := range base.Enrolment.Controls {
		if ctl.Role == store.RolePositive && ctl.Half == store.HalfCalibration {
			base.Controls[i].P = markLabels(base, mk, base.Controls[i].P, 60, 1)
			marked = ctl.FP
			break
		}
	}
	if marked == "" {
		t.Fatal("set-up: no calibration positive to mark")
	}
	pos := checkLabelWalk(t, interleaveRefs(t, rng, base))
	if p := pos[marked]; !(p <= 10*0.001) {
		t.Errorf("positive control %s answering with the marked labels: p %g, want at most 0.01", marked, p)
	}
}

// interleaveRefs returns base with references inserted after every fifth
// control that is a calibration negative (at least two).
func interleaveRefs(t *testing.T, rng *rand.Rand, base *Case) *Case {
	t.Helper()
	c := &Case{Suite: base.Suite, Teacher: base.Teacher, Enrolment: &store.Enrolment{Name: "walk", Suite: base.Suite.Hash, Watermark: base.Enrolment.Watermark}}
	refs := 0
	for i, ctl := range base.Enrolment.Controls {
		c.Controls = append(c.Controls, base.Controls[i])
		c.Enrolment.Controls = append(c.Enrolment.Controls, ctl)
		if ctl.Role == store.RoleNegative && ctl.Half == store.HalfCalibration && i%5 == 0 {
			fp := &fingerprint.Fingerprint{ID: fmt.Sprintf("ref-%d", refs), Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.4)}
			refs++
			c.Controls = append(c.Controls, fp)
			c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: fp.ID, Role: store.RoleReference})
		}
	}
	if refs < 2 {
		t.Fatalf("set-up: %d references interleaved, want at least 2", refs)
	}
	return c
}

// checkLabelWalk checks c.labelCalibration's negatives against p-values
// recomputed by fingerprint ID (leave-one-out, outside rule, watermark of
// the control's own labels) and returns the positives' p-values by ID.
func checkLabelWalk(t *testing.T, c *Case) map[string]float64 {
	t.Helper()
	cal, err := c.labelCalibration(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.reference(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	withMark := func(i int, p float64) float64 {
		mr, err := c.markTest(context.Background(), labelsOf(c.Controls[r.allIdx[i]]))
		if err != nil {
			t.Fatal(err)
		}
		if mr != nil {
			p = combineP(p, mr.P)
		}
		return p
	}
	var want []float64
	pos := map[string]float64{}
	for i, ctl := range r.allCtl {
		switch ctl.Role {
		case store.RolePositive:
			pos[ctl.FP] = cal.PosP[len(pos)]
			continue
		case store.RoleReference:
			continue
		}
		var null [][]float64
		var fam []string
		var agree []float64
		for j, o := range r.allCtl {
			if o.Role != store.RolePositive && o.FP != ctl.FP {
				null = append(null, r.allD[j])
				fam = append(fam, familyOf(o))
				agree = append(agree, agreementSimilarity(c.Teacher.P, c.Controls[r.allIdx[j]].P))
			}
		}
		d, err := decide(r.ds, null, fam, r.allD[i])
		if err != nil {
			t.Fatal(err)
		}
		p := d.P
		if _, out := outsideNull(agree, agreementSimilarity(c.Teacher.P, c.Controls[r.allIdx[i]].P)); out {
			p = 1
		}
		want = append(want, withMark(i, p))
	}
	if len(cal.NegP) != len(want) || len(cal.PosP) != 6 {
		t.Fatalf("label calibration: %d negatives and %d positives, want %d and 6", len(cal.NegP), len(cal.PosP), len(want))
	}
	for i := range want {
		if cal.NegP[i] != want[i] {
			t.Errorf("negative %d: p %g, want %g (recomputed by ID)", i, cal.NegP[i], want[i])
		}
	}
	return pos
}

// TestLabelOnlyCaution: a label-only suspect found DERIVED by the lineage
// score alone carries a caution, one the label watermark supports does
// not, and neither does a suspect with full outputs.
func TestLabelOnlyCaution(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	c, mk := markCase(t, rng, 60)
	withReport(t, c)
	copyP := follow(rng, c.Teacher.P, 0.97)
	tests := []struct {
		name    string
		p       blas32.General
		caution string // a part of the caution; "" for none
	}{
		{"full outputs", copyP, ""},
		{"labels, unmarked", oneHot(copyP), "the label watermark gives it no support"},
		{"labels, marked", oneHot(markLabels(c, mk, copyP, 60, 1)), ""},
	}
	for _, tt := range tests {
		got := auditSuspect(t, c, tt.name, tt.p)
		if got.Verdict != Derived {
			t.Fatalf("%s: verdict %s (p %.3g, reason %q), want DERIVED", tt.name, got.Verdict, got.PValue, got.Reason)
		}
		if tt.caution == "" && got.Caution != "" || !strings.Contains(got.Caution, tt.caution) {
			t.Errorf("%s: caution %q, want %q", tt.name, got.Caution, tt.caution)
		}
	}
	plain := synthCase(t, rng, 6, 24)
	withReport(t, plain)
	got := auditSuspect(t, plain, "labels, no watermark", oneHot(follow(rng, plain.Teacher.P, 0.97)))
	if got.Verdict != Derived || !strings.Contains(got.Caution, "no label watermark") {
		t.Errorf("labels without a watermark: verdict %s, caution %q, want DERIVED and one saying the teacher has none", got.Verdict, got.Caution)
	}
}

// TestAuditWatermarkOutsideNull: a suspect outside the null of a teacher
// with a label watermark is judged by the watermark's test alone, at its
// share of the combination: p = min(1, p_watermark/WatermarkWeight), the
// lineage test counting as p = 1, not as evidence.
func TestAuditWatermarkOutsideNull(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	c, _ := markCase(t, rng, 60)
	withReport(t, c)
	got := auditSuspect(t, c, "untrained", follow(rng, c.Teacher.P, 0.05))
	wm, ok := got.Statistics[StatWatermark]
	if got.Outside == "" || !ok {
		t.Fatalf("set-up: outside %q, watermark evidence %v; want a suspect outside the null, tested by the watermark", got.Outside, ok)
	}
	if want := combineP(1, wm.P); got.PValue != want || got.PCombined != want {
		t.Errorf("p_value %g, p_combined %g; want the watermark's share alone, min(1, %g/%g) = %g", got.PValue, got.PCombined, wm.P, WatermarkWeight, want)
	}
	if got.Verdict != Inconclusive || got.Best != StatWatermark {
		t.Errorf("verdict %s by %q (p %g); want INCONCLUSIVE by %q", got.Verdict, got.Best, got.PValue, StatWatermark)
	}
}
