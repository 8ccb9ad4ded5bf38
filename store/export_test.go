package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestExportImportRoundTrip(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var first bytes.Buffer
	if err := a.Export(ctx, &first); err != nil {
		t.Fatal(err)
	}
	b := openTest(t, tempPath(t), false)
	if err := b.Import(ctx, bytes.NewReader(first.Bytes())); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := b.Export(ctx, &second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("re-export differs:\n%s\nvs\n%s", first.String()[:200], second.String()[:200])
	}
	if got, want := strings.Count(first.String(), "\n"), 1+1+1+4+1+1+3; got != want {
		t.Errorf("export has %d lines, want %d", got, want)
	}
	// Importing again is a no-op.
	if err := b.Import(ctx, bytes.NewReader(first.Bytes())); err != nil {
		t.Errorf("idempotent import: %v", err)
	}
	if r, err := b.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("Verify after import = %+v, %v", r, err)
	}
	if !strings.Contains(first.String(), testMarkKey) {
		t.Errorf("export lacks the watermark key, so import could not restore it")
	}
}

// TestShowRedactsWatermarkKey checks that `db show` never prints the
// watermark key.
func TestShowRedactsWatermarkKey(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	for _, typ := range []string{"", TypeEnrolment} {
		out, err := s.Show(ctx, typ, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), testMarkKey) || !strings.Contains(string(out), RedactedKey) {
			t.Errorf("Show(%q, acme) = %s; want the key redacted", typ, out)
		}
	}
	err := s.View(ctx, func(tx *Tx) error {
		e, err := tx.Enrolment("acme")
		if err == nil && e.Watermark.Key != testMarkKey {
			t.Errorf("stored key %q changed by Show", e.Watermark.Key)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestImportErrors(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var buf bytes.Buffer
	a.Export(ctx, &buf)
	lines := strings.SplitAfter(buf.String(), "\n")
	tests := []struct {
		name     string
		input    string
		wantLine int
	}{
		{"malformed", strings.Join(lines[:3], "") + "{not json\n" + strings.Join(lines[3:], ""), 4},
		{"no header", strings.Join(lines[1:], ""), 1},
		{"unknown type", lines[0] + `{"type":"spaceship","id":"x"}` + "\n", 2},
		{"bad fingerprint", lines[0] + `{"type":"fingerprint","id":"x","data":"AAAA"}` + "\n", 2},
		{"enrolment without its fingerprints", lines[0] + lines[1] + lines[2] + lines[len(lines)-6], 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := openTest(t, tempPath(t), false)
			err := b.Import(ctx, strings.NewReader(tc.input))
			var ie *ImportError
			if !errors.As(err, &ie) || ie.Line != tc.wantLine {
				t.Fatalf("error = %v, want ImportError at line %d", err, tc.wantLine)
			}
			if got, _ := b.List(ctx, ""); len(got) != 0 {
				t.Errorf("failed import left %d records, want none", len(got))
			}
		})
	}
}

func TestVerifyFindsDamage(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Counts[TypeFingerprint] != 4 {
		t.Fatalf("Verify of good store = %+v, %v", r, err)
	}
	// Damage records behind the API's back.
	err := s.Update(ctx, func(tx *Tx) error {
		old := tx.tx.Bucket(bucketFPs).Get([]byte("neg"))
		bad := append([]byte(nil), old...)
		bad[len(bad)-1] ^= 0x40 // flip a probability bit: hash mismatch
		if err := tx.tx.Bucket(bucketFPs).Put([]byte("neg"), bad); err != nil {
			return err
		}
		if err := tx.tx.Bucket(bucketFPs).Put([]byte("junk"), []byte("junk")); err != nil {
			return err
		}
		return tx.tx.Bucket(bucketNames).Put([]byte("ghost"), []byte("0000"))
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range r.Problems {
		got[p.Type+"/"+p.ID] = true
	}
	for _, want := range []string{"fingerprint/neg", "fingerprint/junk", "suite/ghost"} {
		if !got[want] {
			t.Errorf("Verify problems %+v miss %s", r.Problems, want)
		}
	}
	if len(r.Problems) != 3 {
		t.Errorf("Verify found %d problems, want 3: %+v", len(r.Problems), r.Problems)
	}
}
