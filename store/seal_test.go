package store

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// TestSealedRecords checks that an enrolment or audit record edited in
// place (a control's role turned from positive to negative, a verdict
// changed) is refused where it is read, reported by Verify and refused by
// Import, while a record without a checksum (older lineage) is read.
func TestSealedRecords(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	var buf bytes.Buffer
	if err := s.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx *Tx) error {
		for _, e := range []struct {
			bucket     []byte
			key        string
			old, other string
		}{{bucketEnrol, "acme", `"role":"positive"`, `"role":"negative"`}, {bucketAudits, "case-1", `"p":0.001`, `"p":0.9`}} {
			v := string(tx.tx.Bucket(e.bucket).Get([]byte(e.key)))
			if !strings.Contains(v, e.old) || !strings.Contains(v, `"checksum":"`) {
				t.Fatalf("%s record %s: want %s and a checksum in it", e.bucket, v, e.old)
			}
			if err := tx.tx.Bucket(e.bucket).Put([]byte(e.key), []byte(strings.Replace(v, e.old, e.other, 1))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Enrolment(ctx, "acme"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("edited enrolment read: %v, want ErrCorrupt", err)
	}
	if _, err := s.Audit(ctx, "case-1"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("edited audit read: %v, want ErrCorrupt", err)
	}
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range r.Problems {
		got[p.Type+"/"+p.ID] = strings.Contains(p.Problem, "does not match its checksum")
	}
	if !got["enrolment/acme"] || !got["audit/case-1"] || len(r.Problems) != 2 {
		t.Errorf("Verify problems %+v, want the two edited records", r.Problems)
	}
	edited := strings.Replace(buf.String(), `"role":"positive"`, `"role":"negative"`, 1)
	if err := openTest(t, tempPath(t), false).Import(ctx, strings.NewReader(edited)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("import of an edited enrolment: %v, want ErrCorrupt", err)
	}
	unsealed := regexp.MustCompile(`,"checksum":"[0-9a-f]{64}"`).ReplaceAllString(buf.String(), "")
	u := openTest(t, tempPath(t), false)
	if err := u.Import(ctx, strings.NewReader(unsealed)); err != nil {
		t.Fatalf("import of records without checksums: %v", err)
	}
	if _, err := u.Enrolment(ctx, "acme"); err != nil {
		t.Errorf("enrolment without a checksum: %v", err)
	}
}
