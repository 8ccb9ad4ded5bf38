package audit

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestAuditNullFamily pins the null family an audit reports. The
// independent controls come in two recipe families: replicas of the
// teacher's recipe, which share nothing with it, and "near" models, which
// share a part of its quirks and so score higher. An independent suspect's
// p-value is set against "near", and the result names it; in every audit
// the reported family is set exactly when the best statistic's method says
// its p-value is a family's, including audits where the other statistic
// keeps the pooled null.
func TestAuditNullFamily(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	w := newReplicaWorld(rng)
	tq := w.quirks()
	c := replicaCase(w, tq, 0)
	student := func() blas32.General { return w.answers(1, []float64{0.6, 0.6}, tq, w.quirks()) }
	replica := func() blas32.General { return w.answers(1, []float64{1}, w.quirks()) }
	near := func() blas32.General { return w.answers(1, []float64{0.3, 1}, tq, w.quirks()) }
	for _, half := range []string{store.HalfSelection, store.HalfCalibration} {
		for i := range 6 {
			addControl(c, fmt.Sprintf("%s-student-%d", half, i), store.RolePositive, half, "student", student())
		}
		for i := range 8 {
			addControl(c, fmt.Sprintf("%s-replica-%d", half, i), store.RoleNegative, half, ReplicaFamily, replica())
			addControl(c, fmt.Sprintf("%s-near-%d", half, i), store.RoleNegative, half, "near", near())
		}
	}
	if c.contrast() == nil {
		t.Fatal("contrast: got no panel, want one (8 replicas in the selection half)")
	}
	withReport(t, c)
	tests := []struct {
		name       string
		answers    func() blas32.General
		wantFamily string // "" when the family depends on the draw
	}{
		{"student", student, ""},
		{"replica", replica, "near"},
		{"near", near, ""},
	}
	split := 0 // audits whose best statistic has a family and the other has none
	for _, tt := range tests {
		for i := range 6 {
			id := fmt.Sprintf("%s-suspect-%d", tt.name, i)
			res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{{ID: id, P: tt.answers()}}, id, Options{})
			if err != nil {
				t.Fatal(err)
			}
			tr := res.Results[0]
			best, ok := tr.Statistics[tr.Best]
			if !ok {
				t.Fatalf("%s: best statistic %q has no evidence", id, tr.Best)
			}
			if got, want := tr.NullFamily != "", best.Method == MethodWorstFamily; got != want {
				t.Errorf("%s: null family %q with best statistic %s's method %q: got a family %v, want %v", id, tr.NullFamily, tr.Best, best.Method, got, want)
			}
			if tr.NullFamily != "" && tr.NullFamily != "near" {
				t.Errorf("%s: null family %q, want \"near\" (the family scoring highest) or none", id, tr.NullFamily)
			}
			if tt.wantFamily != "" && tr.NullFamily != tt.wantFamily {
				t.Errorf("%s: null family %q, want %q", id, tr.NullFamily, tt.wantFamily)
			}
			if r, ok := tr.Statistics[StatResidual]; ok && tr.Best != StatResidual && best.Method == MethodWorstFamily && r.Method != MethodWorstFamily {
				split++
			}
		}
	}
	t.Logf("%d audits held the best statistic to a family and the residual to the pooled null", split)
	if split == 0 {
		t.Errorf("no audit held its best statistic to a family and the residual to the pooled null; the test cannot tell the two statistics' families apart")
	}
}
