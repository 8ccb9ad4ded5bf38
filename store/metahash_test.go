package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

// TestEditedLabelMap checks a fingerprint whose recorded label map was
// changed outside lineage (its hash left as it was): db verify reports it
// in one line naming the fingerprint, reading it is refused, and an export
// holding it is refused by both imports naming its line. Before the hash
// covered the map, all of them took the edited map for the one the
// answers were read with.
func TestEditedLabelMap(t *testing.T) {
	su := newTestSuite("s", 5, 3, 1)
	fp := newTestFP("x", su, 1)
	fp.Meta = map[string]string{fingerprint.MetaLabelMap: "zero=0,one=1,two=2", "requests": "5"}
	fp.Hash = fp.ComputeHash()
	edited := fp.Clone()
	edited.Meta[fingerprint.MetaLabelMap] = "zero=1,one=0,two=2"
	data, err := fingerprint.Encode(edited)
	if err != nil {
		t.Fatal(err)
	}

	s := openTest(t, tempPath(t), false)
	err = s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		if err := tx.PutFingerprint(fp, PutOptions{}); err != nil {
			return err
		}
		return tx.tx.Bucket(bucketFPs).Put([]byte("x"), data) // the edit
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 1 || r.Problems[0].Type != TypeFingerprint || r.Problems[0].ID != "x" ||
		!strings.Contains(r.Problems[0].Problem, "hash mismatch") || strings.Contains(r.Problems[0].Problem, "\n") {
		t.Errorf("Verify problems %+v, want one line: fingerprint x, hash mismatch", r.Problems)
	}
	err = s.View(ctx, func(tx *Tx) error { _, err := tx.Fingerprint("x"); return err })
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, fingerprint.ErrHash) {
		t.Errorf("Fingerprint = %v, want ErrCorrupt and ErrHash", err)
	}

	export := suiteFPExport(t, su, "x", data)
	imports := map[string]func(*Store) error{
		"Import":       func(s *Store) error { return s.Import(ctx, strings.NewReader(export)) },
		"ImportStream": func(s *Store) error { return s.ImportStream(ctx, strings.NewReader(export), nil) },
	}
	for name, imp := range imports {
		err := imp(openTest(t, tempPath(t), false))
		var ie *ImportError
		if !errors.As(err, &ie) || ie.Line != 3 || !errors.Is(err, fingerprint.ErrHash) || !strings.Contains(err.Error(), `fingerprint "x"`) {
			t.Errorf("%s = %v, want an ImportError at line 3 wrapping ErrHash naming fingerprint \"x\"", name, err)
		}
	}
}
