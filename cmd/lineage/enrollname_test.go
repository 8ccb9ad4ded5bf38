package main

import (
	"context"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/store"
)

// TestEnrolNameLikeSuiteHash: a teacher named by the start of a stored
// suite's hash (the 12 digits db ls and report print) is refused before
// the enrolment's work: `--suite NAME` resolved to the new enrolment's
// suite, not to the one listed under that prefix. A name too short to
// stand for a hash is fine.
func TestEnrolNameLikeSuiteHash(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(context.Background(), func(tx *store.Tx) error {
		h, err := tx.SuiteHash("acme")
		if err != nil {
			return err
		}
		for _, tt := range []struct{ name, want string }{
			{h[:12], "teacher \"" + h[:12] + "\": the name is also the start of suite " + h[:12] + "'s hash, so `--suite " + h[:12] + "` could mean either suite; choose another name"},
			{h, "the name is also the start of suite " + h[:12] + "'s hash"},
			{h[:store.MinSuitePrefix-1], ""},
			{strings.ToUpper(h[:12]), ""},
		} {
			err := checkNewEnrolment(tx, tt.name, audit.EnrollOptions{}, "")
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("checkNewEnrolment(%q) = %v, want %q", tt.name, err, tt.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
