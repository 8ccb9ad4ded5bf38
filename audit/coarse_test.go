package audit

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"gonum.org/v1/gonum/blas/blas32"
)

// mapRows returns a copy of p with each row replaced by f(dst, src): dst is
// the new row, src the old.
func mapRows(p blas32.General, f func(dst, src []float32)) blas32.General {
	out := blas32.General{Rows: p.Rows, Cols: p.Cols, Stride: p.Cols, Data: make([]float32, p.Rows*p.Cols)}
	for i := 0; i < p.Rows; i++ {
		f(out.Data[i*p.Cols:(i+1)*p.Cols], p.Data[i*p.Stride:i*p.Stride+p.Cols])
	}
	return out
}

// roundRows returns p with every entry rounded to the given decimals and
// each row renormalised, as an API that rounds its probabilities serves.
func roundRows(p blas32.General, decimals int) blas32.General {
	f := math.Pow(10, float64(decimals))
	return mapRows(p, func(dst, src []float32) {
		var s float64
		for j, v := range src {
			dst[j] = float32(math.Round(float64(v)*f) / f)
			s += float64(dst[j])
		}
		for j := range dst {
			dst[j] = float32(float64(dst[j]) / s)
		}
	})
}

// mixRows returns p mixed with the uniform distribution,
// (1−eps)·p + eps/K, row by row.
func mixRows(p blas32.General, eps float64) blas32.General {
	return mapRows(p, func(dst, src []float32) {
		for j, v := range src {
			dst[j] = float32((1-eps)*float64(v) + eps/float64(len(src)))
		}
	})
}

// TestCoarseOutputsAuditedOnLabels checks that a suspect whose outputs are
// rounded below the top class is audited exactly as its labels are (an
// evasion hunt found rounded copies cleared on their full outputs while
// their labels made them DERIVED), and says so; full-precision outputs
// are audited as they are.
func TestCoarseOutputsAuditedOnLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	soft := follow(rng, c.Teacher.P, 0.8)
	rounded := roundRows(soft, 1)
	got := auditSuspect(t, c, "rounded", rounded)
	want := auditSuspect(t, c, "labels", oneHot(rounded))
	if got.Coarse == "" || !got.LabelOnly {
		t.Errorf("rounded suspect: coarse %q, label-only %v; want a note and true", got.Coarse, got.LabelOnly)
	}
	if got.PCombined != want.PCombined || got.Verdict != want.Verdict {
		t.Errorf("rounded suspect: p %g (%s), its labels: p %g (%s); want the same", got.PCombined, got.Verdict, want.PCombined, want.Verdict)
	}
	if full := auditSuspect(t, c, "soft", soft); full.Coarse != "" || full.LabelOnly {
		t.Errorf("full-precision suspect: coarse %q, label-only %v; want none and false", full.Coarse, full.LabelOnly)
	}
}

// TestFloorOutputsAuditedOnLabels checks that a suspect whose outputs were
// mixed with the uniform distribution (a floor under every class,
// compare.MixFloor at least FloorMin and over twice the controls' own) is
// audited exactly as its labels are, and says so, while a mix too slight to
// clear the controls' floors is audited on its full outputs (an evasion hunt found copies served as 0.7·p + 0.3/K
// INCONCLUSIVE or cleared while their labels made them DERIVED).
func TestFloorOutputsAuditedOnLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	soft := follow(rng, c.Teacher.P, 0.8)
	if f := compare.MixFloor(soft); f > 2*c.controlFloor(0) {
		t.Fatalf("test suspect's own floor %g, want at most twice the controls' %g", f, c.controlFloor(0))
	}
	n := soft.Rows
	for _, tt := range []struct {
		eps    float64
		off    int // rows served without the floor
		labels bool
	}{
		{0.3, 0, true},
		{0.6, 0, true},
		{0.6, 1, true},           // one probe served without the floor
		{0.6, n / 20, true},      // 5 % of them
		{0.6, n * 3 / 20, false}, // 15 %: more than any check leaves out
		{0, 0, false},
		{0.001, 0, false},
	} {
		mixed := mixRows(soft, tt.eps)
		// The rows left unmixed answer sharply, as a confident model
		// does: all but their top class near zero, and no two alike.
		sharp := oneHot(soft)
		for i := range tt.off {
			row := mixed.Data[i*mixed.Stride : i*mixed.Stride+mixed.Cols]
			for j := range row {
				row[j] = 1e-6*float32(j+1) + 0.99*sharp.Data[i*sharp.Stride+j]
			}
		}
		got := auditSuspect(t, c, "mixed", mixed)
		if !tt.labels {
			if got.Coarse != "" || got.LabelOnly {
				t.Errorf("mixed at %g, %d rows off: coarse %q, label-only %v; want none and false", tt.eps, tt.off, got.Coarse, got.LabelOnly)
			}
			continue
		}
		want := auditSuspect(t, c, "labels", oneHot(mixed))
		if !strings.Contains(got.Coarse, "floor") || !got.LabelOnly {
			t.Errorf("mixed at %g, %d rows off: coarse %q, label-only %v; want a note on the floor and true", tt.eps, tt.off, got.Coarse, got.LabelOnly)
		}
		if got.PCombined != want.PCombined || got.Verdict != want.Verdict {
			t.Errorf("mixed at %g, %d rows off: p %g (%s), its labels: p %g (%s); want the same", tt.eps, tt.off, got.PCombined, got.Verdict, want.PCombined, want.Verdict)
		}
	}
}

// TestClearingReadsLabels checks the clearing rule's second look: a
// full-output suspect that is not significant carries the p-value of its
// labels' audit (LabelsP), and is NOT_DERIVED only when that p-value is
// above Options.Clear too; otherwise INCONCLUSIVE, saying why.
func TestClearingReadsLabels(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	seen := 0
	for i := range 40 {
		frac := 0.2 + 0.02*float64(i)
		p := follow(rng, c.Teacher.P, frac)
		tr := auditSuspect(t, c, "s", p)
		if tr.PCombined <= DefaultClear || tr.Outside != "" {
			if tr.LabelsP != nil {
				t.Errorf("follow %.2f: p %g, outside %q: labels p computed, want nil", frac, tr.PCombined, tr.Outside)
			}
			continue
		}
		if tr.LabelsP == nil {
			t.Errorf("follow %.2f: p %g, verdict %s: no labels p", frac, tr.PCombined, tr.Verdict)
			continue
		}
		lab := auditSuspect(t, c, "s", oneHot(p))
		if *tr.LabelsP != lab.PCombined {
			t.Errorf("follow %.2f: labels p %g, the labels' audit %g; want the same", frac, *tr.LabelsP, lab.PCombined)
		}
		if *tr.LabelsP <= DefaultClear {
			seen++
			if tr.Verdict != Inconclusive || !strings.Contains(tr.Reason, "its labels alone give p") {
				t.Errorf("follow %.2f: labels p %g: verdict %s (%s), want INCONCLUSIVE naming the labels", frac, *tr.LabelsP, tr.Verdict, tr.Reason)
			}
		}
	}
	t.Logf("%d suspects cleared on full outputs but not on their labels", seen)
}

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

// TestAuditRemoteUnasked checks that an audit reads a remote fingerprint's
// provenance: an independent model fingerprinted remotely without asking
// again is not cleared, and the same answers from a model file are.
func TestAuditRemoteUnasked(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	p := follow(rng, c.Teacher.P, 0.4)
	for _, tt := range []struct {
		name string
		meta map[string]string
		want Verdict
	}{
		{"a model file", nil, NotDerived},
		{"remote, not asked again", map[string]string{fingerprint.MetaRemote: "exec"}, Inconclusive},
		{"remote, asked again", map[string]string{fingerprint.MetaRemote: "exec", fingerprint.MetaVariation: "0", fingerprint.MetaNearby: "0.001"}, NotDerived},
	} {
		fp := &fingerprint.Fingerprint{ID: "s", Suite: c.Suite.Hash, P: p, Meta: tt.meta}
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, "s", Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Results[0]; got.Verdict != tt.want || got.Remote != (tt.meta != nil) {
			t.Errorf("%s: verdict %s (%s), remote %v; want %s, remote %v", tt.name, got.Verdict, got.Reason, got.Remote, tt.want, tt.meta != nil)
		}
	}
}
