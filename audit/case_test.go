package audit

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
)

// reloaded returns a copy of c as loading the same records again gives:
// equal contents in new values, nothing computed yet.
func reloaded(c *Case) *Case {
	e := *c.Enrolment
	e.Controls = append([]store.Control(nil), e.Controls...)
	suite := *c.Suite
	teacher := *c.Teacher
	out := &Case{Enrolment: &e, Suite: &suite, Teacher: &teacher}
	for _, fp := range c.Controls {
		cp := *fp
		out.Controls = append(out.Controls, &cp)
	}
	return out
}

// TestCaseSameAs: report computes the null figures' statistics with the
// store closed and uses them only for enrolments it finds unchanged when
// it reads the store again; any change to the records a null is computed
// from must count as a difference.
func TestCaseSameAs(t *testing.T) {
	base := synthCase(t, rand.New(rand.NewPCG(7, 1)), 4, 8)
	for i, fp := range base.Controls {
		fp.Hash = "h" + fp.ID
		base.Controls[i] = fp
	}
	base.Teacher.Hash = "h-teacher"
	tests := []struct {
		name   string
		change func(c *Case)
		same   bool
	}{
		{"loaded again", func(*Case) {}, true},
		{"a reference added", func(c *Case) {
			fp := &fingerprint.Fingerprint{ID: "ref", Suite: c.Suite.Hash, P: c.Controls[0].P, Hash: "h-ref"}
			c.Controls = append(c.Controls, fp)
			c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: fp.ID, Role: store.RoleReference, Half: store.HalfCalibration})
		}, false},
		{"a control's fingerprint replaced", func(c *Case) { c.Controls[3].Hash = "other" }, false},
		{"the teacher's fingerprint replaced", func(c *Case) { c.Teacher.Hash = "other" }, false},
		{"another suite", func(c *Case) { c.Suite.Hash = "other" }, false},
		{"the enrolment record changed", func(c *Case) { c.Enrolment.Created = "2026-12-06T00:00:00Z" }, false},
	}
	for _, tt := range tests {
		c := reloaded(base)
		tt.change(c)
		if got := base.SameAs(c); got != tt.same {
			t.Errorf("%s: SameAs = %v, want %v", tt.name, got, tt.same)
		}
		if got := c.SameAs(base); got != tt.same {
			t.Errorf("%s: SameAs the other way = %v, want %v", tt.name, got, tt.same)
		}
	}

	// Precomputed or not, a case gives the same null.
	warm, cold := reloaded(base), reloaded(base)
	if err := warm.Precompute(); err != nil {
		t.Fatal(err)
	}
	a, errA := warm.RoleValues(StatisticKeys(base.Suite, false)[0])
	b, errB := cold.RoleValues(StatisticKeys(base.Suite, false)[0])
	if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
		t.Errorf("RoleValues of a precomputed case %v (%v), of a fresh one %v (%v)", a, errA, b, errB)
	}
}
