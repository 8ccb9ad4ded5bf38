package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// TestAuditRecordID checks the ID an audit is recorded under: the
// suspect's name unless the record of that name holds a teacher the audit
// leaves out, and then a valid name of at most store.MaxNameBytes bytes
// however long the suspect's name.
func TestAuditRecordID(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta", "x,y")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	long := strings.Repeat("é", 600) // 1,200 bytes: over the limit, cut between runes
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		for _, id := range []string{"s", long[:1000], "t"} {
			if err := tx.PutAudit(&store.AuditRecord{ID: id, Suspect: "acme/teacher", Against: []string{"acme", "beta"},
				Fingerprints: []string{"acme/teacher", "beta/teacher"}, Result: []byte(`{}`)}, store.PutOptions{}); err != nil {
				return err
			}
		}
		// Recorded before names holding a comma were quoted.
		return tx.PutAudit(&store.AuditRecord{ID: "t against x,y", Suspect: "acme/teacher", Against: []string{"x,y"},
			Fingerprints: []string{"x,y/teacher"}, Result: []byte(`{}`)}, store.PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		suspect  string
		teachers []string
		want     string // "" for any valid name with the suspect's start
	}{
		{"new", []string{"acme"}, "new"},
		{"s", []string{"acme", "beta"}, "s"},
		{"s", []string{"beta", "acme", "gamma"}, "s"},
		{"s", []string{"beta"}, "s against beta"},
		// A name holding a comma is quoted: the teachers "a,b" and "a",
		// "b" gave one ID, and the second audit replaced the first.
		{"s", []string{"beta", "a,b"}, `s against "a,b",beta`},
		{"s", []string{"beta", "a", "b"}, "s against a,b,beta"},
		{"s", []string{`q"t`}, `s against "q""t"`},
		// An old-form record of the same teachers is replaced, not
		// left beside a new one.
		{"t", []string{"x,y"}, "t against x,y"},
		// Teachers x and y would get that record's ID: it is kept.
		{"t", []string{"x", "y"}, fmt.Sprintf("t against %x", sha256.Sum256([]byte("x\x00y")))[:len("t against ")+12]},
		{"t", []string{"x,y", "acme"}, `t against acme,"x,y"`},
		{long[:1000], []string{"acme"}, ""},
	}
	err = db.View(context.Background(), func(tx *store.Tx) error {
		for _, tt := range tests {
			got, err := auditRecordID(tx, tt.suspect, tt.teachers)
			if err != nil {
				return err
			}
			switch {
			case tt.want != "" && got != tt.want:
				t.Errorf("auditRecordID(%.20q, %q) = %q, want %q", tt.suspect, tt.teachers, got, tt.want)
			case tt.want == "" && (store.CheckNewName("audit", got) != nil || !strings.HasPrefix(got, long[:900]) || !strings.Contains(got, " against ")):
				t.Errorf("auditRecordID(%.20q, %q) = %q (%d bytes), want a valid name starting with the suspect's: %v", tt.suspect, tt.teachers, got, len(got), store.CheckNewName("audit", got))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
