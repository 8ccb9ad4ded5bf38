package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadOnlyStoreFile: on a database file its user cannot write (mode
// 0444; chattr +i and a read-only mount fail alike), the commands that
// read it work, and each that writes fails in one line saying the store
// is read-only (it said "open case.db: permission denied", which the
// reading commands did not), audit of a stored fingerprint naming
// --dry-run; the file is left as it was. Not as root, whom permissions
// do not stop.
func TestReadOnlyStoreFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("permissions do not stop root")
	}
	path := tinyEnrolments(t, 4, "acme")
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, path)
	for _, tt := range []struct {
		args []string
		want string // in the error line; "" for success
	}{
		{[]string{"db", "ls"}, ""},
		{[]string{"report"}, ""},
		{[]string{"audit", "acme/teacher", "--dry-run"}, ""},
		{[]string{"audit", "acme/teacher"}, "store is read-only: it cannot be opened for writing (permission denied), and this command writes to it; commands that only read it still work; pass --dry-run"},
		{[]string{"db", "rm", "audit", "nothing"}, "store is read-only: it cannot be opened for writing (permission denied)"},
	} {
		_, stderr, code := runCLI(t, append([]string{"--db", path}, tt.args...)...)
		switch {
		case tt.want == "" && code != 0:
			t.Errorf("%v: exit %d, stderr %q; want success", tt.args, code, stderr)
		case tt.want != "" && (code != exitError || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1):
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line saying %q", tt.args, code, stderr, exitError, tt.want)
		}
	}
	if fileSum(t, path) != before {
		t.Error("the database changed")
	}
}
