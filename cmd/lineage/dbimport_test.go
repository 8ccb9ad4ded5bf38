package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// TestImportReadsBeforeOpening feeds `db import -` through a pipe: while it
// reads, a new database must not exist yet and an existing one must not be
// locked; the bad input that follows leaves no new file and the existing
// one byte-identical.
func TestImportReadsBeforeOpening(t *testing.T) {
	t.Setenv("LINEAGE_DB", "")
	for _, existing := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "case.db")
		var before [32]byte
		if existing {
			path = newStore(t)
			dir = filepath.Dir(path)
			before = fileSum(t, path)
		}
		pr, pw := io.Pipe()
		root := newRootCommand()
		var out, errw bytes.Buffer
		root.SetArgs([]string{"--db", path, "db", "import", "-", "--merge"})
		root.SetIn(pr)
		root.SetOut(&out)
		root.SetErr(&errw)
		errc := make(chan error, 1)
		go func() { errc <- root.ExecuteContext(context.Background()) }()
		// Write returns once the import has read the line.
		if _, err := pw.Write([]byte(`{"type":"store","format":"lineage-store","schema":1}` + "\n")); err != nil {
			t.Fatal(err)
		}
		if existing {
			db, err := store.Open(path, store.Options{Timeout: -1})
			if err != nil {
				t.Errorf("existing database while the import reads its input: %v", err)
			} else {
				db.Close()
			}
		} else if _, err := os.Stat(path); err == nil {
			t.Errorf("the import created %s before reading its input", path)
		}
		pw.Write([]byte("{not json\n"))
		pw.Close()
		err := <-errc
		code := exitCode(&errw, err)
		if code != exitError || !strings.Contains(errw.String(), "import -: import line 2: malformed record") {
			t.Errorf("existing %v: status %d, stderr %q", existing, code, errw.String())
		}
		if existing {
			if fileSum(t, path) != before {
				t.Error("a failed import changed the existing database")
			}
		} else if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("a failed import into a new database left %d files", len(ents))
		}
	}
}

// TestImportMergeConflict checks that db import --merge of a record whose
// name the database holds with other content (an old export of a teacher
// enrolled again since) fails in one line that says nothing was imported
// and what to do, and leaves the database byte-identical.
func TestImportMergeConflict(t *testing.T) {
	t.Setenv("LINEAGE_DB", "")
	from := tinyEnrolments(t, 4, "acme")
	into := tinyEnrolments(t, 6, "acme") // its suite name acme stands for another suite
	export := filepath.Join(t.TempDir(), "acme.jsonl")
	if _, stderr, code := runCLI(t, "--db", from, "db", "export", export); code != exitOK {
		t.Fatalf("db export: exit %d, stderr %q", code, stderr)
	}
	before := fileSum(t, into)
	_, stderr, code := runCLI(t, "--db", into, "db", "import", export, "--merge")
	for _, want := range []string{`suite "acme": already exists (with other content)`, "nothing was imported", "import into a new --db file instead"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not say %q", stderr, want)
		}
	}
	if code != exitError || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want %d and one line", code, stderr, exitError)
	}
	if fileSum(t, into) != before {
		t.Error("the refused import changed the database")
	}
}

// TestImportNewAppeared checks `db import -` into a new database that
// another process creates while the import reads its input (which is then
// read, and cannot be imported again): one line saying nothing was
// written to it, and that database left as it was.
func TestImportNewAppeared(t *testing.T) {
	t.Setenv("LINEAGE_DB", "")
	path := filepath.Join(t.TempDir(), "case.db")
	pr, pw := io.Pipe()
	root := newRootCommand()
	var out, errw bytes.Buffer
	root.SetArgs([]string{"--db", path, "db", "import", "-"})
	root.SetIn(pr)
	root.SetOut(&out)
	root.SetErr(&errw)
	errc := make(chan error, 1)
	go func() { errc <- root.ExecuteContext(context.Background()) }()
	if _, err := pw.Write([]byte(`{"type":"store","format":"lineage-store","schema":1}` + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := store.Create(context.Background(), path, func(*store.Store) error { return nil }); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, path)
	pw.Write([]byte(`{"type":"end","count":0}` + "\n"))
	pw.Close()
	err := <-errc
	if code := exitCode(&errw, err); code != exitError || !strings.Contains(errw.String(), "was created by another process while the import ran; nothing was written to it") {
		t.Errorf("status %d, stderr %q", code, errw.String())
	}
	if fileSum(t, path) != before {
		t.Error("the import changed the database that appeared")
	}
}

// TestEditedReportRefused checks an enrolment whose report was edited to a
// TPR of 2 and sealed again with a checksum that matches (the checksum is
// a plain SHA-256, which whoever edits a record can recompute): db verify
// names the record and field, and db import of the store's export refuses
// it, naming its line, into a new file (which it does not leave) and into
// an existing one (--merge). Both passed, and audits against the imported
// enrolment then cleared suspects (NOT_DERIVED) that it left INCONCLUSIVE.
func TestEditedReportRefused(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	updateStore(t, path, func(tx *store.Tx) error {
		e, err := tx.Enrolment("acme")
		if err != nil {
			return err
		}
		e.Report = json.RawMessage(`{"calibration":{"pos_p":[],"neg_p":[],"rates":[{"alpha":0.01,"tpr":2,"fpr":0,"fpr_upper95":0.1}],"auc":0.9}}`)
		return tx.PutEnrolment(e, store.PutOptions{Replace: true})
	})
	const want = "report: calibration rates[0]: tpr 2, want a rate in [0, 1]"
	out, _, code := runCLI(t, "--db", path, "db", "verify")
	if code != exitError || !strings.Contains(out, want) {
		t.Errorf("db verify: exit %d, output %q; want 1 and %q", code, out, want)
	}
	export := filepath.Join(t.TempDir(), "x.jsonl")
	if _, stderr, code := runCLI(t, "--db", path, "db", "export", export); code != 0 {
		t.Fatalf("db export: %s", stderr)
	}
	copyDB := filepath.Join(t.TempDir(), "copy.db")
	_, stderr, code := runCLI(t, "--db", copyDB, "db", "import", export)
	if wantErr := `import line 5: teacher "acme": store is corrupted: ` + want; code != exitError || !strings.Contains(stderr, wantErr) {
		t.Errorf("db import: exit %d, stderr %q; want 1 and %q", code, stderr, wantErr)
	}
	if _, err := os.Stat(copyDB); err == nil {
		t.Error("a refused import left a database")
	}
	existing := newStore(t)
	before := fileSum(t, existing)
	if _, stderr, code := runCLI(t, "--db", existing, "db", "import", "--merge", export); code != exitError || !strings.Contains(stderr, want) {
		t.Errorf("db import --merge: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
	if fileSum(t, existing) != before {
		t.Error("a refused merge changed the database")
	}
}
