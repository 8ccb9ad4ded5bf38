package audit

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// guardCase returns a case whose last nData probes are held-out data
// probes, with 6 students of the teacher, 12 replicas and 12 independent
// models of another recipe in each half, and its calibration report; and
// the world and teacher's quirks it was drawn from.
func guardCase(t *testing.T, rng *rand.Rand, nData int) (*Case, *replicaWorld, []float64) {
	t.Helper()
	w := newReplicaWorld(rng)
	tq := w.quirks()
	c := replicaCase(w, tq, 0)
	for i := nProbes - nData; i < nProbes; i++ {
		c.Suite.Kinds[i] = probe.Data
	}
	for _, half := range []string{store.HalfSelection, store.HalfCalibration} {
		for i := range 6 {
			addControl(c, fmt.Sprintf("%s-student-%d", half, i), store.RolePositive, half, "student", w.answers(1, []float64{0.6, 0.6}, tq, w.quirks()))
		}
		for _, name := range []string{ReplicaFamily, "other-recipe"} {
			for i := range 12 {
				addControl(c, fmt.Sprintf("%s-%s-%d", half, name, i), store.RoleNegative, half, name, w.answers(1, []float64{1}, w.quirks()))
			}
		}
	}
	withReport(t, c)
	return c, w, tq
}

// TestDataProbesGuardClearing checks the clearing rule's look at the
// held-out data probes: a server that answers the data probes with a
// student of the teacher and every other probe with an independent model
// (as one routing the inputs its copy is unsure of does) is not cleared,
// while independent models mostly are, and the rule never makes anyone
// DERIVED.
func TestDataProbesGuardClearing(t *testing.T) {
	const nData = 12 // the last 12 of the 120 probes are held-out data, as in a real suite (30 of 300)
	c, w, tq := guardCase(t, rand.New(rand.NewPCG(31, 32)), nData)
	indep := func() blas32.General { return w.answers(1, []float64{1}, w.quirks()) }
	student := func() blas32.General { return w.answers(1, []float64{0.6, 0.6}, tq, w.quirks()) }
	// routed answers the data probes as a student and the rest as an
	// independent model.
	routed := func() blas32.General {
		p, s := indep(), student()
		copy(p.Data[(nProbes-nData)*nClasses:], s.Data[(nProbes-nData)*nClasses:])
		return p
	}
	audit := func(p blas32.General) TeacherResult {
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{{ID: "suspect", P: p}}, "suspect", Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Results[0]
	}
	var clearedRouted, guarded, clearedIndep, derivedIndep, guardedIndep int
	const n = 20
	for range n {
		r := audit(routed())
		if r.Verdict == NotDerived {
			clearedRouted++
		}
		if r.DataP != nil && *r.DataP <= DefaultClear {
			guarded++
			if r.Verdict != Inconclusive || !strings.Contains(r.Reason, "held-out data probes") {
				t.Errorf("routed suspect with data-probe p %.3g: verdict %s (%s), want INCONCLUSIVE naming the data probes", *r.DataP, r.Verdict, r.Reason)
			}
		}
		i := audit(indep())
		switch {
		case i.Verdict == NotDerived:
			clearedIndep++
		case i.Verdict == Derived:
			derivedIndep++
		case strings.Contains(i.Reason, "held-out data probes"):
			guardedIndep++
		}
	}
	// Of the routed suspects the whole suite would clear (p above 0.05),
	// the data probes hold some back; with 12 of them, not all.
	if guarded < 3 {
		t.Errorf("routed suspects held back by the data probes: %d of %d, want at least 3 (%d cleared)", guarded, n, clearedRouted)
	}
	if clearedIndep < n*3/4 || guardedIndep > 2 || derivedIndep > 1 {
		t.Errorf("independent suspects: %d cleared, %d held back by the data probes, %d DERIVED of %d; want at least %d, at most 2, at most 1", clearedIndep, guardedIndep, derivedIndep, n, n*3/4)
	}
	t.Logf("routed: %d of %d cleared, %d held back by the data probes; independent: %d cleared, %d held back, %d DERIVED", clearedRouted, n, guarded, clearedIndep, guardedIndep, derivedIndep)
}
