package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/store"
)

func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("boom"), exitError},
		{usageError{errors.New("bad flag")}, exitUsage},
		{errDerived, exitDerived},
		{fmt.Errorf("wrapped: %w", errDerived), exitDerived},
		{fmt.Errorf("open model: %w \"ftp://h/x\": unsupported scheme", remote.ErrBadRef), exitUsage},
	}
	for _, tt := range tests {
		var w bytes.Buffer
		if got := exitCode(&w, tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
		if tt.err != nil && strings.Count(w.String(), "\n") != 1 {
			t.Errorf("exitCode(%v) printed %q, want one line", tt.err, w.String())
		}
	}
}

// TestExitCodeOneLine checks that an error quoting what a suspect sent (a
// label holding a line break and terminal escapes) still prints as one
// line with those characters shown as escapes: the label "zero\nlineage:
// fake line\x1b[2K" printed a second error line and erased it.
func TestExitCodeOneLine(t *testing.T) {
	var w bytes.Buffer
	exitCode(&w, fmt.Errorf("model %q has labels [%s]", "m", "zero\nlineage: fake line\x1b[2K\u202e"))
	if want := `lineage: model "m" has labels [zero\nlineage: fake line\x1b[2K\u202e]` + "\n"; w.String() != want {
		t.Errorf("printed %q, want %q", w.String(), want)
	}
}

// flakySuspect is an exec model fitting tinyEnrolments' suites (2 inputs,
// 3 labels) for one-row requests. It appends a line to ok.log in its
// directory for every answer it gives; while the file "fail" exists there,
// it answers its third request and those after with an error.
const flakySuspect = `cd "$(dirname "$0")"
echo '{"lineage_exec":1,"name":"flaky","input_size":2,"labels":["0","1","2"]}'
n=0
while read l; do
  n=$((n+1))
  id=${l#*\"id\":}; id=${id%%,*}
  if [ -e fail ] && [ $n -ge 3 ]; then echo "{\"id\":$id,\"error\":\"quota exceeded\"}"; continue; fi
  echo x >> ok.log
  echo "{\"id\":$id,\"probabilities\":[[0.2,0.3,0.5]]}"
done`

// flakyScript writes flakySuspect into a new directory and returns the
// directory, the script and a count of the answers it has given.
func flakyScript(t *testing.T) (dir, script string, answers func() int) {
	t.Helper()
	return writeFlaky(t, flakySuspect)
}

// otherFlakyScript is flakyScript for another model: the same script, but
// answering other probabilities.
func otherFlakyScript(t *testing.T) (dir, script string, answers func() int) {
	t.Helper()
	return writeFlaky(t, strings.ReplaceAll(flakySuspect, "[[0.2,0.3,0.5]]", "[[0.5,0.3,0.2]]"))
}

// writeFlaky writes src as suspect.sh into a new directory (see
// flakyScript).
func writeFlaky(t *testing.T, src string) (dir, script string, answers func() int) {
	t.Helper()
	dir = t.TempDir()
	script = filepath.Join(dir, "suspect.sh")
	if err := os.WriteFile(script, []byte(src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, script, func() int {
		b, _ := os.ReadFile(filepath.Join(dir, "ok.log"))
		return bytes.Count(b, []byte("\n"))
	}
}

// TestAuditSaveRemoteResumes: `audit MODEL --save` of a remote model
// journals its answers as `probe` does, so a rerun after a failure part-way
// asks the model only what it did not answer yet; the saved fingerprint
// and audit record then replace the journal. Without --save the audit
// stores nothing, not even a journal.
func TestAuditSaveRemoteResumes(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes
	dir, script, answers := flakyScript(t)
	audit := func(extra ...string) (string, error) {
		var stderr bytes.Buffer
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(&stderr)
		root.SetArgs(append([]string{"--db", path, "audit", "exec:/bin/sh " + script, "--name", "suspect",
			"--ask-again", "-1", "--remote-batch", "1", "--concurrency", "1"}, extra...))
		err := root.ExecuteContext(context.Background())
		return stderr.String(), err
	}

	before := fileSum(t, path)
	if _, err := audit(); err != nil {
		t.Fatal(err)
	}
	if fileSum(t, path) != before {
		t.Error("an audit without --save changed the database")
	}
	os.Remove(filepath.Join(dir, "ok.log"))

	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := audit("--save"); err == nil || !strings.Contains(err.Error(), "quota exceeded") {
		t.Fatalf("audit with a failing model: %v, want its error", err)
	}
	first := answers()
	if first != 2 {
		t.Fatalf("the failing model answered %d probes before its error, want 2", first)
	}
	os.Remove(filepath.Join(dir, "fail"))
	stderr, err := audit("--save")
	if err != nil {
		t.Fatal(err)
	}
	if got := answers() - first; got != 4-first {
		t.Errorf("the rerun asked %d probes, want the %d not answered before", got, 4-first)
	}
	if want := "lineage audit: resumed fingerprint suspect: 2 answers replayed from the journal, 2 asked\n" +
		"lineage: exec:/bin/sh " + filepath.Join(dir, "suspect.sh") + " was not asked again (--ask-again -1), so an audit will not clear it\n"; stderr != want {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for typ, want := range map[string]string{store.TypeFingerprint: "acme/teacher suspect", store.TypeAudit: "suspect", store.TypeAnswers: ""} {
		es, err := db.List(context.Background(), typ)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		if got := strings.Join(ids, " "); got != want {
			t.Errorf("stored %s records: %q, want %q", typ, got, want)
		}
	}
}

// TestAuditSaveNames: audit MODEL --save settles its names before asking
// the model anything. A fingerprint stored from the same model on the
// suite is used as it is (it was asked again); one of another model is an
// error, before any query (it was found only when saving, after paying
// for every answer); and an audit record of another model under the
// suspect's name is an error (it was replaced, or merged with this
// model's results into one suspect).
func TestAuditSaveNames(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme", "beta")
	_, script, answers := flakyScript(t)
	_, scriptB, answersB := otherFlakyScript(t)
	run := func(args ...string) (string, error) {
		var stderr bytes.Buffer
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(&stderr)
		if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "exec:") }) {
			args = append(args, "--ask-again", "-1", "--remote-batch", "1", "--concurrency", "1") // one row per request
		}
		root.SetArgs(append([]string{"--db", path}, args...))
		err := root.ExecuteContext(context.Background())
		return stderr.String(), err
	}
	if _, err := run("probe", "exec:/bin/sh "+script, "--suite", "acme", "--name", "vendor"); err != nil {
		t.Fatal(err)
	}
	stderr, err := run("audit", "exec:/bin/sh "+script, "--save", "--name", "vendor", "--against", "acme")
	if err != nil || answers() != 4 || !strings.Contains(stderr, "not asked again") {
		t.Errorf("audit --save of the probed model: %v, %d answers in all, stderr %q; want success with the 4 the probe asked", err, answers(), stderr)
	}
	before := fileSum(t, path)
	_, err = run("audit", "exec:/bin/sh "+scriptB, "--save", "--name", "vendor", "--against", "acme")
	if err == nil || !strings.Contains(err.Error(), `--save: fingerprint "vendor": already exists`) || answersB() != 0 {
		t.Errorf("audit --save of another model under a taken name: %v, %d answers; want a refusal before any query", err, answersB())
	}
	// Two teachers: vendor@acme and vendor@beta are free, but the record
	// "vendor" measured the first model.
	_, err = run("audit", "exec:/bin/sh "+scriptB, "--save", "--name", "vendor")
	if err == nil || !strings.Contains(err.Error(), `suspect name "vendor" is taken by the audit record of another model`) || answersB() != 0 {
		t.Errorf("audit --save of another model under an audited name: %v, %d answers; want a refusal before any query", err, answersB())
	}
	if fileSum(t, path) != before {
		t.Error("a refused audit --save changed the database")
	}
	if _, err := run("audit", "exec:/bin/sh "+script, "--save", "--name", "vendor"); err != nil {
		t.Errorf("audit --save of the first model against both teachers: %v", err)
	}
	// A stored fingerprint named like the record of another model's audit
	// (which measured vendor, reused for acme, and vendor@beta): probe
	// refuses to store one, before asking the model anything, and
	// recording its audit would replace the record.
	if _, err := run("db", "rm", "fingerprint", "vendor", "--force"); err != nil {
		t.Fatal(err)
	}
	_, err = run("probe", "exec:/bin/sh "+scriptB, "--suite", "acme", "--name", "vendor")
	if err == nil || !strings.Contains(err.Error(), `fingerprint "vendor": the name is the suspect name of the audit record of another model`) || answersB() != 0 {
		t.Errorf("probe of another model under an audited suspect name: %v, %d answers; want a refusal before any query", err, answersB())
	}
	// Such a store (older lineage made it) is made here by hand.
	if _, err := run("probe", "exec:/bin/sh "+scriptB, "--suite", "acme", "--name", "other"); err != nil {
		t.Fatal(err)
	}
	if err := updateDB(context.Background(), &globalOptions{db: path}, func(tx *store.Tx) error {
		fp, err := tx.Fingerprint("other")
		if err != nil {
			return err
		}
		fp.ID = "vendor"
		return tx.PutFingerprint(fp, store.PutOptions{})
	}); err != nil {
		t.Fatal(err)
	}
	before = fileSum(t, path)
	if _, err := run("audit", "vendor"); err == nil || !strings.Contains(err.Error(), `audit record "vendor" holds the results of another model`) {
		t.Errorf("audit of a stored fingerprint under another model's record name: %v, want a refusal", err)
	}
	if fileSum(t, path) != before {
		t.Error("the refused audit changed the database")
	}
	if _, err := run("audit", "vendor", "--dry-run"); err != nil {
		t.Errorf("audit --dry-run of it: %v", err)
	}
}

// TestAuditSaveReusesOtherID: a model audited with --save against two
// teachers (NAME@TEACHER) and then against one (NAME), or the other way
// round, is not asked again for a suite it already answered: the stored
// fingerprint under the other ID serves.
func TestAuditSaveReusesOtherID(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme", "beta") // 4 probes each
	_, script, answers := flakyScript(t)
	audit := func(args ...string) error {
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs(append([]string{"--db", path, "audit", "exec:/bin/sh " + script, "--save", "--ask-again", "-1", "--remote-batch", "1", "--concurrency", "1"}, args...))
		return root.ExecuteContext(context.Background())
	}
	for _, step := range []struct {
		args []string
		want int // answers asked
	}{
		{[]string{"--name", "t"}, 8},
		{[]string{"--name", "t", "--against", "acme"}, 0},
		{[]string{"--name", "u", "--against", "acme"}, 4},
		{[]string{"--name", "u"}, 4},
	} {
		before := answers()
		if err := audit(step.args...); err != nil {
			t.Fatalf("audit %q: %v", step.args, err)
		}
		if got := answers() - before; got != step.want {
			t.Errorf("audit %q asked %d probes, want %d", step.args, got, step.want)
		}
	}
	if code, stderr := runLineage(t, "--db", path, "db", "verify"); code != 0 {
		t.Errorf("db verify: exit %d, %s", code, stderr)
	}
}

// TestLongNamesRefusedFirst: names that pass the naming rules but whose
// derived IDs (TEACHER/control-NN, NAME@TEACHER) would be longer than a
// record key allows are refused before any work; they failed after the
// training, or after every answer was asked for.
func TestLongNamesRefusedFirst(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme", "beta")
	dir, _, answers := flakyScript(t)
	t.Chdir(dir)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"enroll", strings.Repeat("E", 1020), "--model", "missing.lnm", "--data", "digits"},
			"teacher name is 1020 bytes long: the enrolment would store fingerprint IDs of up to 1032 bytes (NAME/control-100), at most 1024 allowed"},
		{[]string{"audit", "exec:/bin/sh suspect.sh", "--save", "--name", strings.Repeat("n", 1020)},
			`--save: the fingerprint against "acme" would be stored as NAME@TEACHER, 1025 bytes, at most 1024 allowed: choose a shorter --name (this one is 1020 bytes)`},
	} {
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs(append([]string{"--db", path}, tt.args...))
		err := root.ExecuteContext(context.Background())
		var ue usageError
		if !errors.As(err, &ue) || err.Error() != tt.want {
			t.Errorf("%s: %v, want the usage error %q", tt.args[0], err, tt.want)
		}
	}
	if n := answers(); n != 0 {
		t.Errorf("the model answered %d probes, want none", n)
	}
}

// TestAuditStoredIgnoresNoFlag: --name and --save are for a model; given
// with a stored fingerprint they were silently ignored (the audit was
// recorded under the fingerprint's ID). They are usage errors now, and
// the database is left as it was.
func TestAuditStoredIgnoresNoFlag(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	before := fileSum(t, path)
	for _, tt := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--name", "x"}, `--name "x": "acme/teacher" is a stored fingerprint`},
		{[]string{"--save"}, `--save: "acme/teacher" is a stored fingerprint`},
	} {
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs(append([]string{"--db", path, "audit", "acme/teacher"}, tt.flags...))
		err := root.ExecuteContext(context.Background())
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("audit acme/teacher %v: %v, want a usage error containing %q", tt.flags, err, tt.want)
		}
	}
	if fileSum(t, path) != before {
		t.Error("a refused audit changed the database")
	}
}
