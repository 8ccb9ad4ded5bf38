package store

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/probe"
)

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
		// An enrolment under another name, with a control of no role.
		e, err := tx.Enrolment("acme")
		if err != nil {
			return err
		}
		e.Controls[0].Role = "bogus"
		if err := tx.putJSON(bucketEnrol, "acme2", e); err != nil {
			return err
		}
		// A fingerprint of a suite that is not stored (PutFingerprint
		// refuses it; older lineage, or a race with a purge, did not).
		fp := newTestFP("orphan", newTestSuite("", 20, 4, 77), 5)
		if err := tx.putFingerprint(tx.tx.Bucket(bucketFPs), fp); err != nil {
			return err
		}
		if err := tx.tx.Bucket(bucketAnswers).Bucket([]byte("remote-1")).Put([]byte("x"), []byte("y")); err != nil {
			return err
		}
		// An audit record whose fingerprints do not pair with its teachers.
		if err := tx.putJSON(bucketAudits, "unpaired", AuditRecord{ID: "unpaired", Suspect: "neg",
			Against: []string{"acme"}, Fingerprints: []string{"neg", "neg"}, Result: json.RawMessage("{}")}); err != nil {
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
	want := []string{"fingerprint/neg", "fingerprint/junk", "suite/ghost", "enrolment/acme2", "fingerprint/orphan", "answers/remote-1", "audit/unpaired"}
	for _, w := range want {
		if !got[w] {
			t.Errorf("Verify problems %+v miss %s", r.Problems, w)
		}
	}
	// acme2: stored under another name, and a control of role "bogus".
	if len(r.Problems) != len(want)+1 {
		t.Errorf("Verify found %d problems, want %d: %+v", len(r.Problems), len(want)+1, r.Problems)
	}
}

// TestVerifyDamagedFile flips bytes all over a store's file: Open or
// Verify must report the damage (or find none), never crash; bbolt's own
// check runs in a goroutine where a wild page id is a fatal fault.
func TestVerifyDamagedFile(t *testing.T) {
	path := tempPath(t)
	s := openTest(t, path, false)
	populate(t, s)
	s.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(t.TempDir(), "damaged.db")
	found := 0
	for off := 2 * 4096; off < len(good); off += 29 {
		for _, x := range []byte{0xc7, 0xff} {
			b := append([]byte(nil), good...)
			b[off] ^= x
			if err := os.WriteFile(damaged, b, 0o600); err != nil {
				t.Fatal(err)
			}
			d, err := Open(damaged, Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
			if err != nil {
				found++
				continue
			}
			r, err := d.Verify(ctx)
			d.Close()
			if err != nil || !r.OK() {
				found++
			}
		}
	}
	if found == 0 {
		t.Errorf("no damage reported after flipping bytes all over %d bytes", len(good))
	}
}

// TestVerifyDamagedMeta checks that a damaged meta page is a problem Verify
// names (bbolt then reads the other page's older state, losing the last
// commit, and verify said OK, or printed bbolt's assertion), whichever of
// the two it is.
func TestVerifyDamagedMeta(t *testing.T) {
	for page := range int64(2) {
		path, f, m := populatedFile(t)
		// A byte of the meta's checksum.
		if _, err := f.WriteAt([]byte{0x5a}, page*int64(m.pageSize)+pageHeader+60); err != nil {
			t.Fatal(err)
		}
		f.Close()
		r, err := openTest(t, path, true).Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Problem, "one of the two meta pages is damaged") {
			t.Errorf("meta page %d damaged: problems %+v, want the damaged meta page alone", page, r.Problems)
		}
	}
}

// TestVerifySuiteHash checks that a suite record is sound only when its
// content hashes to both the key it is stored under and the hash its
// header records: an edit of either is reported.
func TestVerifySuiteHash(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(su *probe.Suite, key string) (newKey string)
	}{
		{"header hash edited", func(su *probe.Suite, key string) string { su.Hash = strings.Repeat("0", len(key)); return key }},
		{"stored under another key", func(su *probe.Suite, key string) string { return strings.Repeat("f", len(key)) }},
	} {
		s := openTest(t, tempPath(t), false)
		populate(t, s)
		var key string
		err := s.Update(ctx, func(tx *Tx) error {
			b := tx.tx.Bucket(bucketSuites)
			k, v := b.Cursor().First()
			key = string(k)
			su, err := DecodeSuite(v)
			if err != nil {
				return err
			}
			newKey := tt.edit(su, key)
			data, err := EncodeSuite(su)
			if err != nil {
				return err
			}
			return b.Put([]byte(newKey), data)
		})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range r.Problems {
			found = found || p.Type == TypeSuite && strings.Contains(p.Problem, "content hashes to")
		}
		if !found {
			t.Errorf("%s (suite %.12s): problems %+v, want a suite whose content does not hash to its key or header", tt.name, key, r.Problems)
		}
	}
}
