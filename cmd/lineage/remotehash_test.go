package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
)

// TestRemoteMetaEditRefused checks that probe hashes what it records of
// a remote model's answers to being asked (fingerprint hash rule 2) and
// the model header of a remote model's and a model file's fingerprint
// (hash rule 3), and that an edit of any of those in the database (a
// value changed, a key removed or added, the rule removed or lowered) is
// named by db verify in one line, refused by db show, and refused by db
// import. Before, each passed them all: an answer_variation lowered to 0
// let an audit clear a suspect it would not have cleared, and a model
// renamed or its labels edited was shown and acted on as recorded.
func TestRemoteMetaEditRefused(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes, labels 0 1 2
	src := filepath.Join(t.TempDir(), "m.sh")
	script := `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" +
		`while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.2,0.3,0.5]]}"; done` + "\n"
	if err := os.WriteFile(src, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+src, "--suite", "acme", "--name", "r", "--remote-batch", "1"); code != 0 {
		t.Fatalf("probe: %s", stderr)
	}
	local := filepath.Join(t.TempDir(), "m.lnm")
	m := model.NewMLP([]int{2, 3}, model.ActReLU, []string{"2", "0", "1"}, rand.New(rand.NewPCG(1, 2)))
	if err := model.Save(local, m); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "--db", path, "probe", local, "--suite", "acme", "--name", "l"); code != 0 {
		t.Fatalf("probe %s: %s", local, stderr)
	}
	fps := storedFingerprints(t, path, "r", "l", "acme/teacher")
	r, l, older := fps[0], fps[1], fps[2]
	for _, fp := range []*fingerprint.Fingerprint{r, l} {
		if got := fp.Meta[fingerprint.MetaHashRule]; got != fingerprint.HashRuleHeader {
			t.Fatalf("fingerprint %s meta %v: want %s %q", fp.ID, fp.Meta, fingerprint.MetaHashRule, fingerprint.HashRuleHeader)
		}
	}
	if !r.Remote() || l.Remote() || l.Model.Source == "" || r.Model.Source == "" {
		t.Fatalf("fingerprints r %+v, l %+v: want r remote, l a model file, both with a source", r.Model, l.Model)
	}
	if _, ok := older.Meta[fingerprint.MetaHashRule]; ok {
		t.Errorf("the teacher's fingerprint, as lineage before hash rule 2 wrote it: meta %v, want no %s", older.Meta, fingerprint.MetaHashRule)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	type edit struct {
		name string
		edit func(*fingerprint.Fingerprint)
	}
	meta := func(name string, f func(map[string]string)) edit {
		return edit{name, func(fp *fingerprint.Fingerprint) { f(fp.Meta) }}
	}
	tests := []edit{
		meta("remote changed", func(m map[string]string) { m[fingerprint.MetaRemote] = "exec:" }),
		meta("remote removed", func(m map[string]string) { delete(m, fingerprint.MetaRemote) }),
		meta("answer_variation changed", func(m map[string]string) { m[fingerprint.MetaVariation] = "0.5" }),
		meta("answer_variation removed", func(m map[string]string) { delete(m, fingerprint.MetaVariation) }),
		meta("nearby_variation changed", func(m map[string]string) { m[fingerprint.MetaNearby] = "0.5" }),
		meta("nearby_variation removed", func(m map[string]string) { delete(m, fingerprint.MetaNearby) }),
		meta("outputs added", func(m map[string]string) { m[metaOutputs] = metaLogits }),
		meta("output added", func(m map[string]string) { m[metaOutput] = "probs" }),
		meta("output_chosen_by added", func(m map[string]string) { m[metaOutputChosen] = "--output" }),
		meta("hash_rule removed", func(m map[string]string) { delete(m, fingerprint.MetaHashRule) }),
		meta("hash_rule lowered to 2", func(m map[string]string) { m[fingerprint.MetaHashRule] = fingerprint.HashRuleRemote }),
	}
	// The model header, of either fingerprint (hash rule 3).
	for _, id := range []string{"r", "l"} {
		for _, e := range []edit{
			{"name", func(fp *fingerprint.Fingerprint) { fp.Model.Name = "teacher" }},
			{"kind", func(fp *fingerprint.Fingerprint) { fp.Model.Kind = model.LanguageModel }},
			{"input size", func(fp *fingerprint.Fingerprint) { fp.Model.InputSize = 3 }},
			{"labels", func(fp *fingerprint.Fingerprint) { fp.Model.Labels = []string{"1", "2", "0"} }},
			{"params", func(fp *fingerprint.Fingerprint) { fp.Model.Params++ }},
			{"source", func(fp *fingerprint.Fingerprint) { fp.Model.Source = "http://elsewhere/v2/models/m" }},
			{"hash_rule removed, name", func(fp *fingerprint.Fingerprint) {
				delete(fp.Meta, fingerprint.MetaHashRule)
				fp.Model.Name = "teacher"
			}},
		} {
			tests = append(tests, edit{id + " " + e.name, e.edit})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edited := r.Clone()
			if strings.HasPrefix(tt.name, "l ") {
				edited = l.Clone()
			}
			id := edited.ID
			tt.edit(edited)
			forged, err := fingerprint.Encode(edited)
			if err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(t.TempDir(), "case.db")
			if err := os.WriteFile(db, file, 0o600); err != nil {
				t.Fatal(err)
			}
			putRawFingerprint(t, db, id, forged)
			out, _, code := runCLI(t, "--db", db, "db", "verify")
			var named []string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "fingerprint") && strings.Contains(l, "| "+id+" ") {
					named = append(named, l)
				}
			}
			if code != exitError || len(named) != 1 || !strings.Contains(named[0], "hash mismatch") || strings.Contains(named[0], `"`+id+`"`) {
				t.Errorf("db verify: exit %d, output %q; want 1 and one line naming fingerprint %s once, its hash mismatch", code, out, id)
			}
			_, stderr, code := runCLI(t, "--db", db, "db", "show", "fingerprint", id)
			if code != exitError || !strings.Contains(stderr, "hash mismatch") || strings.Count(stderr, "\n") != 1 {
				t.Errorf("db show: exit %d, stderr %q; want 1 and one line, its hash mismatch", code, stderr)
			}
			export := filepath.Join(t.TempDir(), "x.jsonl")
			if _, stderr, _ := runCLI(t, "--db", db, "db", "export", export); !strings.Contains(stderr, "the export was written") {
				t.Fatalf("db export: %s", stderr)
			}
			_, stderr, code = runCLI(t, "--db", filepath.Join(t.TempDir(), "copy.db"), "db", "import", export)
			if code != exitError || !strings.Contains(stderr, `fingerprint "`+id+`": hash mismatch`) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("db import: exit %d, stderr %q; want 1 and one line naming fingerprint %s", code, stderr, id)
			}
		})
	}
}
