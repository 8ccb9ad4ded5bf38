package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	bolt "go.etcd.io/bbolt"
)

// TestRemoteMetaEditRefused checks that probe hashes what it records of
// a remote model's answers to being asked (fingerprint hash rule 2, a
// model file's fingerprint keeping its hash as it was), and that an edit
// of any of those keys in the database (a value changed, a key removed
// or added) is named by db verify in one line and refused by db import.
// Before, each passed both, and an answer_variation lowered to 0 let an
// audit clear a suspect it would not have cleared.
func TestRemoteMetaEditRefused(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes, labels 0 1 2
	src := filepath.Join(t.TempDir(), "m.sh")
	model := `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" +
		`while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.2,0.3,0.5]]}"; done` + "\n"
	if err := os.WriteFile(src, []byte(model), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+src, "--suite", "acme", "--name", "r", "--remote-batch", "1"); code != 0 {
		t.Fatalf("probe: %s", stderr)
	}
	fps := storedFingerprints(t, path, "r", "acme/teacher")
	r, local := fps[0], fps[1]
	if got := r.Meta[fingerprint.MetaHashRule]; got != fingerprint.HashRuleRemote || !r.Remote() {
		t.Fatalf("remote fingerprint meta %v: want %s %q", r.Meta, fingerprint.MetaHashRule, fingerprint.HashRuleRemote)
	}
	if _, ok := local.Meta[fingerprint.MetaHashRule]; ok {
		t.Errorf("model file's fingerprint meta %v: want no %s", local.Meta, fingerprint.MetaHashRule)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		edit func(map[string]string)
	}{
		{"remote changed", func(m map[string]string) { m[fingerprint.MetaRemote] = "exec:" }},
		{"remote removed", func(m map[string]string) { delete(m, fingerprint.MetaRemote) }},
		{"answer_variation changed", func(m map[string]string) { m[fingerprint.MetaVariation] = "0.5" }},
		{"answer_variation removed", func(m map[string]string) { delete(m, fingerprint.MetaVariation) }},
		{"nearby_variation changed", func(m map[string]string) { m[fingerprint.MetaNearby] = "0.5" }},
		{"nearby_variation removed", func(m map[string]string) { delete(m, fingerprint.MetaNearby) }},
		{"outputs added", func(m map[string]string) { m[metaOutputs] = metaLogits }},
		{"output added", func(m map[string]string) { m[metaOutput] = "probs" }},
		{"output_chosen_by added", func(m map[string]string) { m[metaOutputChosen] = "--output" }},
		{"hash_rule removed", func(m map[string]string) { delete(m, fingerprint.MetaHashRule) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := r.Clone()
			tt.edit(edited.Meta)
			forged, err := fingerprint.Encode(edited)
			if err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(t.TempDir(), "case.db")
			if err := os.WriteFile(db, file, 0o600); err != nil {
				t.Fatal(err)
			}
			bdb, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = bdb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("fingerprints")).Put([]byte("r"), forged) })
			bdb.Close()
			if err != nil {
				t.Fatal(err)
			}
			out, _, code := runCLI(t, "--db", db, "db", "verify")
			var named []string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "fingerprint") && strings.Contains(l, "| r ") {
					named = append(named, l)
				}
			}
			if code != exitError || len(named) != 1 || !strings.Contains(named[0], "hash mismatch") || strings.Contains(named[0], `"r"`) {
				t.Errorf("db verify: exit %d, output %q; want 1 and one line naming fingerprint r once, its hash mismatch", code, out)
			}
			export := filepath.Join(t.TempDir(), "x.jsonl")
			if _, stderr, _ := runCLI(t, "--db", db, "db", "export", export); !strings.Contains(stderr, "the export was written") {
				t.Fatalf("db export: %s", stderr)
			}
			_, stderr, code := runCLI(t, "--db", filepath.Join(t.TempDir(), "copy.db"), "db", "import", export)
			if code != exitError || !strings.Contains(stderr, `fingerprint "r": fingerprint hash mismatch`) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("db import: exit %d, stderr %q; want 1 and one line naming fingerprint r", code, stderr)
			}
		})
	}
}
