package audit

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

// TestSettleLabelsP checks the verdict a not-significant full-output
// suspect gets from its labels' p-value: NOT_DERIVED above Options.Clear
// (or when none was computed), INCONCLUSIVE naming the labels at or below
// it (an evasion hunt saw copies whose probabilities below the top class
// were scrambled or diluted cleared while their labels made them DERIVED).
func TestSettleLabelsP(t *testing.T) {
	o := Options{}.withDefaults()
	pf := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		name    string
		labelsP *float64
		want    Verdict
	}{
		{"labels not computed", nil, NotDerived},
		{"labels independent too", pf(0.3), NotDerived},
		{"labels at the bound", pf(o.Clear), Inconclusive},
		{"labels look derived", pf(0.004), Inconclusive},
	} {
		tr := TeacherResult{PValue: 0.4, PCombined: 0.4, TPR: 0.75, PowerControls: 8, LabelsP: tt.labelsP}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want {
			t.Errorf("%s: verdict %s (%s), want %s", tt.name, tr.Verdict, tr.Reason, tt.want)
		}
		if tt.want == Inconclusive && !strings.Contains(tr.Reason, "its labels alone give p") {
			t.Errorf("%s: reason %q does not name the labels", tt.name, tr.Reason)
		}
	}
}

// TestSettleVariation checks that a suspect that answered a probe
// differently when asked again is not cleared (an evasion hunt saw a copy
// with fresh noise on its logits cleared), while one that answered the
// same way, or whose variation was not measured, is.
func TestSettleVariation(t *testing.T) {
	o := Options{}.withDefaults()
	pf := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		name      string
		variation *float64
		want      Verdict
	}{
		{"not measured", nil, NotDerived},
		{"the same answers", pf(0), NotDerived},
		{"batch rounding", pf(1e-6), NotDerived},
		{"at the bound", pf(MaxVariation), NotDerived},
		{"noisy answers", pf(0.2), Inconclusive},
	} {
		tr := TeacherResult{PValue: 0.4, PCombined: 0.4, TPR: 0.75, PowerControls: 8, Variation: tt.variation}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want {
			t.Errorf("%s: verdict %s (%s), want %s", tt.name, tr.Verdict, tr.Reason, tt.want)
		}
		if tt.want == Inconclusive && !strings.Contains(tr.Reason, "answered the same probe differently") {
			t.Errorf("%s: reason %q does not say the answers varied", tt.name, tr.Reason)
		}
	}
	// A significant suspect is DERIVED, noisy or not.
	tr := TeacherResult{PValue: 0.001, PCombined: 0.001, TPR: 0.75, PowerControls: 8, Variation: pf(0.2)}
	if settle(&tr, o, 1); tr.Verdict != Derived {
		t.Errorf("significant noisy suspect: verdict %s, want DERIVED", tr.Verdict)
	}
}

// TestSettleNearby checks that a suspect answering points next to probes
// far from how it answered the probes is not cleared on full outputs,
// while labels, which may flip at a boundary, are exempt.
func TestSettleNearby(t *testing.T) {
	o := Options{}.withDefaults()
	pf := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		name      string
		nearby    *float64
		labelOnly bool
		want      Verdict
	}{
		{"not measured", nil, false, NotDerived},
		{"a smooth network", pf(0.011), false, NotDerived},
		{"at the bound", pf(MaxNearby), false, NotDerived},
		{"keyed noise", pf(0.6), false, Inconclusive},
		{"unmeasured", pf(1), false, Inconclusive},
		{"a label flipped", pf(1), true, NotDerived},
	} {
		tr := TeacherResult{PValue: 0.4, PCombined: 0.4, TPR: 0.75, PowerControls: 8, Variation: pf(0), Nearby: tt.nearby, LabelOnly: tt.labelOnly}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want {
			t.Errorf("%s: verdict %s (%s), want %s", tt.name, tr.Verdict, tr.Reason, tt.want)
		}
		if tt.want == Inconclusive && !strings.Contains(tr.Reason, "points next to probes") {
			t.Errorf("%s: reason %q does not say how points next to probes were answered", tt.name, tr.Reason)
		}
	}
	tr := TeacherResult{PValue: 0.001, PCombined: 0.001, TPR: 0.75, PowerControls: 8, Nearby: pf(0.6)}
	if settle(&tr, o, 1); tr.Verdict != Derived {
		t.Errorf("significant suspect with keyed noise: verdict %s, want DERIVED", tr.Verdict)
	}
}

// TestSettleRemoteUnasked checks that a remote suspect is cleared only when
// it was asked again (and, on full outputs, asked the points next to
// probes), while a model file, which is read directly, needs neither.
func TestSettleRemoteUnasked(t *testing.T) {
	o := Options{}.withDefaults()
	pf := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		name              string
		remote, labelOnly bool
		variation, nearby *float64
		want              Verdict
		reason            string
	}{
		{"a model file", false, false, nil, nil, NotDerived, ""},
		{"remote, asked again", true, false, pf(0), pf(0.001), NotDerived, ""},
		{"remote, not asked again", true, false, nil, nil, Inconclusive, "not asked again"},
		{"remote labels, not asked again", true, true, nil, nil, Inconclusive, "not asked again"},
		{"remote, no points next to probes", true, false, pf(0), nil, Inconclusive, "points next to probes were not asked"},
		{"remote labels, no points next to probes", true, true, pf(0), nil, NotDerived, ""},
	} {
		tr := TeacherResult{PValue: 0.4, PCombined: 0.4, TPR: 0.75, PowerControls: 8, Remote: tt.remote, LabelOnly: tt.labelOnly,
			Variation: tt.variation, Nearby: tt.nearby}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want || !strings.Contains(tr.Reason, tt.reason) {
			t.Errorf("%s: verdict %s (%q), want %s saying %q", tt.name, tr.Verdict, tr.Reason, tt.want, tt.reason)
		}
	}
	tr := TeacherResult{PValue: 0.001, PCombined: 0.001, TPR: 0.75, PowerControls: 8, Remote: true}
	if settle(&tr, o, 1); tr.Verdict != Derived {
		t.Errorf("significant remote suspect not asked again: verdict %s, want DERIVED", tr.Verdict)
	}
}

// TestSettleDefaulted checks that a suspect read with defaulted metadata
// (a safetensors file without "normalization", say, fed raw inputs when it
// was trained on standardised ones, so that a copy answers like an
// independent model) is not cleared, while a significant one is DERIVED.
func TestSettleDefaulted(t *testing.T) {
	o := Options{}.withDefaults()
	for _, tt := range []struct {
		name      string
		defaulted []string
		p         float64
		want      Verdict
	}{
		{"complete file", nil, 0.4, NotDerived},
		{"no normalization", []string{"normalization"}, 0.4, Inconclusive},
		{"no metadata", []string{"activation", "labels", "normalization"}, 0.4, Inconclusive},
		{"significant anyway", []string{"normalization"}, 0.001, Derived},
	} {
		tr := TeacherResult{PValue: tt.p, PCombined: tt.p, TPR: 0.75, PowerControls: 8, Defaulted: tt.defaulted}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want {
			t.Errorf("%s: verdict %s (%s), want %s", tt.name, tr.Verdict, tr.Reason, tt.want)
		}
		if tt.want == Inconclusive {
			for _, k := range tt.defaulted {
				if !strings.Contains(tr.Reason, `"`+k+`"`) || !strings.Contains(tr.Reason, "Models from PyTorch") {
					t.Errorf("%s: reason %q does not name %q and the README section", tt.name, tr.Reason, k)
				}
			}
		}
	}
}

// TestSettleBoundaries checks the verdict at the edges the README states:
// DERIVED at p ≤ α (p = α included), INCONCLUSIVE for p in (α, Clear]
// (p = Clear included), NOT_DERIVED just above Clear.
func TestSettleBoundaries(t *testing.T) {
	o := Options{}.withDefaults()
	for _, tt := range []struct {
		name string
		p    float64
		want Verdict
	}{
		{"p = α", o.Alpha, Derived},
		{"p just above α", math.Nextafter(o.Alpha, 1), Inconclusive},
		{"p = Clear", o.Clear, Inconclusive},
		{"p just above Clear", math.Nextafter(o.Clear, 1), NotDerived},
	} {
		tr := TeacherResult{PValue: tt.p, PCombined: tt.p, TPR: 0.75, PowerControls: 8}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want {
			t.Errorf("%s (%g): verdict %s (%s), want %s", tt.name, tt.p, tr.Verdict, tr.Reason, tt.want)
		}
		// One teacher: no Holm correction, so the reason is the p-value's
		// own, not the one for a p-value the correction raised.
		if want := "is at most"; tt.want == Inconclusive && (!strings.Contains(tr.Reason, want) || strings.Contains(tr.Reason, "correction")) {
			t.Errorf("%s (%g): reason %q, want one saying the p-value %s Clear, with no correction", tt.name, tt.p, tr.Reason, want)
		}
	}
}

// TestSettleNearest checks that a suspect nearest a positive control the
// suite misses (its p above α) is not cleared, while one nearest a
// control it detects (p ≤ α, p = α included) is.
func TestSettleNearest(t *testing.T) {
	o := Options{}.withDefaults()
	pf := func(v float64) *float64 { return &v }
	for _, tt := range []struct {
		name    string
		nearest *Neighbour
		want    Verdict
	}{
		{"no neighbour", nil, NotDerived},
		{"a negative, no p-value", &Neighbour{Role: "negative", Recipe: "mlp seed 3"}, NotDerived},
		{"a detected copy", &Neighbour{Role: "positive", Recipe: "kd T=4", P: pf(0.001)}, NotDerived},
		{"a copy at p = α", &Neighbour{Role: "positive", Recipe: "kd T=4", P: pf(o.Alpha)}, NotDerived},
		{"a copy missed at p below Clear", &Neighbour{Role: "positive", Recipe: "kd T=1", P: pf(0.03)}, Inconclusive},
		{"a copy missed", &Neighbour{Role: "positive", Recipe: "kd T=1", P: pf(0.4)}, Inconclusive},
	} {
		tr := TeacherResult{PValue: 0.4, PCombined: 0.4, TPR: 0.75, PowerControls: 8, Nearest: tt.nearest}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want {
			t.Errorf("%s: verdict %s (%s), want %s", tt.name, tr.Verdict, tr.Reason, tt.want)
		}
		if tt.want == Inconclusive && !strings.Contains(tr.Reason, "closest to a derived control (kd)") {
			t.Errorf("%s: reason %q does not name the control's family", tt.name, tr.Reason)
		}
	}
}

// TestSettleNotRuledOut checks that the families a clearance does not
// rule out are kept for a NOT_DERIVED verdict only.
func TestSettleNotRuledOut(t *testing.T) {
	o := Options{}.withDefaults()
	for _, tt := range []struct {
		name string
		p    float64
		want Verdict
		keep bool
	}{
		{"cleared", 0.4, NotDerived, true},
		{"weak evidence", 0.03, Inconclusive, false},
		{"derived", 0.001, Derived, false},
	} {
		tr := TeacherResult{PValue: tt.p, PCombined: tt.p, TPR: 0.75, PowerControls: 8, NotRuledOut: []string{"kd"}}
		settle(&tr, o, 1)
		if tr.Verdict != tt.want || (tr.NotRuledOut != nil) != tt.keep {
			t.Errorf("%s: verdict %s, not ruled out %q; want %s, kept %v", tt.name, tr.Verdict, tr.NotRuledOut, tt.want, tt.keep)
		}
	}
}

// TestAuditHolmOnlyMeasured checks that Holm's correction counts only the
// teachers the suspect was fingerprinted for: against one measured
// teacher and one it has no fingerprint on, its p-value is not corrected.
func TestAuditHolmOnlyMeasured(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c1, c2 := twoTeachers(t, rng)
	fp := &fingerprint.Fingerprint{ID: "copy", Suite: c1.Suite.Hash, P: follow(rng, c1.Teacher.P, 0.9)}
	res, err := Audit([]*Case{c1, c2}, []*fingerprint.Fingerprint{fp, nil}, fp.ID, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Results[0]
	if !(got.PCombined < 0.5) || got.PValue != got.PCombined {
		t.Errorf("one teacher measured: p_value %g, p_combined %g; want them equal (and below 0.5, or the test shows nothing)", got.PValue, got.PCombined)
	}
	if res.Results[1].Measured() || res.Results[1].Verdict != Inconclusive {
		t.Errorf("teacher without a fingerprint: verdict %s, measured %v; want INCONCLUSIVE, not measured", res.Results[1].Verdict, res.Results[1].Measured())
	}
}
