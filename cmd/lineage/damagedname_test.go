package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
	bolt "go.etcd.io/bbolt"
)

// damageFingerprint rewrites the stored fingerprint id of the store at
// path with edit applied to it, rehashed when rehash is set, bypassing the
// store's checks.
func damageFingerprint(t *testing.T, path, id string, rehash bool, edit func(fp *fingerprint.Fingerprint)) {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var forged []byte
	err = db.View(context.Background(), func(tx *store.Tx) error {
		fp, err := tx.Fingerprint(id)
		if err != nil {
			return err
		}
		edit(fp)
		if rehash {
			fp.Hash = fp.ComputeHash()
		}
		forged, err = fingerprint.Encode(fp)
		return err
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	putRawFingerprint(t, path, id, forged)
}

// putRawFingerprint writes data as the record of fingerprint id in the
// store at path, bypassing every check of the store.
func putRawFingerprint(t *testing.T, path, id string, data []byte) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("fingerprints")).Put([]byte(id), data) })
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDamagedFingerprintNamedOnce checks that every command reading a
// damaged fingerprint record (its hash fails, or its rows are not
// distributions under a recomputed hash) fails naming it once in its
// line, and the problem: db show named it twice (the store named the
// record, and the fingerprint package's error named it again), and probe
// over it said it held "other content".
func TestDamagedFingerprintNamedOnce(t *testing.T) {
	base := t.TempDir()
	useFixture(t, "acme", base)
	useFixture(t, "suspects", base)
	db := filepath.Join(base, "case.db")
	student := filepath.Join(base, "student.lnm")
	if _, stderr, code := runCLI(t, "--db", db, "audit", student, "--save", "--name", "sus"); code != 0 {
		t.Fatalf("audit --save: exit %d: %s", code, stderr)
	}
	for _, damage := range []struct {
		name    string
		rehash  bool
		edit    func(fp *fingerprint.Fingerprint)
		problem string
	}{
		{"hash", false, func(fp *fingerprint.Fingerprint) { fp.P.Data[0], fp.P.Data[1] = fp.P.Data[1], fp.P.Data[0] }, "hash mismatch"},
		{"rows", true, func(fp *fingerprint.Fingerprint) { fp.P.Data[0] += 0.5 }, "not probability distributions: row 0"},
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "case.db")
		if err := copyFile(db, path); err != nil {
			t.Fatal(err)
		}
		damageFingerprint(t, path, "sus", damage.rehash, damage.edit)
		export := filepath.Join(dir, "x.jsonl")
		for _, tt := range []struct {
			name string
			args []string
			want string // also said, besides the damage's problem
		}{
			{"db show", []string{"db", "show", "fingerprint", "sus"}, ""},
			{"db show untyped", []string{"db", "show", "sus"}, ""},
			{"db verify", []string{"db", "verify"}, ""},
			{"db export", []string{"db", "export", export}, ""},
			{"db import", []string{"--db", filepath.Join(dir, "copy.db"), "db", "import", export}, ""},
			{"audit", []string{"audit", "sus"}, ""},
			{"audit --save", []string{"audit", student, "--save", "--name", "sus"}, ""},
			{"probe", []string{"probe", student, "--suite", "acme", "--name", "sus"}, `fingerprint "sus": already exists (its record is damaged: `},
			{"compare", []string{"compare", "sus", "acme/teacher"}, ""},
			{"report", []string{"report"}, ""},
		} {
			want := tt.want
			if want == "" {
				want = damage.problem
			}
			stdout, stderr, code := runCLI(t, append([]string{"--db", path}, tt.args...)...)
			if code == 0 || !strings.Contains(stdout+stderr, want) || !strings.Contains(stdout+stderr, damage.problem) {
				t.Errorf("%s, %s: exit %d, stdout %q, stderr %q; want a failure saying %q", damage.name, tt.name, code, stdout, stderr, want)
			}
			for _, l := range strings.Split(stdout+stderr, "\n") {
				if strings.Count(l, "sus") > 1 {
					t.Errorf("%s, %s: %q names the fingerprint twice", damage.name, tt.name, l)
				}
			}
		}
	}
}
