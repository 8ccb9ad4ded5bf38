package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/store"
)

// dashRecords copies, in the store at path, the enrolment acme and the
// fingerprint s1 under the name "-x", and stores a journal of that name: a name only older stores or imports
// hold (CheckNewName refuses it on the command line, CheckName, for
// stored records, does not).
func dashRecords(t *testing.T, path string) (suite string) {
	t.Helper()
	updateStore(t, path, func(tx *store.Tx) error {
		e, err := tx.Enrolment("acme")
		if err != nil {
			return err
		}
		e.Name, e.Checksum, suite = "-x", "", e.Suite
		if err := tx.PutEnrolment(e, store.PutOptions{}); err != nil {
			return err
		}
		fp, err := tx.Fingerprint("s1")
		if err != nil {
			return err
		}
		fp.ID = "-x"
		if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
			return err
		}
		return tx.PutAnswers("-x", 0, []byte("answers"))
	})
	return suite
}

// suggested returns the commands between backquotes in msg that start
// with "lineage ", each split into words by sh as a user pasting it would
// have it split.
func suggested(t *testing.T, msg string) [][]string {
	t.Helper()
	var out [][]string
	for _, m := range regexp.MustCompile("`(lineage [^`]*)`").FindAllStringSubmatch(msg, -1) {
		b, err := exec.Command("sh", "-c", `for w in `+m[1]+`; do printf '%s\0' "$w"; done`).Output()
		if err != nil {
			t.Fatalf("sh splitting %s: %v", m[1], err)
		}
		out = append(out, strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"))
	}
	return out
}

// TestDashNameSuggestedCommands checks that the commands messages suggest
// for records whose name starts with '-' work when pasted: before, they
// put the name where the command read it as a flag (`lineage db show
// audit -x`: unknown shorthand flag 'x' in -x). It runs each through the
// CLI: the report's note on an audit whose enrolment was removed, and, once
// the suite is gone, the advice of an audit against the enrolment and of
// an audit of the fingerprint; and the commands removing an audit record
// and a journal so named.
func TestDashNameSuggestedCommands(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to split the commands")
	}
	dir := t.TempDir()
	useFixture(t, "acme", dir)
	useFixture(t, "suspects", dir)
	db := filepath.Join(dir, "case.db")
	student := filepath.Join(dir, "student.lnm")
	run := func(args ...string) (string, string, int) {
		t.Helper()
		return runCLI(t, append([]string{"--db", db}, args...)...)
	}
	if _, stderr, code := run("probe", student, "--suite", "acme", "--name", "s1"); code != exitOK {
		t.Fatalf("probe: exit %d: %s", code, stderr)
	}
	hash := dashRecords(t, db)
	if _, stderr, code := run("audit", "--against", "acme", "--", "-x"); code != exitOK {
		t.Fatalf("audit -- -x: exit %d: %s", code, stderr)
	}
	if _, stderr, code := run("db", "rm", "enrolment", "acme"); code != exitOK {
		t.Fatalf("db rm enrolment acme: exit %d: %s", code, stderr)
	}
	// paste runs the command msg suggests naming "-x" (the only one
	// there), which must be want, and returns its stdout.
	paste := func(what, msg, want string) string {
		t.Helper()
		var cmds [][]string
		for _, c := range suggested(t, msg) {
			if slices.Contains(c, "-x") {
				cmds = append(cmds, c)
			}
		}
		if len(cmds) != 1 || strings.Join(cmds[0], " ") != want {
			t.Fatalf("%s: suggested %q in %q, want %s", what, cmds, msg, want)
		}
		out, stderr, code := run(cmds[0][1:]...)
		if code != exitOK {
			t.Fatalf("%s: %s: exit %d, stderr %q", what, want, code, stderr)
		}
		return out
	}
	out, stderr, _ := run("report")
	if got := paste("report's note on the audit of a removed enrolment", out+stderr, "lineage db show audit -- -x"); !strings.Contains(got, `"suspect": "-x"`) {
		t.Errorf("db show audit -- -x:\n%s\nwant the audit record of -x", got)
	}
	if _, stderr, code := run("db", "rm", "suite", hash, "--force"); code != exitOK {
		t.Fatalf("db rm suite: exit %d: %s", code, stderr)
	}
	_, stderr, _ = run("audit", student, "--against=-x")
	if got := paste("audit against an enrolment whose suite is gone", stderr, "lineage db rm enrolment --purge -- -x"); got != "removed enrolment -x\n" {
		t.Errorf("db rm enrolment --purge -- -x: stdout %q", got)
	}
	// The audit record uses the fingerprint: it is removed first, by the
	// command the messages of audit --save and probe suggest.
	rmAudit := strings.Fields(shellword.Command("lineage db rm audit", "-x"))
	if _, stderr, code := run(rmAudit[1:]...); code != exitOK {
		t.Fatalf("%q: exit %d: %s", rmAudit, code, stderr)
	}
	_, stderr, _ = run("audit", "--", "-x")
	paste("audit of a fingerprint whose suite is gone", stderr, "lineage db rm fingerprint -- -x")
	// A journal's name is quoted: `lineage db rm answers -- '-x'`.
	rmAnswers := "`" + shellword.QuotedCommand("lineage db rm answers", "-x") + "`"
	paste("db verify's note on a journal", rmAnswers, "lineage db rm answers -- -x")
	if out, _, _ := run("db", "ls"); strings.Contains(out, " -x ") {
		t.Errorf("db ls after the suggested commands:\n%s\nwant no record -x", out)
	}
}
