package main

import (
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	bolt "go.etcd.io/bbolt"
)

// TestProbeKeepsOlderRecord checks probe of a model file under a name
// that holds a fingerprint of the same outputs: recorded by lineage
// before hash rule 3 (its hash leaving the model header out), it is kept
// and shown, with a note on stderr, from the model's path or another;
// --replace stores the new record; one under hash rule 3 read from
// another path is kept likewise, and a rerun from the same path is a
// silent no-op. Before, the kept record went unmentioned and probe
// printed the hash of the record it did not store.
func TestProbeKeepsOlderRecord(t *testing.T) {
	db := tinyEnrolments(t, 4, "acme") // labels 0 1 2, inputs of 2
	dir := t.TempDir()
	path, moved := filepath.Join(dir, "m.lnm"), filepath.Join(dir, "moved.lnm")
	m := model.NewMLP([]int{2, 3}, model.ActReLU, []string{"0", "1", "2"}, rand.New(rand.NewPCG(1, 2)))
	for _, p := range []string{path, moved} {
		if err := model.Save(p, m); err != nil {
			t.Fatal(err)
		}
	}
	probe := func(ref string, args ...string) (hash, stderr string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--db", db, "probe", ref, "--suite", "acme", "--name", "l", "--format", "json"}, args...)...)
		var r probeReport
		if code != exitOK || json.Unmarshal([]byte(stdout), &r) != nil {
			t.Fatalf("probe %s %v: exit %d, stderr %q", ref, args, code, stderr)
		}
		return r.Hash, stderr
	}
	stored := func() *fingerprint.Fingerprint {
		t.Helper()
		return storedFingerprints(t, db, "l")[0]
	}
	newHash, _ := probe(path)
	// As lineage before hash rule 3 recorded it.
	older := stored()
	delete(older.Meta, fingerprint.MetaHashRule)
	older.Hash = older.ComputeHash()
	data, err := fingerprint.Encode(older)
	if err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("fingerprints")).Put([]byte("l"), data) })
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	const note = `lineage: fingerprint "l" is already stored with these outputs (`
	for _, tt := range []struct {
		name, ref string
		args      []string
		wantHash  string // printed and stored
		wantNote  string // "" for none
	}{
		{"older record", path, nil, older.Hash, "recorded by an older lineage, whose hash leaves out its model header"},
		{"older record, another path", moved, nil, older.Hash, "recorded by an older lineage"},
		{"replaced", path, []string{"--replace"}, newHash, ""},
		{"another path", moved, nil, newHash, "taken from " + path},
		{"rerun", path, nil, newHash, ""},
	} {
		hash, stderr := probe(tt.ref, tt.args...)
		if got := stored().Hash; hash != tt.wantHash || got != tt.wantHash {
			t.Errorf("%s: printed hash %.12s, stored %.12s; want %.12s", tt.name, hash, got, tt.wantHash)
		}
		if tt.wantNote == "" && strings.Contains(stderr, note) || tt.wantNote != "" && (!strings.Contains(stderr, note+tt.wantNote) || strings.Count(stderr, "\n") != 1) {
			t.Errorf("%s: stderr %q, want note %q", tt.name, stderr, tt.wantNote)
		}
	}
	if out, _, code := runCLI(t, "--db", db, "db", "verify"); code != exitOK {
		t.Errorf("db verify: exit %d\n%s", code, out)
	}
}
