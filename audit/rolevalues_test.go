package audit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// TestLabelOnlyRoleValues checks that LabelOnlyRoleValues gives the null a
// label-only suspect's lineage score is ranked in (its p_empirical is its
// rank among the negatives' and references' values, the label-only
// reference's included), where RoleValues', the null of suspects with
// probabilities that the report's figure drew it against before, is on
// another scale.
func TestLabelOnlyRoleValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	base := synthCase(t, rng, 6, 24)
	withReport(t, base)
	c := withRefs(rng, base)

	lo, err := c.LabelOnlyRoleValues(StatScore)
	if err != nil {
		t.Fatal(err)
	}
	full, err := c.RoleValues(StatScore)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(lo[store.RoleReference]), 2; got != want {
		t.Errorf("label-only references: got %d values, want %d (the label-only one too)", got, want)
	}
	for _, role := range []string{store.RoleNegative, store.RolePositive} {
		if got, want := len(lo[role]), len(full[role]); got != want || want == 0 {
			t.Errorf("%s: got %d label-only values, want %d (> 0)", role, got, want)
		}
	}
	if _, err := c.LabelOnlyRoleValues("no-such-statistic"); err == nil {
		t.Errorf("LabelOnlyRoleValues of an unknown statistic: no error")
	}

	rank := func(null []float64, x float64) float64 {
		n := 0
		for _, v := range null {
			if v >= x {
				n++
			}
		}
		return float64(1+n) / float64(len(null)+1)
	}
	for _, follows := range []float64{0.45, 0.6, 0.75} {
		got := auditSuspect(t, c, "labels", oneHot(follow(rng, c.Teacher.P, follows)))
		ev, ok := got.Statistics[StatScore]
		if !ok {
			t.Fatalf("follows %g: no %s in the label-only suspect's result", follows, StatScore)
		}
		null := append(append([]float64(nil), lo[store.RoleNegative]...), lo[store.RoleReference]...)
		if got.NullSize != len(null) {
			t.Fatalf("follows %g: the audit's null has %d models, LabelOnlyRoleValues %d", follows, got.NullSize, len(null))
		}
		if want := rank(null, ev.Similarity); math.Abs(ev.PEmpirical-want) > 1e-12 {
			t.Errorf("follows %g: p_empirical %g, its rank in LabelOnlyRoleValues' null %g", follows, ev.PEmpirical, want)
		}
	}
}
