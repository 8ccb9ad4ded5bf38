package store

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/probe"
)

// TestShowRedactsWatermarkKey checks that `db show` never prints the
// watermark key.
func TestShowRedactsWatermarkKey(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	for _, typ := range []string{"", TypeEnrolment} {
		out, err := s.Show(ctx, typ, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), testMarkKey) || !strings.Contains(string(out), RedactedKey) {
			t.Errorf("Show(%q, acme) = %s; want the key redacted", typ, out)
		}
	}
	err := s.View(ctx, func(tx *Tx) error {
		e, err := tx.Enrolment("acme")
		if err == nil && e.Watermark.Key != testMarkKey {
			t.Errorf("stored key %q changed by Show", e.Watermark.Key)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTypesOf checks that TypesOf lists every record type holding an ID,
// in the order Show searches them, so that db show can say what it did
// not show.
func TestTypesOf(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	err := s.Update(ctx, func(tx *Tx) error {
		return tx.PutAudit(&AuditRecord{ID: "suspect", Suspect: "suspect", Against: []string{"acme"}, Result: []byte(`{}`)}, PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id   string
		want []string
	}{
		{"acme", []string{TypeEnrolment}},
		{"suspect", []string{TypeFingerprint, TypeAudit}},
		{"acme-suite", []string{TypeSuite}},
		{"remote-1", []string{TypeAnswers}},
		{"nothing", nil},
	} {
		got, err := s.TypesOf(ctx, tt.id)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("TypesOf(%q) = %v, %v; want %v", tt.id, got, err, tt.want)
		}
	}
}

// TestShowFingerprintSuiteGone checks that db show shows a fingerprint
// whose suite was removed (db rm suite --force), as it did before
// Fingerprint checked a record's shape against its suite: it failed with
// "suite … is missing (run `lineage db verify`)", hiding the record the
// user wants to inspect.
func TestShowFingerprintSuiteGone(t *testing.T) {
	s, su := suiteGoneStore(t, func(tx *Tx, su *probe.Suite) error {
		return tx.PutFingerprint(newTestFP("s1", su, 1), PutOptions{})
	})
	for _, typ := range []string{"", TypeFingerprint} {
		out, err := s.Show(ctx, typ, "s1")
		if err != nil || !strings.Contains(string(out), `"rows": 20`) || !strings.Contains(string(out), `"suite": "`+su.Hash+`"`) {
			t.Errorf("Show(%q, s1) = %s, %v; want the fingerprint, 20 rows on suite %.12s", typ, out, err, su.Hash)
		}
	}
	if _, err := s.Show(ctx, TypeFingerprint, "none"); !isNotFound(err) {
		t.Errorf("Show of a missing fingerprint: %v, want not found", err)
	}
}

// TestFingerprintSuiteGone checks that a fingerprint whose suite db rm
// suite --force removed is refused by Fingerprint with a *SuiteGoneError
// naming both, not as a corrupted store, and that putting another
// fingerprint over it without Replace says its suite is gone.
func TestFingerprintSuiteGone(t *testing.T) {
	other := newTestSuite("", 20, 4, 6)
	s, su := suiteGoneStore(t, func(tx *Tx, su *probe.Suite) error {
		if err := tx.PutSuite(other); err != nil {
			return err
		}
		return tx.PutFingerprint(newTestFP("s1", su, 1), PutOptions{})
	})
	err := s.View(ctx, func(tx *Tx) error { _, err := tx.Fingerprint("s1"); return err })
	var gone *SuiteGoneError
	if !errors.As(err, &gone) || gone.Fingerprint != "s1" || gone.Suite != su.Hash || errors.Is(err, ErrCorrupt) {
		t.Errorf("Fingerprint(s1) = %v; want a *SuiteGoneError of s1 on %.12s, not ErrCorrupt", err, su.Hash)
	}
	err = s.Update(ctx, func(tx *Tx) error { return tx.PutFingerprint(newTestFP("s1", other, 2), PutOptions{}) })
	if want := "taken on suite " + su.Hash[:12] + ", which is no longer stored"; !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), want) {
		t.Errorf("PutFingerprint over s1 = %v; want ErrExists saying %q", err, want)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.PutFingerprint(newTestFP("s1", other, 2), PutOptions{Replace: true}) }); err != nil {
		t.Errorf("PutFingerprint over s1 with Replace = %v; want it stored", err)
	}
}

// suiteGoneStore opens a fresh store holding suite su (20 probes of 4
// features, seed 5) and what put stores on it, then removes su as db rm
// suite --force does, leaving those fingerprints without their suite.
func suiteGoneStore(t *testing.T, put func(tx *Tx, su *probe.Suite) error) (*Store, *probe.Suite) {
	t.Helper()
	su := newTestSuite("", 20, 4, 5)
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		return put(tx, su)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(ctx, TypeSuite, su.Hash, RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	return s, su
}
