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
