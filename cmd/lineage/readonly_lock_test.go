package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// TestReadCommandsShareTheLock runs the commands that only read the
// database while another process reads it (holds bbolt's shared lock):
// each must run at once, never wait. A read command that opened the
// store for writing left the file byte-identical (bbolt writes nothing
// on open), so TestReadOnlyCommandsKeepBytes could not see it, and
// TestReadOnlyStoreFile skips as root; but it waits for the other
// readers, up to 30 s, and blocks every reader behind it.
func TestReadCommandsShareTheLock(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	reader, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	exported := filepath.Join(t.TempDir(), "case.jsonl")
	for _, args := range [][]string{
		{"db", "ls"},
		{"db", "show", "enrolment", "acme"},
		{"db", "verify"},
		{"db", "export"},
		{"db", "export", exported},
		{"report"},
		{"reference", "ls"},
		{"compare", "acme/teacher", "acme/teacher"},
	} {
		_, stderr, code := runCLI(t, append([]string{"--db", path}, args...)...)
		if code != exitOK || strings.Contains(stderr, "waiting for the database lock") {
			t.Errorf("%v while another process reads the database: exit %d, stderr %q; want success without waiting", args, code, stderr)
		}
	}
}
