package store

import (
	"errors"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/model"
)

// TestRemoveReference checks that RemoveReference takes a reference out of
// one enrolment or of all, refuses an enrolment's own controls, keeps the
// fingerprint unless purging and, purging, while an audit still uses it;
// and that the rewritten enrolments pass their checksum and Verify.
func TestRemoveReference(t *testing.T) {
	su := newTestSuite("", 20, 4, 3)
	s := openTest(t, tempPath(t), false)
	enrol := func(tx *Tx, name string, refs ...string) error {
		cs := []Control{{FP: name + "/control-00", Role: RolePositive, Half: HalfSelection},
			{FP: name + "/control-01", Role: RoleNegative, Half: HalfCalibration}}
		for _, r := range refs {
			cs = append(cs, Control{FP: r, Role: RoleReference, Recipe: "reference " + r})
		}
		return tx.PutEnrolment(&Enrolment{Name: name, TeacherFP: name + "/teacher", Suite: su.Hash,
			Teacher: model.Info{Name: "teacher", InputSize: 4, Labels: labels}, Controls: cs}, PutOptions{})
	}
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		ids := []string{"r1", "r2", "r3"}
		for _, n := range []string{"acme", "beta"} {
			ids = append(ids, n+"/teacher", n+"/control-00", n+"/control-01")
		}
		for i, id := range ids {
			if err := tx.PutFingerprint(newTestFP(id, su, uint64(10+i)), PutOptions{}); err != nil {
				return err
			}
		}
		if err := enrol(tx, "acme", "r1", "r2", "r3"); err != nil {
			return err
		}
		if err := enrol(tx, "beta", "r1"); err != nil {
			return err
		}
		return tx.PutAudit(&AuditRecord{ID: "a1", Suspect: "r2", Result: []byte(`{}`)}, PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	refs := func(name string) []string {
		t.Helper()
		e, err := s.Enrolment(ctx, name)
		if err != nil {
			t.Fatalf("enrolment %s after a removal: %v", name, err)
		}
		var out []string
		for _, c := range e.Controls {
			if c.Role == RoleReference {
				out = append(out, c.FP)
			}
		}
		return out
	}
	stored := func(id string) bool {
		t.Helper()
		var ok bool
		if err := s.View(ctx, func(tx *Tx) error { ok = tx.HasFingerprint(id); return nil }); err != nil {
			t.Fatal(err)
		}
		return ok
	}

	r, err := s.RemoveReference(ctx, "acme", "r1", false)
	if err != nil || !slices.Equal(r.Teachers, []string{"acme"}) || r.Fingerprint {
		t.Errorf("remove r1 from acme: %+v, %v; want removed from acme only, fingerprint kept", r, err)
	}
	if got, want := refs("acme"), []string{"r2", "r3"}; !slices.Equal(got, want) {
		t.Errorf("acme's references: got %q, want %q", got, want)
	}
	if got, want := refs("beta"), []string{"r1"}; !slices.Equal(got, want) {
		t.Errorf("beta's references: got %q, want %q", got, want)
	}
	if !stored("r1") {
		t.Error("r1's fingerprint removed without purge")
	}
	if _, err := s.RemoveReference(ctx, "acme", "r1", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove r1 from acme again: %v, want ErrNotFound", err)
	}
	if _, err := s.RemoveReference(ctx, "acme", "acme/control-01", true); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("remove a negative control: %v, want a refusal", err)
	}
	if got := len(refs("acme")); got != 2 || !stored("acme/control-01") {
		t.Errorf("after the refused removal: %d references, control stored %v; want 2 and true", got, stored("acme/control-01"))
	}
	if _, err := s.RemoveReference(ctx, "", "acme/control-01", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove a control from every teacher: %v, want ErrNotFound (no teacher has it as a reference)", err)
	}
	if _, err := s.RemoveReference(ctx, "nobody", "r2", false); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove from an unknown teacher: %v, want ErrNotFound", err)
	}

	r, err = s.RemoveReference(ctx, "", "r1", true)
	if err != nil || !slices.Equal(r.Teachers, []string{"beta"}) || !r.Fingerprint || len(r.Kept) != 0 {
		t.Errorf("purge r1 from every teacher: %+v, %v; want removed from beta with its fingerprint", r, err)
	}
	if stored("r1") {
		t.Error("r1's fingerprint kept after purge")
	}
	r, err = s.RemoveReference(ctx, "acme", "r2", true)
	if err != nil || r.Fingerprint || !slices.Equal(r.Kept, []string{"audit a1"}) {
		t.Errorf("purge r2, which an audit uses: %+v, %v; want the fingerprint kept for audit a1", r, err)
	}
	if rep, err := s.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("verify after removals: %+v, %v; want a sound store", rep, err)
	}
}
