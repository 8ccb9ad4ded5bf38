package audit

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
)

// verdictPaths returns one result per way settle can end, built from the
// audit of an independent suspect (base) with the fields that choose the
// path set, and settled as Audit settles: each path's name is the
// suspect's. The p-values are set through the statistics so that the
// combined p-value stays the weighted Bonferroni combination of them.
func verdictPaths(t *testing.T, base TeacherResult) []Result {
	t.Helper()
	f := func(v float64) *float64 { return &v }
	// fresh returns a deep copy of base with no verdict, measured on 8
	// positive controls at TPR 1 and FPR 0.
	fresh := func() TeacherResult {
		var tr TeacherResult
		b, _ := json.Marshal(base)
		if err := json.Unmarshal(b, &tr); err != nil {
			t.Fatal(err)
		}
		tr.Verdict, tr.Reason, tr.Caution = "", "", ""
		tr.TPR, tr.FPR, tr.PowerControls = 1, 0, 8
		return tr
	}
	withP := func(tr *TeacherResult, pScore, pMark float64) {
		s := tr.Statistics[StatScore]
		s.P = pScore
		tr.Statistics[StatScore] = s
		pLin := pScore
		if r, ok := tr.Statistics[featResidual]; ok {
			pLin = min(1, pScore/(1-ResidualWeight), r.P/ResidualWeight)
		}
		tr.PCombined = pLin
		if pMark >= 0 {
			tr.Statistics[StatWatermark] = StatEvidence{Value: 1, N: 18, Similarity: 1, NullN: 9999, Z: 1, P: pMark, PEmpirical: pMark, Method: MethodDecoyKeys}
			tr.PCombined = combineP(pLin, pMark)
		}
		if tr.Outside != "" {
			tr.PCombined = 1
			if pMark >= 0 {
				tr.PCombined = combineP(1, pMark)
			}
		}
		tr.PValue = tr.PCombined
	}
	const notSig = 0.5
	outside := "the suspect agrees with the teacher's top answer on 7% of the probes, far less than any of the 16 independent models of the null (40–60%): …"
	paths := []struct {
		name          string
		want          string  // the verdict | a part of its reason or caution
		pScore, pMark float64 // pMark < 0: no watermark
		set           func(tr *TeacherResult)
	}{
		{"derived", "DERIVED|", 0.001, -1, func(tr *TeacherResult) {}},
		{"derived-label-only-no-watermark", "DERIVED|the teacher has no label watermark", 0.001, -1, func(tr *TeacherResult) { tr.LabelOnly = true }},
		{"derived-label-only-watermark-support", "DERIVED|", 0.005, 0.0005, func(tr *TeacherResult) { tr.LabelOnly = true }},
		{"derived-label-only-watermark-weak", "DERIVED|gives it no support (p = 0.2)", 0.005, 0.2, func(tr *TeacherResult) { tr.LabelOnly = true }},
		{"derived-low-power", "DERIVED|detected only 25% of its 8 calibration copies", 0.001, -1, func(tr *TeacherResult) { tr.TPR = 0.25 }},
		{"derived-low-power-label-only", "DERIVED|from the suspect's labels alone", 0.001, -1, func(tr *TeacherResult) { tr.TPR, tr.LabelOnly = 0.25, true }},
		{"derived-by-watermark-outside", "DERIVED|", 0.001, 0.0002, func(tr *TeacherResult) { tr.Outside = outside }},
		{"outside", "INCONCLUSIVE|far less than any", 0.001, -1, func(tr *TeacherResult) { tr.Outside = outside }},
		{"outside-before-labels", "INCONCLUSIVE|far less than any", notSig, 0.3, func(tr *TeacherResult) { tr.Outside, tr.LabelsP = outside, f(0.001) }},
		{"weak-band", "INCONCLUSIVE|but p = 0.03 is at most 0.05", 0.03, -1, func(tr *TeacherResult) {}},
		{"labels-p", "INCONCLUSIVE|its labels alone give p = 0.04", notSig, -1, func(tr *TeacherResult) { tr.LabelsP = f(0.04) }},
		{"labels-p-before-data-p", "INCONCLUSIVE|its labels alone give p = 0.04", notSig, -1, func(tr *TeacherResult) { tr.LabelsP, tr.DataP = f(0.04), f(0.01) }},
		{"data-probes-p", "INCONCLUSIVE|held-out data probes alone", notSig, -1, func(tr *TeacherResult) { tr.DataP = f(0.05) }},
		{"prob-contrast-p", "INCONCLUSIVE|its probabilities side with the teacher", notSig, -1, func(tr *TeacherResult) { tr.ProbP = f(0.02) }},
		{"variation", "INCONCLUSIVE|total variation up to 0.002)", notSig, -1, func(tr *TeacherResult) { tr.Variation = f(0.002) }},
		{"variation-unmeasured", "INCONCLUSIVE|total variation up to 1, or it could not be asked", notSig, -1, func(tr *TeacherResult) { tr.Remote, tr.Variation = true, f(1) }},
		{"nearby", "INCONCLUSIVE|points next to probes differently from the probes themselves (total variation up to 0.06", notSig, -1, func(tr *TeacherResult) { tr.Nearby = f(0.06) }},
		{"nearby-label-only-exempt", "NOT_DERIVED|", notSig, -1, func(tr *TeacherResult) { tr.Nearby, tr.LabelOnly = f(0.9), true }},
		{"remote-not-asked-again", "INCONCLUSIVE|not asked again for any probe", notSig, -1, func(tr *TeacherResult) { tr.Remote = true }},
		{"remote-no-nearby", "INCONCLUSIVE|points next to probes were not asked", notSig, -1, func(tr *TeacherResult) { tr.Remote, tr.Variation = true, f(0) }},
		{"remote-no-nearby-label-only", "NOT_DERIVED|", notSig, -1, func(tr *TeacherResult) { tr.Remote, tr.Variation, tr.LabelOnly = true, f(0), true }},
		{"defaulted-metadata", "INCONCLUSIVE|no \"activation\", \"labels\" metadata", notSig, -1, func(tr *TeacherResult) { tr.Defaulted = []string{"activation", "labels"} }},
		{"no-calibration", "INCONCLUSIVE|no calibration record", notSig, -1, func(tr *TeacherResult) { tr.TPR, tr.FPR, tr.PowerControls = -1, -1, 0 }},
		{"low-power-label-only", "INCONCLUSIVE|detected only 38% of derived controls from their labels alone", notSig, -1, func(tr *TeacherResult) { tr.TPR, tr.LabelOnly = 0.375, true }},
		{"low-power", "INCONCLUSIVE|detected only 50% of derived controls at", notSig, -1, func(tr *TeacherResult) { tr.TPR = 0.499 }},
		{"power-on-3-controls", "INCONCLUSIVE|only 3 derived controls", notSig, -1, func(tr *TeacherResult) { tr.TPR, tr.PowerControls = 1, 3 }},
		{"power-on-4-controls", "NOT_DERIVED|", notSig, -1, func(tr *TeacherResult) { tr.TPR, tr.PowerControls = 0.5, 4 }},
		{"nearest-missed", "INCONCLUSIVE|closest to a derived control (kd-t1)", notSig, -1, func(tr *TeacherResult) {
			tr.Nearest = &Neighbour{FP: "kd-1", Role: store.RolePositive, Recipe: "kd-t1 seed=1", Distance: 1, P: f(0.3)}
		}},
		{"nearest-caught", "NOT_DERIVED|", notSig, -1, func(tr *TeacherResult) {
			tr.Nearest = &Neighbour{FP: "kd-2", Role: store.RolePositive, Recipe: "kd-t4 seed=2", Distance: 1, P: f(0.01)}
		}},
		{"cleared", "NOT_DERIVED|", notSig, -1, func(tr *TeacherResult) { tr.NotRuledOut = []string{"kd-t1"} }},
		{"cleared-at-clear", "NOT_DERIVED|", 0.0500001, -1, func(tr *TeacherResult) {}},
	}
	var out []Result
	o := Options{}.withDefaults()
	for _, p := range paths {
		tr := fresh()
		p.set(&tr)
		withP(&tr, p.pScore, p.pMark)
		settle(&tr, o, 1)
		// The path the case is for was reached (the script then checks
		// that README's rule ends there too).
		v, why, _ := strings.Cut(p.want, "|")
		if string(tr.Verdict) != v || !strings.Contains(tr.Reason+tr.Caution, why) {
			t.Errorf("path %s: settle gave %s (%q), want %s with %q", p.name, tr.Verdict, tr.Reason+tr.Caution, v, why)
		}
		out = append(out, Result{Suspect: p.name, Alpha: o.Alpha, Results: []TeacherResult{tr}})
	}
	// Holm across two teachers: p_combined 0.03 and 0.04 (0.03 and 0.04
	// of the score, or less with a residual) become 0.06 (or less, but
	// above 0.05 by the check below).
	holm := Result{Suspect: "holm-raised", Alpha: o.Alpha}
	for i, p := range []float64{0.03, 0.04} {
		tr := fresh()
		tr.Teacher = fmt.Sprintf("teacher-%d", i)
		withP(&tr, p, -1)
		holm.Results = append(holm.Results, tr)
	}
	a, b := holm.Results[0].PCombined, holm.Results[1].PCombined
	for i := range holm.Results {
		holm.Results[i].PValue = max(min(1, 2*min(a, b)), a, b) // Holm's step-down for two
		settle(&holm.Results[i], o, 2)
	}
	if !(holm.Results[0].PValue > o.Clear && holm.Results[0].PCombined <= o.Clear) {
		t.Fatalf("Holm's p-values %g (before it %g): want above %g, with the p before it at most %g", holm.Results[0].PValue, holm.Results[0].PCombined, o.Clear, o.Clear)
	}
	// An INCONCLUSIVE before any test keeps its reason.
	pre := TeacherResult{Teacher: base.Teacher, Suite: base.Suite, Verdict: Inconclusive, PValue: 1, PCombined: 1, TPR: 1, FPR: 0,
		Reason: "too few references: 3 independent models in the null, need 5 (add some with `lineage reference add`)"}
	settle(&pre, o, 1)
	// A teacher without the suspect's fingerprint adds no test to Holm's
	// correction: the weak-band result keeps its p-value.
	unprobed := TeacherResult{Teacher: "unprobed", Suite: "other", Verdict: Inconclusive, PValue: 1, PCombined: 1, TPR: 1, FPR: 0,
		Reason: "suspect not fingerprinted on this teacher's suite"}
	settle(&unprobed, o, 1)
	// An audit with --clear-above 0.1, which its JSON records: p = 0.07
	// is weak evidence there, where the default would clear it.
	wide := Options{Clear: 0.1}.withDefaults()
	band := fresh()
	withP(&band, 0.07, -1)
	settle(&band, wide, 1)
	if band.Verdict != Inconclusive || !strings.Contains(band.Reason, "is at most 0.1") {
		t.Fatalf("p = %g with --clear-above 0.1: settle gave %s (%q), want INCONCLUSIVE in the weak band", band.PValue, band.Verdict, band.Reason)
	}
	one := out[slices.IndexFunc(out, func(r Result) bool { return r.Suspect == "weak-band" })]
	return append(out, holm, Result{Suspect: "too-few-references", Alpha: o.Alpha, Results: []TeacherResult{pre}},
		Result{Suspect: "one-teacher-unprobed", Alpha: o.Alpha, Results: []TeacherResult{one.Results[0], unprobed}},
		Result{Suspect: "clear-above-0.1", Alpha: wide.Alpha, ClearAbove: wide.Clear, Results: []TeacherResult{band}})
}

// TestRecomputePythonVerdicts checks every path of the verdict rule —
// DERIVED with and without each caution, each reason for INCONCLUSIVE in
// README's order, NOT_DERIVED — against recompute.py's reading of
// README's "Verdicts", and that the script flags a verdict, reason or
// caution edited to another path's.
func TestRecomputePythonVerdicts(t *testing.T) {
	needNumpy(t)
	rng := rand.New(rand.NewPCG(29, 3))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	sus := &fingerprint.Fingerprint{ID: "independent", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.4)}
	res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{sus}, sus.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Results[0].Statistics[StatScore].P == 0 {
		t.Fatalf("the base audit has no lineage score: %+v", res.Results[0])
	}
	results := verdictPaths(t, res.Results[0])
	out, ok := recompute(t, results)
	if !ok || !strings.Contains(out, "all checks agree") {
		t.Fatalf("recompute.py disagrees with settle:\n%s", out)
	}
	for _, r := range results {
		for _, tr := range r.Results {
			tag := "ok   " + r.Suspect + "/" + tr.Teacher + " "
			if !strings.Contains(out, tag+"reason") && !strings.Contains(out, tag+"caution") {
				t.Errorf("recompute.py did not check the reason or caution of %s/%s:\n%s", r.Suspect, tr.Teacher, out)
			}
		}
	}
	edits := []struct {
		name string
		edit func(r *TeacherResult)
	}{
		{"reason of another path", func(r *TeacherResult) {
			r.Reason = "not significant, but this teacher's suite detected only 10% of derived controls at α=0.01"
		}},
		{"caution dropped", func(r *TeacherResult) { r.Caution = "" }},
		{"verdict", func(r *TeacherResult) { r.Verdict, r.Reason = NotDerived, "" }},
	}
	pick := map[string]string{"reason of another path": "labels-p", "caution dropped": "derived-low-power", "verdict": "nearest-missed"}
	for _, e := range edits {
		t.Run("edited "+e.name, func(t *testing.T) {
			for _, r := range results {
				if r.Suspect != pick[e.name] {
					continue
				}
				var ed Result
				b, _ := json.Marshal(r)
				if err := json.Unmarshal(b, &ed); err != nil {
					t.Fatal(err)
				}
				e.edit(&ed.Results[0])
				if out, ok := recompute(t, []Result{ed}); ok {
					t.Errorf("recompute.py agreed with %s whose %s was edited:\n%s", r.Suspect, e.name, out)
				}
			}
		})
	}
}
