package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/tmpfile"
	"github.com/lineage-audit/lineage/store"
	bolt "go.etcd.io/bbolt"
)

// runCLI runs the lineage command tree in-process.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCommand()
	var out, errw bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errw)
	err := root.Execute()
	code = exitCode(&errw, err)
	return out.String(), errw.String(), code
}

func newStore(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "case.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// updateStore runs fn in one write transaction of the store at path,
// which it opens and closes around it; an error from any of the three
// fails the test. Tests use it to plant or edit records as another
// program, or an older lineage, would have left them.
func updateStore(t *testing.T, path string, fn func(tx *store.Tx) error) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(context.Background(), fn)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestLockedDatabase(t *testing.T) {
	path := newStore(t)
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, args := range [][]string{{"db", "ls"}, {"db", "rm", "audit", "x"}, {"report"}} {
		start := time.Now()
		_, stderr, code := runCLI(t, append([]string{"--db", path}, args...)...)
		if code != exitError || !strings.Contains(stderr, "database is locked by another process") {
			t.Errorf("%v on a locked db: exit %d, stderr %q; want 1 and the lock message", args, code, stderr)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%v took %v on a locked db, want a quick failure", args, d)
		}
	}
}

// fileSum is the SHA-256 of the file at path, for checks that a command
// left a database byte-identical.
func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestReadOnlyCommandsKeepBytes(t *testing.T) {
	path := newStore(t)
	before := fileSum(t, path)
	for _, args := range [][]string{{"db", "ls"}, {"db", "verify"}, {"db", "export"}, {"db", "show", "nothing"}} {
		runCLI(t, append([]string{"--db", path}, args...)...)
		if fileSum(t, path) != before {
			t.Fatalf("%v modified the database", args)
		}
	}
}

func TestDBUsage(t *testing.T) {
	path := newStore(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"db", "ls", "bogus"}, exitUsage, "unknown record type"},
		{[]string{"db", "rm", "fingerprint"}, exitUsage, "want TYPE ID"},
		{[]string{"db", "show", "nothing"}, exitError, `record "nothing" not found`},
		{[]string{"db", "rm", "fingerprint", "nothing"}, exitError, `fingerprint "nothing" not found`},
		{[]string{"db", "verify"}, exitOK, ""},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, append([]string{"--db", path}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// storeWithAnswers makes a store holding one answers batch, job → data.
func storeWithAnswers(t *testing.T, job, data string) string {
	t.Helper()
	path := newStore(t)
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PutAnswers(context.Background(), job, 0, []byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFailedWritesKeepOlderStore runs write commands that fail on a store
// lacking a bucket, as one of an older schema does: each must leave the
// file byte-identical (they used to add the bucket when they opened it,
// before failing). A write that succeeds adds it.
func TestFailedWritesKeepOlderStore(t *testing.T) {
	t.Setenv("LINEAGE_DB", "")
	path := storeWithAnswers(t, "job-a", "a")
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket([]byte("audits")) }); err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	export := func(name, job, data string) string {
		out := filepath.Join(dir, name)
		if _, stderr, code := runCLI(t, "--db", storeWithAnswers(t, job, data), "db", "export", out); code != 0 {
			t.Fatalf("export: %s", stderr)
		}
		return out
	}
	other, conflict := export("other.jsonl", "job-b", "b"), export("conflict.jsonl", "job-a", "not a")
	before := fileSum(t, path)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"db", "import", other}, "the database holds 1 records; pass --merge"},
		{[]string{"db", "import", conflict, "--merge"}, "job-a"},
		{[]string{"db", "rm", "audit", "nothing"}, "not found"},
	} {
		_, stderr, code := runCLI(t, append([]string{"--db", path}, tt.args...)...)
		if code != exitError || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, exitError, tt.want)
		}
		if fileSum(t, path) != before {
			t.Fatalf("%v failed and changed the database", tt.args)
		}
	}
	if _, stderr, code := runCLI(t, "--db", path, "db", "import", other, "--merge"); code != 0 {
		t.Fatalf("import --merge of new records: exit %d, %s", code, stderr)
	}
	if out, stderr, code := runCLI(t, "--db", path, "db", "verify"); code != 0 {
		t.Errorf("verify after a successful write: exit %d\n%s%s", code, out, stderr)
	}
}

// TestStaleTempsRemoved leaves beside an export's target and a new
// database what forced exits of db export and db import leave (temporaries
// holding data, no lock) and one another process is writing (locked): the
// next export and import remove the first and keep the second.
func TestStaleTempsRemoved(t *testing.T) {
	t.Setenv("LINEAGE_DB", "")
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(".case.jsonl.tmp123", `{"type":"store"`)
	write(".copy.db.tmp3k9z", strings.Repeat("\x00", 4096))
	live, err := os.OpenFile(write(".case.jsonl.tmp456", `{"type":"store"}`), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := tmpfile.Lock(live); err != nil {
		t.Fatal(err)
	}
	export := filepath.Join(dir, "case.jsonl")
	if _, stderr, code := runCLI(t, "--db", storeWithAnswers(t, "job", "a"), "db", "export", export); code != 0 {
		t.Fatalf("export: exit %d, %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--db", filepath.Join(dir, "copy.db"), "db", "import", export); code != 0 {
		t.Fatalf("import: exit %d, %s", code, stderr)
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if want := []string{".case.jsonl.tmp456", "case.jsonl", "copy.db"}; !slices.Equal(left, want) {
		t.Errorf("directory holds %q, want %q", left, want)
	}
}

// lockProbe is an output writer that, at its first write, tries to open
// the database for writing: a read-only command still holding its shared
// lock then makes the open fail.
type lockProbe struct {
	path  string
	tried bool
	err   error
}

func (l *lockProbe) Write(p []byte) (int, error) {
	if !l.tried {
		l.tried = true
		db, err := store.Open(l.path, store.Options{Timeout: 100 * time.Millisecond})
		if err == nil {
			err = db.Close()
		}
		l.err = err
	}
	return len(p), nil
}

// TestReadCommandsUnlockBeforeOutput checks that read-only commands let
// the database go before they write their output, which may go to a pipe
// that blocks (`lineage report | less`): a remote probe waiting to journal
// its paid answers used to wait on the pager, and give up after a minute.
func TestReadCommandsUnlockBeforeOutput(t *testing.T) {
	path := storeWithAnswers(t, "job-a", "a")
	for _, args := range [][]string{
		{"db", "ls"}, {"db", "show", "answers", "job-a"}, {"db", "verify"}, {"report"}, {"reference", "ls"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			root := newRootCommand()
			out := &lockProbe{path: path}
			var errw bytes.Buffer
			root.SetArgs(append([]string{"--db", path}, args...))
			root.SetOut(out)
			root.SetErr(&errw)
			if err := root.Execute(); err != nil {
				t.Fatalf("%v: %v (%s)", args, err, errw.String())
			}
			if !out.tried {
				t.Fatalf("%v wrote no output", args)
			}
			if out.err != nil {
				t.Errorf("opening the database for writing during the output of %v: %v, want it free", args, out.err)
			}
		})
	}
}

// TestRecordContentChecked checks that db verify reports an audit record
// whose result no audit writes (a verdict "PWNED") and that db import
// refuses the export of that store, naming the line, into a new database
// and into one that exists: both used to pass, and report then printed
// the verdict.
func TestRecordContentChecked(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := &store.AuditRecord{ID: "x", Suspect: "acme/teacher", Against: []string{"acme"},
		Result: json.RawMessage(`{"alpha":0.01,"results":[{"teacher":"acme","verdict":"PWNED","p_value":0.5}]}`)}
	if err := db.PutAudit(context.Background(), rec, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	out, _, code := runCLI(t, "--db", path, "db", "verify")
	if code != exitError || !strings.Contains(out, `verdict "PWNED"`) {
		t.Errorf("db verify: exit %d, output %q; want 1 and the verdict named", code, out)
	}
	export := filepath.Join(t.TempDir(), "x.jsonl")
	if _, stderr, code := runCLI(t, "--db", path, "db", "export", export); code != 0 {
		t.Fatalf("db export: %s", stderr)
	}
	copyDB := filepath.Join(t.TempDir(), "copy.db")
	_, stderr, code := runCLI(t, "--db", copyDB, "db", "import", export)
	const wantErr = `import line 6: audit "x": store is corrupted: result for acme: verdict "PWNED"`
	if code != exitError || !strings.Contains(stderr, wantErr) {
		t.Errorf("db import: exit %d, stderr %q; want 1 naming line 6's verdict", code, stderr)
	}
	if _, err := os.Stat(copyDB); err == nil {
		t.Error("a refused import left a database")
	}
	// Into a database that exists, which import reads another way (a
	// mutant skipping the check there passed every test).
	existing := newStore(t)
	before := fileSum(t, existing)
	if _, stderr, code := runCLI(t, "--db", existing, "db", "import", export); code != exitError || !strings.Contains(stderr, wantErr) {
		t.Errorf("db import into an existing database: exit %d, stderr %q; want 1 naming line 6's verdict", code, stderr)
	}
	if fileSum(t, existing) != before {
		t.Error("a refused import changed the existing database")
	}
}

// TestEditedLabelMapRefused checks a fingerprint whose recorded label map
// was changed in the database file (its hash left as it was): db verify
// names it in one line, and db import of the store's export refuses it
// naming its line. Both passed while the hash did not cover the map, and
// an audit then printed the edited map as the one the answers were read
// with.
func TestEditedLabelMapRefused(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	var forged []byte
	updateStore(t, path, func(tx *store.Tx) error {
		fp, err := tx.Fingerprint("acme/teacher")
		if err != nil {
			return err
		}
		fp.ID, fp.Meta = "mapped", map[string]string{fingerprint.MetaLabelMap: "a=0,b=1,c=2"}
		fp.Hash = fp.ComputeHash()
		if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
			return err
		}
		fp.Meta[fingerprint.MetaLabelMap] = "a=1,b=0,c=2" // the edit, hash kept
		forged, err = fingerprint.Encode(fp)
		return err
	})
	putRawFingerprint(t, path, "mapped", forged)
	out, _, code := runCLI(t, "--db", path, "db", "verify")
	var named []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "mapped") {
			named = append(named, l)
		}
	}
	if code != exitError || len(named) != 1 || !strings.Contains(named[0], "hash mismatch") || strings.Count(named[0], "mapped") != 1 {
		t.Errorf("db verify: exit %d, output %q; want 1 and one line naming fingerprint mapped's hash mismatch", code, out)
	}
	export := filepath.Join(t.TempDir(), "x.jsonl")
	if _, stderr, _ := runCLI(t, "--db", path, "db", "export", export); !strings.Contains(stderr, "the export was written") {
		t.Fatalf("db export: %s", stderr)
	}
	_, stderr, code := runCLI(t, "--db", filepath.Join(t.TempDir(), "copy.db"), "db", "import", export)
	if code != exitError || !strings.Contains(stderr, `fingerprint "mapped": hash mismatch`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("db import: exit %d, stderr %q; want 1 and one line naming fingerprint mapped", code, stderr)
	}
}
