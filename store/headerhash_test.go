package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
)

// headerFP returns newTestFP(id) as fingerprint.Take records it since
// hash rule 3: its hash covers its model header (and a source is set).
func headerFP(t testing.TB, id string, seed uint64) (*fingerprint.Fingerprint, func(*Tx) error) {
	t.Helper()
	su := newTestSuite("s", 5, 3, 1)
	fp := newTestFP(id, su, seed)
	fp.Model.Source, fp.Model.Params = "/models/"+id+".lnm", 99
	fp.Meta = map[string]string{fingerprint.MetaHashRule: fingerprint.HashRuleHeader}
	fp.Hash = fp.ComputeHash()
	return fp, func(tx *Tx) error { return tx.PutSuite(su) }
}

// checkEditRefused stores fp, overwrites its record with edited's
// encoding (its hash left as fp's), and checks that db verify reports it
// in one line naming the fingerprint once, that reading it is refused,
// and that an export holding it is refused by both imports at its line.
func checkEditRefused(t *testing.T, fp, edited *fingerprint.Fingerprint, putSuite func(*Tx) error) {
	t.Helper()
	data, err := fingerprint.Encode(edited)
	if err != nil {
		t.Fatal(err)
	}
	s := openTest(t, tempPath(t), false)
	err = s.Update(ctx, func(tx *Tx) error {
		if err := putSuite(tx); err != nil {
			return err
		}
		if err := tx.PutFingerprint(fp, PutOptions{}); err != nil {
			return err
		}
		return tx.tx.Bucket(bucketFPs).Put([]byte(fp.ID), data) // the edit
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 1 || r.Problems[0].Type != TypeFingerprint || r.Problems[0].ID != fp.ID ||
		!strings.Contains(r.Problems[0].Problem, "hash mismatch") || strings.Contains(r.Problems[0].Problem, "\n") ||
		strings.Contains(r.Problems[0].Problem, `"`+fp.ID+`"`) {
		t.Errorf("Verify problems %+v, want one line: fingerprint %s, hash mismatch, not naming it again", r.Problems, fp.ID)
	}
	err = s.View(ctx, func(tx *Tx) error { _, err := tx.Fingerprint(fp.ID); return err })
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, fingerprint.ErrHash) {
		t.Errorf("Fingerprint = %v, want ErrCorrupt and ErrHash", err)
	}
	export := suiteFPExport(t, newTestSuite("s", 5, 3, 1), fp.ID, data)
	imports := map[string]func(*Store) error{
		"Import":       func(s *Store) error { return s.Import(ctx, strings.NewReader(export)) },
		"ImportStream": func(s *Store) error { return s.ImportStream(ctx, strings.NewReader(export), nil) },
	}
	for name, imp := range imports {
		err := imp(openTest(t, tempPath(t), false))
		var ie *ImportError
		if !errors.As(err, &ie) || ie.Line != 3 || !errors.Is(err, fingerprint.ErrHash) || strings.Count(err.Error(), `fingerprint "`+fp.ID+`"`) != 1 {
			t.Errorf("%s = %v, want an ImportError at line 3 wrapping ErrHash naming fingerprint %q once", name, err, fp.ID)
		}
	}
}

// TestEditedHeader checks a fingerprint under hash rule 3 whose model
// header (name, kind, input size, labels, parameter count, source) was
// edited outside lineage, or whose rule was removed or lowered to pass
// it off as a record of older lineage: db verify names it in one line,
// reading it is refused, and both imports refuse an export holding it.
// Before rule 3 each of these edits passed them all: a model's name or
// source is what the error messages, db ls and reference ls show it by,
// its source what a remote fingerprint is reused by, and its labels what
// a stored label map is compared against.
func TestEditedHeader(t *testing.T) {
	tests := []struct {
		name string
		edit func(*fingerprint.Fingerprint)
	}{
		{"name", func(fp *fingerprint.Fingerprint) { fp.Model.Name = "teacher" }},
		{"kind", func(fp *fingerprint.Fingerprint) { fp.Model.Kind = model.LanguageModel }},
		{"input size", func(fp *fingerprint.Fingerprint) { fp.Model.InputSize++ }},
		{"labels reordered", func(fp *fingerprint.Fingerprint) {
			fp.Model.Labels[0], fp.Model.Labels[1] = fp.Model.Labels[1], fp.Model.Labels[0]
		}},
		{"label renamed", func(fp *fingerprint.Fingerprint) { fp.Model.Labels[2] = "z" }},
		{"labels removed", func(fp *fingerprint.Fingerprint) { fp.Model.Labels = nil }},
		{"params", func(fp *fingerprint.Fingerprint) { fp.Model.Params = 0 }},
		{"source", func(fp *fingerprint.Fingerprint) { fp.Model.Source = "http://elsewhere/v2/models/m" }},
		{"hash_rule removed", func(fp *fingerprint.Fingerprint) { delete(fp.Meta, fingerprint.MetaHashRule) }},
		{"hash_rule removed, name changed", func(fp *fingerprint.Fingerprint) {
			delete(fp.Meta, fingerprint.MetaHashRule)
			fp.Model.Name = "teacher"
		}},
		{"hash_rule lowered to 2, source changed", func(fp *fingerprint.Fingerprint) {
			fp.Meta[fingerprint.MetaHashRule] = fingerprint.HashRuleRemote
			fp.Model.Source = "http://elsewhere/v2/models/m"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp, putSuite := headerFP(t, "x", 1)
			edited := fp.Clone()
			tt.edit(edited)
			checkEditRefused(t, fp, edited, putSuite)
		})
	}
}

// TestOlderRulesKept checks records of each older hash rule, as lineage
// wrote them (rule 1 with and without label_map and defaulted_metadata,
// rule 2 of a remote model), next to one of rule 3: they are stored,
// verify, read, and export → import → export byte for byte, by both
// imports; none is re-hashed.
func TestOlderRulesKept(t *testing.T) {
	su := newTestSuite("s", 5, 3, 1)
	var fps []*fingerprint.Fingerprint
	for i, meta := range []map[string]string{
		nil,
		{fingerprint.MetaLabelMap: "x=0,y=1,z=2", fingerprint.MetaDefaulted: "labels"},
		{fingerprint.MetaRemote: "url", "source": "http://x", fingerprint.MetaVariation: "0", fingerprint.MetaHashRule: fingerprint.HashRuleRemote},
		{fingerprint.MetaHashRule: fingerprint.HashRuleHeader},
	} {
		fp := newTestFP(string(rune('a'+i)), su, uint64(i))
		fp.Meta = meta
		fp.Hash = fp.ComputeHash()
		fps = append(fps, fp)
	}
	if fps[2].Hash == fps[3].Hash || fps[0].Hash != newTestFP("a", su, 0).Hash {
		t.Fatal("fixture: the rules do not hash as they should")
	}
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		for _, fp := range fps {
			if err := tx.PutFingerprint(fp, PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	if err := s.Export(ctx, &first); err != nil {
		t.Fatal(err)
	}
	imports := map[string]func(*Store, []byte) error{
		"Import":       func(s *Store, b []byte) error { return s.Import(ctx, bytes.NewReader(b)) },
		"ImportStream": func(s *Store, b []byte) error { return s.ImportStream(ctx, bytes.NewReader(b), nil) },
	}
	for name, imp := range imports {
		again := openTest(t, tempPath(t), false)
		if err := imp(again, first.Bytes()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r, err := again.Verify(ctx); err != nil || !r.OK() {
			t.Errorf("%s: Verify = %+v, %v, want no problems", name, r.Problems, err)
		}
		for _, want := range fps {
			got, err := again.Fingerprint(ctx, want.ID)
			if err != nil || got.Hash != want.Hash {
				t.Errorf("%s: fingerprint %s: %v (%v), want hash %.12s", name, want.ID, got, err, want.Hash)
			}
		}
		var out bytes.Buffer
		if err := again.Export(ctx, &out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), first.Bytes()) {
			t.Errorf("%s: export → import → export differs", name)
		}
	}
}

// TestPutHeaderRerun checks PutFingerprint with a fingerprint of a model
// file under hash rule 3 when the same name holds the same outputs: a
// rerun is a no-op; a record of lineage before the rule (probed by the
// older build) is kept as it is, or with Replace replaced by the new one,
// even where an audit record uses it (its outputs are the same); and so
// is one whose model was read from another path.
func TestPutHeaderRerun(t *testing.T) {
	fp, putSuite := headerFP(t, "x", 1)
	older := fp.Clone()
	delete(older.Meta, fingerprint.MetaHashRule)
	older.Hash = older.ComputeHash()
	moved := fp.Clone()
	moved.Model.Source = "/elsewhere/x.lnm"
	moved.Hash = moved.ComputeHash()
	for _, tt := range []struct {
		name     string
		stored   *fingerprint.Fingerprint
		put      *fingerprint.Fingerprint
		replace  bool
		wantHash string
	}{
		{"rerun", fp, fp.Clone(), false, fp.Hash},
		{"rerun with replace", fp, fp.Clone(), true, fp.Hash},
		{"older record", older, fp, false, older.Hash},
		{"older record replaced", older, fp, true, fp.Hash},
		{"another path", fp, moved, false, fp.Hash},
		{"another path replaced", fp, moved, true, moved.Hash},
	} {
		putOverUsed(t, tt.name, putSuite, tt.stored, tt.put, tt.replace, tt.wantHash)
	}
}

// putOverUsed stores stored, which an audit record then uses, in a fresh
// store, puts put over it (with Replace as replace), and checks that the
// record stored under put's ID, "x", has the hash wantHash (test case
// name).
func putOverUsed(t *testing.T, name string, putSuite func(*Tx) error, stored, put *fingerprint.Fingerprint, replace bool, wantHash string) {
	t.Helper()
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := putSuite(tx); err != nil {
			return err
		}
		if err := tx.PutFingerprint(stored, PutOptions{}); err != nil {
			return err
		}
		return tx.PutAudit(&AuditRecord{ID: "a", Suspect: "x", Result: []byte(`{}`)}, PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutFingerprint(ctx, put, PutOptions{Replace: replace}); err != nil {
		t.Errorf("%s: PutFingerprint = %v, want nil", name, err)
		return
	}
	got, err := s.Fingerprint(ctx, "x")
	if err != nil || got.Hash != wantHash {
		t.Errorf("%s: stored %v (%v), want hash %.12s", name, got, err, wantHash)
	}
}
