package store

import (
	"slices"
	"strings"
	"testing"
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
