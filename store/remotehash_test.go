package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	bolt "go.etcd.io/bbolt"
)

// ruleOneExport is an export written by lineage at 01ebefc (7 December
// 2026, before fingerprint hash rule 2): a suite, its enrolment's teacher
// fingerprint (a model file) and the fingerprint of that suite taken from
// `lineage serve` over HTTP (remote-s), holding remote, answer_variation
// and nearby_variation under a hash that leaves them out.
const ruleOneExport = "testdata/remote_rule1.jsonl"

// coveredFP returns newTestFP(id) recorded as a remote model's is, its
// hash covering its remote keys (fingerprint.Fingerprint.CoverRemote).
func coveredFP(t testing.TB, id string, seed uint64) (*fingerprint.Fingerprint, func(*Tx) error) {
	t.Helper()
	su := newTestSuite("s", 5, 3, 1)
	fp := newTestFP(id, su, seed)
	fp.Meta = map[string]string{fingerprint.MetaRemote: "http", "source": "http://x/v2/models/m", "requests": "3",
		fingerprint.MetaVariation: "0.3", fingerprint.MetaNearby: "0.01", fingerprint.MetaOutputs: "logits (softmax taken by lineage)",
		fingerprint.MetaOutput: "probs", fingerprint.MetaOutputChosen: "--output"}
	fp.CoverRemote()
	return fp, func(tx *Tx) error { return tx.PutSuite(su) }
}

// TestEditedRemoteMeta checks a fingerprint of a remote model whose
// recorded answers to being asked (remote, answer_variation,
// nearby_variation, outputs, output, output_chosen_by) were changed,
// removed or added outside lineage, its hash left as it was, or whose
// hash rule was removed to pass it off as a record of older lineage: db
// verify reports it in one line naming the fingerprint once, reading it
// is refused, and an export holding it is refused by both imports naming
// its line. Before rule 2 each of these edits passed them all (an
// answer_variation lowered below audit.MaxVariation clears a suspect the
// audit would not).
func TestEditedRemoteMeta(t *testing.T) {
	type edit struct {
		name string
		edit func(map[string]string)
	}
	var edits []edit
	for _, k := range []string{fingerprint.MetaRemote, fingerprint.MetaVariation, fingerprint.MetaNearby,
		fingerprint.MetaOutputs, fingerprint.MetaOutput, fingerprint.MetaOutputChosen} {
		edits = append(edits,
			edit{k + " changed", func(m map[string]string) { m[k] = "0" }},
			edit{k + " removed", func(m map[string]string) { delete(m, k) }})
	}
	edits = append(edits,
		edit{"hash_rule removed", func(m map[string]string) { delete(m, fingerprint.MetaHashRule) }},
		edit{"hash_rule removed, answer_variation lowered", func(m map[string]string) {
			delete(m, fingerprint.MetaHashRule)
			m[fingerprint.MetaVariation] = "0"
		}})
	// Added: recorded without the key (as with --ask-again -1, or not
	// chosen), which the edit adds.
	for _, k := range []string{fingerprint.MetaVariation, fingerprint.MetaNearby, fingerprint.MetaOutputs, fingerprint.MetaOutput, fingerprint.MetaOutputChosen} {
		edits = append(edits, edit{k + " added", func(m map[string]string) { m[k] = "0" }})
	}
	for _, tt := range edits {
		t.Run(tt.name, func(t *testing.T) {
			fp, putSuite := coveredFP(t, "x", 1)
			if k, added := strings.CutSuffix(tt.name, " added"); added {
				delete(fp.Meta, k)
				fp.CoverRemote()
			}
			edited := fp.Clone()
			tt.edit(edited.Meta)
			checkEditRefused(t, fp, edited, putSuite)
		})
	}
}

// TestRuleOneExport checks that an export of lineage before hash rule 2,
// holding a remote fingerprint, imports by both imports, verifies, reads,
// and exports again byte for byte but for its header's schema version;
// and that what this lineage exports of it imports and exports again
// byte for byte.
func TestRuleOneExport(t *testing.T) {
	old, err := os.ReadFile(ruleOneExport)
	if err != nil {
		t.Fatal(err)
	}
	imports := map[string]func(*Store, []byte) error{
		"Import":       func(s *Store, b []byte) error { return s.Import(ctx, bytes.NewReader(b)) },
		"ImportStream": func(s *Store, b []byte) error { return s.ImportStream(ctx, bytes.NewReader(b), nil) },
	}
	for name, imp := range imports {
		s := openTest(t, tempPath(t), false)
		if err := imp(s, old); err != nil {
			t.Fatalf("%s of the older export: %v", name, err)
		}
		if r, err := s.Verify(ctx); err != nil || !r.OK() {
			t.Errorf("%s: Verify = %+v, %v, want no problems", name, r.Problems, err)
		}
		fp, err := s.Fingerprint(ctx, "remote-s")
		if err != nil {
			t.Fatalf("%s: Fingerprint: %v", name, err)
		}
		if _, ok := fp.Meta[fingerprint.MetaHashRule]; ok || !fp.Remote() {
			t.Errorf("%s: remote-s meta %v, want a remote fingerprint without %s", name, fp.Meta, fingerprint.MetaHashRule)
		}
		var out bytes.Buffer
		if err := s.Export(ctx, &out); err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(string(old), `"schema":1}`, `"schema":2}`, 1)
		if out.String() != want {
			t.Errorf("%s: export differs from the older one beyond its schema version", name)
		}
		again := openTest(t, tempPath(t), false)
		if err := imp(again, out.Bytes()); err != nil {
			t.Fatalf("%s of the new export: %v", name, err)
		}
		var out2 bytes.Buffer
		if err := again.Export(ctx, &out2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Errorf("%s: export → import → export differs", name)
		}
	}
	newer := strings.Replace(string(old), `"schema":1}`, `"schema":3}`, 1)
	err = openTest(t, tempPath(t), false).Import(ctx, strings.NewReader(newer))
	if ie := (*ImportError)(nil); !errors.As(err, &ie) || ie.Line != 1 || !errors.Is(err, ErrSchema) {
		t.Errorf("Import of a schema 3 export = %v, want ErrSchema at line 1", err)
	}
}

// schemaOf returns the schema version stored in the file at path.
func schemaOf(t *testing.T, path string) uint64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v uint64
	db.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema))
		return nil
	})
	return v
}

// versionOneFile returns the path of a store of schema version 1 holding
// the older export's records, as lineage before hash rule 2 left it.
func versionOneFile(t *testing.T) string {
	t.Helper()
	old, err := os.ReadFile(ruleOneExport)
	if err != nil {
		t.Fatal(err)
	}
	path := tempPath(t)
	s := openTest(t, path, false)
	if err := s.Import(ctx, bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], 1)
		return tx.Bucket(bucketMeta).Put(keySchema, v[:])
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSchemaOneFile checks a store of schema version 1: read-only opens
// and reads (verify, export, a fingerprint, a list) leave the file
// byte-identical, and so does a writer that commits nothing; writes that
// store no fingerprint under hash rule 2 (answers, a rerun's put of a
// stored fingerprint, a fingerprint of a model file) leave it version 1,
// which lineage of version 1 reads whole; the first put of one under
// rule 2 marks it version 2, and its older records read and verify as
// before. A probe rerun over a stored fingerprint, writing nothing, made
// the file version 2, refused by the lineage that wrote it.
func TestSchemaOneFile(t *testing.T) {
	path := versionOneFile(t)
	before := fileSum(t, path)
	r := openTest(t, path, true)
	if rep, err := r.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("Verify = %+v, %v, want no problems", rep.Problems, err)
	}
	if err := r.Export(ctx, &bytes.Buffer{}); err != nil {
		t.Error(err)
	}
	if _, err := r.Fingerprint(ctx, "remote-s"); err != nil {
		t.Error(err)
	}
	if _, err := r.List(ctx, ""); err != nil {
		t.Error(err)
	}
	r.Close()
	if fileSum(t, path) != before {
		t.Error("read-only use changed a version 1 file")
	}
	w := openTest(t, path, false)
	old, err := w.Fingerprint(ctx, "remote-s")
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if fileSum(t, path) != before || schemaOf(t, path) != 1 {
		t.Error("a writer that committed nothing changed a version 1 file")
	}
	r = openTest(t, path, true)
	local, err := r.Fingerprint(ctx, "acme/teacher")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	local.ID = "local"
	covered := old.Clone()
	covered.ID = "covered"
	covered.CoverRemote()
	w = openTest(t, path, false)
	for _, step := range []struct {
		name string
		put  func() error
		want uint64
	}{
		{"answers", func() error { return w.PutAnswers(ctx, "job", 0, []byte{1}) }, 1},
		{"a rerun's put of a stored fingerprint", func() error { return w.PutFingerprint(ctx, old, PutOptions{}) }, 1},
		{"a fingerprint of a model file", func() error { return w.PutFingerprint(ctx, local, PutOptions{}) }, 1},
		{"a fingerprint under rule 2", func() error { return w.PutFingerprint(ctx, covered, PutOptions{}) }, 2},
	} {
		if err := step.put(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got := schemaOfOpen(t, w); got != step.want {
			t.Errorf("after %s: schema %d, want %d", step.name, got, step.want)
		}
	}
	if rep, err := w.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("after the upgrade: Verify = %+v, %v, want no problems", rep.Problems, err)
	}
	w.Close()
	if got := schemaOf(t, path); got != 2 {
		t.Errorf("closed: schema %d, want 2", got)
	}
}

// TestImportRuleTwoUpgrades checks that a merge into a store of version 1
// keeps it version 1 unless it brings a fingerprint under hash rule 2,
// which makes it version 2 with the import, and that an import refused
// leaves it as it was.
func TestImportRuleTwoUpgrades(t *testing.T) {
	src := openTest(t, versionOneFile(t), false)
	fp, err := src.Fingerprint(ctx, "remote-s")
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if err := src.Export(ctx, &plain); err != nil {
		t.Fatal(err)
	}
	fp.ID = "covered"
	fp.CoverRemote()
	if err := src.PutFingerprint(ctx, fp, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var covered bytes.Buffer
	if err := src.Export(ctx, &covered); err != nil {
		t.Fatal(err)
	}
	src.Close()
	path := versionOneFile(t)
	w := openTest(t, path, false)
	defer w.Close()
	if err := w.Import(ctx, bytes.NewReader(plain.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := schemaOfOpen(t, w); got != 1 {
		t.Errorf("after merging records of rule 1: schema %d, want 1", got)
	}
	if err := w.Import(ctx, bytes.NewReader(covered.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got := schemaOfOpen(t, w); got != 2 {
		t.Errorf("after merging a record of rule 2: schema %d, want 2", got)
	}
}

// schemaOfOpen returns the schema version the open store s holds.
func schemaOfOpen(t *testing.T, s *Store) uint64 {
	t.Helper()
	var v uint64
	if err := s.View(ctx, func(tx *Tx) error {
		v = binary.BigEndian.Uint64(tx.tx.Bucket(bucketMeta).Get(keySchema))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPutSameOutputs checks PutFingerprint with a fingerprint of the
// stored one's outputs whose recorded answers to being asked again
// differ, and so its hash: a no-op keeping the stored one (a rerun after
// a crash), or with Replace the new record, even where an audit record
// uses it, as before hash rule 2 covered those keys; and a record of
// older lineage replaced so by one under rule 2.
func TestPutSameOutputs(t *testing.T) {
	fp, putSuite := coveredFP(t, "x", 1)
	again := fp.Clone()
	again.Meta[fingerprint.MetaVariation] = "0"
	again.CoverRemote()
	older := fp.Clone()
	delete(older.Meta, fingerprint.MetaHashRule)
	older.Hash = older.ComputeHash()
	for _, tt := range []struct {
		name     string
		stored   *fingerprint.Fingerprint
		replace  bool
		wantHash string
	}{
		{"rerun", fp, false, fp.Hash},
		{"replace", fp, true, again.Hash},
		{"replace an older record", older, true, again.Hash},
	} {
		putOverUsed(t, tt.name, putSuite, tt.stored, again, tt.replace, tt.wantHash)
	}
}
