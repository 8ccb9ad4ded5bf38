package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestImportRefusesMislabelledRecords imports an export with one record
// edited or mislabelled per case: each is refused at its line, names the
// problem, and leaves the store empty. Until these cases, removing any one
// of the checks (a record's id against its content, an audit's seal, a
// batch number's range) left every test passing.
func TestImportRefusesMislabelledRecords(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var buf bytes.Buffer
	if err := a.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	export := buf.String()
	lineOf := func(prefix string) int {
		for i, l := range strings.Split(export, "\n") {
			if strings.HasPrefix(l, prefix) {
				return i + 1
			}
		}
		t.Fatalf("export has no line starting %s:\n%s", prefix, export)
		return 0
	}
	// A suite whose own hash field disagrees with its content (and with
	// the id it is exported under, which its content does hash to).
	su := newTestSuite("s", 5, 3, 1)
	wrong := *su
	wrong.Hash = strings.Repeat("0", len(su.Hash))
	data, err := EncodeSuite(&wrong)
	if err != nil {
		t.Fatal(err)
	}
	suiteLine, _ := json.Marshal(line{Type: TypeSuite, ID: su.Hash, Data: data})
	header := `{"type":"store","format":"lineage-store","schema":2}` + "\n"

	tests := []struct {
		name     string
		input    string
		wantLine int
		corrupt  bool   // errors.Is ErrCorrupt
		want     string // in the error
	}{
		{"edited audit", strings.Replace(export, `"p":0.001`, `"p":0.9`, 1),
			lineOf(`{"type":"audit","id":"case-1"`), true, `audit "case-1"`},
		{"enrolment under another name", strings.Replace(export, `{"type":"enrolment","id":"acme"`, `{"type":"enrolment","id":"acme-2"`, 1),
			lineOf(`{"type":"enrolment","id":"acme"`), true, `record names "acme"`},
		{"fingerprint under another id", strings.Replace(export, `{"type":"fingerprint","id":"neg"`, `{"type":"fingerprint","id":"neg-2"`, 1),
			lineOf(`{"type":"fingerprint","id":"neg"`), true, `its ID is "neg"`},
		{"suite whose hash field disagrees", header + string(suiteLine) + "\n" + `{"type":"end","count":1}` + "\n",
			2, true, "content hashes to " + su.Hash[:12]},
		{"answers batch out of range", header + `{"type":"answers","id":"j","batch":9223372036854775808,"data":"AAAA"}` + "\n" + `{"type":"end","count":1}` + "\n",
			2, false, "missing or bad batch"},
		{"suite name of a suite not stored", header + `{"type":"suite_name","id":"x","suite":"nope"}` + "\n" + `{"type":"end","count":1}` + "\n",
			2, false, `suite name "x"`},
		{"end line without its count", header + `{"type":"end"}` + "\n", 2, false, "the end line counts no records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.input == export {
				t.Fatal("the edit changed nothing")
			}
			b := openTest(t, tempPath(t), false)
			err := b.Import(ctx, strings.NewReader(tt.input))
			var ie *ImportError
			if !errors.As(err, &ie) || ie.Line != tt.wantLine || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want an ImportError at line %d containing %q", err, tt.wantLine, tt.want)
			}
			if tt.corrupt && !errors.Is(err, ErrCorrupt) {
				t.Errorf("error = %v, want ErrCorrupt", err)
			}
			if got, _ := b.List(ctx, ""); len(got) != 0 {
				t.Errorf("failed import left %d records, want none", len(got))
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestExportWriteError exports an empty store, whose export fits in the
// buffer and so is written by the final flush alone, to a writer that
// fails: the export must fail, not report a file it did not write.
func TestExportWriteError(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	if err := s.Export(ctx, failingWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Export to a failing writer: %v, want the write's error", err)
	}
}

// TestExportSkipsUnnumberedAnswers exports a store whose answers job holds
// an entry with a key that is no batch number (db verify reports it): the
// export leaves it out, rather than read its key as one (it panicked on a
// key shorter than 8 bytes), and imports whole.
func TestExportSkipsUnnumberedAnswers(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.tx.Bucket(bucketAnswers).Bucket([]byte("remote-1")).Put([]byte("x"), []byte("y"))
	}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `{"type":"answers","id":"remote-1"`); n != 3 {
		t.Errorf("export has %d answers lines of remote-1, want its 3 batches", n)
	}
	if err := openTest(t, tempPath(t), false).Import(ctx, &buf); err != nil {
		t.Errorf("import of the export: %v", err)
	}
}

// TestOpenShortSchemaVersion opens a store whose schema version is 3
// bytes long, not 8: refused as corrupt, read-only or not (reading it as
// a number panicked when only a longer value was refused, and the error
// read "index out of range").
func TestOpenShortSchemaVersion(t *testing.T) {
	path := tempPath(t)
	openTest(t, path, false).Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], SchemaVersion)
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, v[5:]) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, ro := range []bool{true, false} {
		if _, err := Open(path, Options{ReadOnly: ro}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "bad schema version 000002") {
			t.Errorf("read-only %v: error = %v, want ErrCorrupt: bad schema version 000002", ro, err)
		}
	}
}

// TestImportCheckRollsBack imports records whose check (db import's
// recomputation of each enrolment's report) refuses them: the import
// fails with the check's error and leaves none of its records.
func TestImportCheckRollsBack(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var buf bytes.Buffer
	if err := a.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	x, err := ReadExport(ctx, &buf)
	if err != nil {
		t.Fatal(err)
	}
	refused := errors.New("report does not recompute")
	b := openTest(t, tempPath(t), false)
	ran := false
	err = b.ImportRecordsChecked(ctx, x, func(tx *Tx) error {
		ran = true
		if !tx.HasFingerprint("teacher") {
			t.Error("the check ran before the records were in its transaction")
		}
		return refused
	})
	if !ran || !errors.Is(err, refused) {
		t.Errorf("ImportRecordsChecked: check ran %v, error %v; want it run and its error returned", ran, err)
	}
	if got, _ := b.List(ctx, ""); len(got) != 0 {
		t.Errorf("refused import left %d records, want none", len(got))
	}
}
