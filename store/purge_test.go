package store

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
)

// TestPurgeEnrolment checks what PurgeEnrolment removes: the enrolment,
// its NAME/teacher and NAME/control-NN fingerprints unless an audit or another enrolment uses them,
// its suite name, and its suite once no fingerprint is left on it; and
// that it finishes the job after a plain Remove of the enrolment. Other
// fingerprints under acme/ (a suspect probed as acme/paid, or as
// acme/control-28, whose model enrolment did not name) are the user's and
// stay.
func TestPurgeEnrolment(t *testing.T) {
	su := newTestSuite("", 20, 4, 1)
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := putNamedSuite(tx, "acme", su); err != nil {
			return err
		}
		for i, id := range []string{"acme/teacher", "acme/control-00", "acme/control-01", "acme/audited", "ref", "acme/paid", "acme/control-x", "acme/teacher2", "acme/control-28"} {
			fp := newTestFP(id, su, uint64(i))
			if n, ok := strings.CutPrefix(id, "acme/control-0"); ok {
				// As enrolment names its controls' models: NAME-RECIPE-NN.
				fp.Model.Name = "acme-kd-t4-0" + n
				fp.Hash = fp.ComputeHash()
			}
			if err := tx.PutFingerprint(fp, PutOptions{}); err != nil {
				return err
			}
		}
		if err := tx.PutEnrolment(&Enrolment{Name: "acme", TeacherFP: "acme/teacher", Suite: su.Hash,
			Teacher:  model.Info{Name: "teacher", InputSize: 4, Labels: labels},
			Controls: []Control{{FP: "acme/control-00", Role: RolePositive, Half: HalfSelection}, {FP: "acme/control-01", Role: RoleNegative, Half: HalfCalibration}, {FP: "ref", Role: RoleReference}},
		}, PutOptions{}); err != nil {
			return err
		}
		return tx.PutAudit(&AuditRecord{ID: "a1", Suspect: "acme/control-01", Result: []byte(`{}`)}, PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, TypeEnrolment, "acme", RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := s.PurgeEnrolment(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"acme/control-00", "acme/teacher"}; p.Enrolment || !slices.Equal(p.Fingerprints, want) ||
		!p.SuiteName || p.Suite != "" || len(p.Kept) != 1 {
		t.Errorf("purge after rm: %+v, want fingerprints %q and the suite name removed, acme/control-01 (audited) kept, the suite kept (ref and others are on it)", p, want)
	}
	err = s.View(ctx, func(tx *Tx) error {
		for id, want := range map[string]bool{"acme/teacher": false, "acme/control-00": false, "acme/control-01": true, "acme/audited": true, "ref": true,
			"acme/paid": true, "acme/control-x": true, "acme/teacher2": true, "acme/control-28": true} {
			if got := tx.HasFingerprint(id); got != want {
				t.Errorf("fingerprint %s stored: %v, want %v", id, got, want)
			}
		}
		if tx.HasSuiteName("acme") {
			t.Error("suite name acme kept")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing of acme's is left but what the audit uses.
	if _, err := s.PurgeEnrolment(ctx, "acme"); err != nil {
		t.Errorf("second purge with a kept fingerprint: %v", err)
	}
	if _, err := s.PurgeEnrolment(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("purge of nothing: %v, want ErrNotFound", err)
	}
}

// putEnrolled stores, in tx, suite su under the name NAME and an enrolment
// NAME whose teacher's fingerprint is NAME/teacher, without controls.
func putEnrolled(tx *Tx, name string, su *probe.Suite) error {
	if err := putNamedSuite(tx, name, su); err != nil {
		return err
	}
	if err := tx.PutFingerprint(newTestFP(name+"/teacher", su, 1), PutOptions{}); err != nil {
		return err
	}
	return tx.PutEnrolment(&Enrolment{Name: name, TeacherFP: name + "/teacher", Suite: su.Hash,
		Teacher: model.Info{Name: "teacher", InputSize: 4, Labels: labels}}, PutOptions{})
}

// putNamedSuite stores su and registers it under name, as enrolment does.
func putNamedSuite(tx *Tx, name string, su *probe.Suite) error {
	if err := tx.PutSuite(su); err != nil {
		return err
	}
	return tx.tx.Bucket(bucketNames).Put([]byte(name), []byte(su.Hash))
}

// TestPurgeEnrolmentSuite checks that the suite goes too when nothing else
// is on it.
func TestPurgeEnrolmentSuite(t *testing.T) {
	su := newTestSuite("", 20, 4, 2)
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error { return putEnrolled(tx, "beta", su) })
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PurgeEnrolment(ctx, "beta")
	if err != nil || !p.Enrolment || p.Suite != su.Hash || len(p.Fingerprints) != 1 {
		t.Fatalf("purge: %+v, %v; want the enrolment, its fingerprint and its suite removed", p, err)
	}
	if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Counts[TypeSuite] != 0 {
		t.Errorf("after purge: verify %+v, %v; want an empty, sound store", r, err)
	}
}

// TestPurgeEnrolmentListed checks that, while the enrolment record is
// there, only the fingerprints it lists go: a suspect probed under an ID
// of the enrolment's pattern it does not use (NAME/control-28 beside 2
// controls) is the user's, and so is a reference.
func TestPurgeEnrolmentListed(t *testing.T) {
	su := newTestSuite("", 20, 4, 4)
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		for i, id := range []string{"acme/teacher", "acme/control-00", "acme/control-01", "acme/control-28", "acme/ref"} {
			if err := tx.PutFingerprint(newTestFP(id, su, uint64(20+i)), PutOptions{}); err != nil {
				return err
			}
		}
		return tx.PutEnrolment(&Enrolment{Name: "acme", TeacherFP: "acme/teacher", Suite: su.Hash,
			Teacher: model.Info{Name: "teacher", InputSize: 4, Labels: labels},
			Controls: []Control{{FP: "acme/control-00", Role: RolePositive, Half: HalfSelection},
				{FP: "acme/control-01", Role: RoleNegative, Half: HalfCalibration}, {FP: "acme/ref", Role: RoleReference}},
		}, PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PurgeEnrolment(ctx, "acme")
	if want := []string{"acme/control-00", "acme/control-01", "acme/teacher"}; err != nil || !slices.Equal(p.Fingerprints, want) || p.Suite != "" {
		t.Errorf("purge: %+v, %v; want fingerprints %q removed and the suite kept", p, err, want)
	}
	err = s.View(ctx, func(tx *Tx) error {
		for _, id := range []string{"acme/control-28", "acme/ref"} {
			if !tx.HasFingerprint(id) {
				t.Errorf("fingerprint %s removed, want it kept", id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second purge, without the record, takes it no more than the first.
	if p, err := s.PurgeEnrolment(ctx, "acme"); err == nil || len(p.Fingerprints) > 0 {
		t.Errorf("second purge: %+v, %v; want nothing of acme's left (not found) and acme/control-28 kept", p, err)
	}
}

// TestPurgeEnrolmentUsersTeacherID: with no enrolment of that name, a
// fingerprint the user stored as NAME/teacher (probe --name foo/teacher)
// is not taken for an enrolment's leftover: it was removed by a purge
// that enrol's message suggested.
func TestPurgeEnrolmentUsersTeacherID(t *testing.T) {
	su := newTestSuite("", 20, 4, 3)
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := putNamedSuite(tx, "acme", su); err != nil {
			return err
		}
		return tx.PutFingerprint(newTestFP("foo/teacher", su, 1), PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.PurgeEnrolment(ctx, "foo"); !errors.Is(err, ErrNotFound) {
		t.Errorf("purge of foo: %+v, %v; want ErrNotFound", p, err)
	}
	// Under a suite name foo pointing elsewhere (an enrolment foo removed
	// with its teacher's fingerprint, then a probe as foo/teacher on
	// acme's suite), it is not foo's either.
	other := newTestSuite("", 20, 4, 4)
	err = s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(other); err != nil {
			return err
		}
		return tx.tx.Bucket(bucketNames).Put([]byte("foo"), []byte(other.Hash))
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.PurgeEnrolment(ctx, "foo"); err != nil || len(p.Fingerprints) != 0 || !p.SuiteName {
		t.Errorf("purge of foo's suite name: %+v, %v; want the suite name removed and no fingerprint", p, err)
	}
	if err := s.View(ctx, func(tx *Tx) error {
		if !tx.HasFingerprint("foo/teacher") {
			t.Error("the user's fingerprint foo/teacher was removed")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestPurgeEnrolmentTwice: a teacher's fingerprint a purge keeps (an
// audit uses it) is removed by a later purge once nothing uses it: the
// first purge keeps the suite name, by which the second knows it.
func TestPurgeEnrolmentTwice(t *testing.T) {
	su := newTestSuite("", 20, 4, 5)
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := putEnrolled(tx, "acme", su); err != nil {
			return err
		}
		return tx.PutAudit(&AuditRecord{ID: "a1", Suspect: "acme/teacher", Result: []byte(`{}`)}, PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.PurgeEnrolment(ctx, "acme")
	if err != nil || !p.Enrolment || len(p.Kept) != 1 || p.SuiteName {
		t.Fatalf("first purge: %+v, %v; want the enrolment removed, acme/teacher and the suite name kept", p, err)
	}
	if err := s.Remove(ctx, TypeAudit, "a1", RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err = s.PurgeEnrolment(ctx, "acme")
	if err != nil || !slices.Equal(p.Fingerprints, []string{"acme/teacher"}) || !p.SuiteName || p.Suite != su.Hash {
		t.Errorf("second purge: %+v, %v; want acme/teacher, the suite name and the suite removed", p, err)
	}
}

// TestPurgeEnrolmentSuiteKept checks that a purge that removes the suite
// name but keeps the suite for a fingerprint on it says so (SuiteKept,
// SuiteUsers), and that UnusedSuites lists the suite once that fingerprint
// is gone, and no suite that is named or used.
func TestPurgeEnrolmentSuiteKept(t *testing.T) {
	su, other := newTestSuite("", 20, 4, 2), newTestSuite("", 20, 4, 3)
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := putEnrolled(tx, "acme", su); err != nil {
			return err
		}
		if err := putEnrolled(tx, "beta", other); err != nil {
			return err
		}
		return tx.PutFingerprint(newTestFP("tt", su, 2), PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	unused := func() (out []string) {
		s.View(ctx, func(tx *Tx) error { out = tx.UnusedSuites(); return nil })
		return out
	}
	p, err := s.PurgeEnrolment(ctx, "acme")
	if err != nil || !p.SuiteName || p.Suite != "" || p.SuiteKept != su.Hash || !slices.Equal(p.SuiteUsers, []string{"fingerprint tt"}) {
		t.Fatalf("purge: %+v, %v; want the suite name removed and the suite kept for fingerprint tt", p, err)
	}
	if got := unused(); len(got) != 0 {
		t.Errorf("UnusedSuites with tt on the suite = %q, want none", got)
	}
	if err := s.Remove(ctx, TypeFingerprint, "tt", RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := unused(); !slices.Equal(got, []string{su.Hash}) {
		t.Errorf("UnusedSuites = %q, want [%s]", got, su.Hash)
	}
	if _, err := s.PurgeEnrolment(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second purge: %v, want ErrNotFound", err)
	}
}

// TestPurgeEnrolmentSuiteGone checks that a purge after the enrolment
// record and its suite were removed (db rm enrolment, then db rm suite
// --force) still removes the control fingerprints it recognises by their
// models' names: it read each through Fingerprint, which refuses a
// fingerprint whose suite is missing (its shape check), so the purge
// kept them and found nothing to remove.
func TestPurgeEnrolmentSuiteGone(t *testing.T) {
	s, _ := suiteGoneStore(t, func(tx *Tx, su *probe.Suite) error {
		fp := newTestFP("acme/control-01", su, 1)
		fp.Model.Name = "acme-pos-01"
		fp.Hash = fp.ComputeHash()
		return tx.PutFingerprint(fp, PutOptions{})
	})
	p, err := s.PurgeEnrolment(ctx, "acme")
	if err != nil || !slices.Equal(p.Fingerprints, []string{"acme/control-01"}) {
		t.Errorf("purge: %+v, %v; want acme/control-01 removed", p, err)
	}
}
