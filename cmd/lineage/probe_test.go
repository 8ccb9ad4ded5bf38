package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/store"
)

func TestDefaultFingerprintID(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"suspect.lnm", "suspect"},
		{"dir/sub/model.safetensors", "model"},
		{"file://x/y.lnm", "y"},
		{"http://host:8080/v2/models/vendor-m", "vendor-m"},
		{"exec:python3 examples/exec/logreg.py", "logreg"},
		{"exec:python3 model.py --verbose", "model"},
		{"exec:/usr/bin/python3 -u model.py --device cpu", "model"},
		{"exec:/opt/bin/mymodel --fast", "mymodel"},
		{"exec:mymodel", "mymodel"},
		{"exec:/opt/bin/blend 0.25 a.lnm 0.75 b.lnm", "a"},
		{"exec:/opt/bin/blend .5 1e-3", "blend"},
	}
	for _, tt := range tests {
		if got := defaultFingerprintID(tt.ref); got != tt.want {
			t.Errorf("defaultFingerprintID(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// TestProbeRemoteStored checks that a probe of a remote model settles a
// clash with a stored fingerprint before asking the model anything (its
// answers are paid for): the same command again completes from the stored
// fingerprint, another model or an enrolment's fingerprint under the name
// is refused, and --replace asks again.
func TestProbeRemoteStored(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes
	_, script, answers := flakyScript(t)
	probe := func(ref string, extra ...string) (string, error) {
		var stderr bytes.Buffer
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(&stderr)
		root.SetArgs(append([]string{"--db", path, "probe", ref, "--suite", "acme", "--ask-again", "-1", "--remote-batch", "1"}, extra...))
		err := root.ExecuteContext(context.Background())
		return stderr.String(), err
	}
	ref := "exec:/bin/sh " + script
	tests := []struct {
		name        string
		ref         string
		extra       []string
		wantErr     string // "" for success
		wantStderr  string
		wantAnswers int // new answers the model gave
	}{
		{"first", ref, []string{"--name", "s"}, "", "", 4},
		{"again", ref, []string{"--name", "s"}, "", `fingerprint "s" is already stored`, 0},
		{"another model", ref + " other", []string{"--name", "s"}, `fingerprint "s": already exists (taken from ` + remote.Identity(ref) + ` on suite`, "", 0},
		{"an enrolment's", ref, []string{"--name", "acme/teacher", "--replace"}, `fingerprint "acme/teacher" is used by enrolment acme`, "", 0},
		{"replace", ref, []string{"--name", "s", "--replace"}, "", "", 4},
	}
	for _, tt := range tests {
		before := answers()
		stderr, err := probe(tt.ref, tt.extra...)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		case !strings.Contains(stderr, tt.wantStderr):
			t.Errorf("%s: stderr %q, want %q", tt.name, stderr, tt.wantStderr)
		}
		if got := answers() - before; got != tt.wantAnswers {
			t.Errorf("%s: the model gave %d answers, want %d", tt.name, got, tt.wantAnswers)
		}
	}
	// Once audited, s is not replaced: the audit record would keep a
	// verdict reached on other outputs than the fingerprint it names.
	if code, stderr := runLineage(t, "--db", path, "audit", "s"); code != 0 {
		t.Fatalf("audit s: exit %d, %s", code, stderr)
	}
	before := answers()
	_, err := probe(ref, "--name", "s", "--replace")
	if want := `fingerprint "s" is used by audit s and cannot be replaced; choose another name, or remove the audit records first`; err == nil || !strings.Contains(err.Error(), want) || answers() != before {
		t.Errorf("--replace of an audited fingerprint: %v, %d answers; want %q before any query", err, answers()-before, want)
	}
}

// TestProbeLenientWarns checks that --lenient says on stderr how many
// answer rows it repaired (the table's warnings count alone went
// unnoticed), and that without it such answers fail the probe.
func TestProbeLenientWarns(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes
	script := filepath.Join(t.TempDir(), "twice.sh")
	const twice = `echo '{"lineage_exec":1,"name":"twice","input_size":2,"labels":["0","1","2"]}'
while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.4,0.6,1.0]]}"; done`
	if err := os.WriteFile(script, []byte(twice+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+script, "--suite", "acme", "--remote-batch", "1", "--lenient")
	if want := "lineage: --lenient repaired 4 answer rows of exec:/bin/sh " + script; code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("--lenient: exit %d, stderr %q; want 0 and %q", code, stderr, want)
	}
	_, stderr, code = runCLI(t, "--db", path, "probe", "exec:/bin/sh "+script, "--suite", "acme", "--name", "strict", "--remote-batch", "1")
	if want := "probabilities sum to 2"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("strict: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}

// TestProbeReorderedLabels checks that a model listing the suite's labels
// in another order is probed with its answers aligned by label name, and
// says so on stderr: its fingerprint holds what the same model answering
// in the suite's order gives (before, such a model was refused as having
// other labels, and an auditor had to wrap it to reorder its answers).
func TestProbeReorderedLabels(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes, labels 0 1 2
	dir := t.TempDir()
	models := map[string]string{
		"inorder":   `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" + `while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.2,0.3,0.5]]}"; done`,
		"reordered": `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["2","0","1"]}'` + "\n" + `while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.5,0.2,0.3]]}"; done`,
	}
	for name, src := range models {
		script := filepath.Join(dir, name+".sh")
		if err := os.WriteFile(script, []byte(src+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+script, "--suite", "acme", "--name", name, "--remote-batch", "1")
		note := "lists the suite's labels in another order ([2 0 1]); its answers were aligned to the suite's ([0 1 2]) by label name"
		if code != 0 || strings.Contains(stderr, note) != (name == "reordered") {
			t.Errorf("probe %s: exit %d, stderr %q; want 0 and the note %q only for the reordered model", name, code, stderr, note)
		}
	}
	fps := storedFingerprints(t, path, "inorder", "reordered")
	a, b := fps[0], fps[1]
	if !slices.Equal(a.P.Data, b.P.Data) {
		t.Errorf("reordered model's outputs %v, the model in the suite's order %v; want the same", b.P.Data, a.P.Data)
	}
	if got := b.Model.Labels; !slices.Equal(got, []string{"2", "0", "1"}) {
		t.Errorf("reordered model's stored labels %v, want its own order [2 0 1]", got)
	}
}

// storedFingerprints reads the fingerprints ids from the store at path,
// opened read-only, failing t when one cannot be read.
func storedFingerprints(t *testing.T, path string, ids ...string) []*fingerprint.Fingerprint {
	t.Helper()
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fps := make([]*fingerprint.Fingerprint, len(ids))
	if err := db.View(context.Background(), func(tx *store.Tx) error {
		for i, id := range ids {
			if fps[i], err = tx.Fingerprint(id); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return fps
}

// TestProbeLogits checks --logits: a model answering with logits is
// probed through their softmax, and its fingerprint says so; without the
// flag the answers are refused as not probabilities.
func TestProbeLogits(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes, labels 0 1 2
	script := filepath.Join(t.TempDir(), "logits.sh")
	const src = `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'
while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[1,2,-1]]}"; done`
	if err := os.WriteFile(script, []byte(src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := "exec:/bin/sh " + script
	if _, stderr, code := runCLI(t, "--db", path, "probe", ref, "--suite", "acme", "--name", "plain", "--remote-batch", "1"); code != 1 || !strings.Contains(stderr, "negative probability") {
		t.Errorf("logits without --logits: exit %d, stderr %q; want 1 and a negative probability", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--db", path, "probe", ref, "--suite", "acme", "--name", "soft", "--remote-batch", "1", "--logits"); code != 0 {
		t.Fatalf("--logits: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--db", path, "probe", ref, "--suite", "acme", "--name", "soft", "--remote-batch", "1"); code == 0 || !strings.Contains(stderr, "its answers read as logits (--logits)") {
		t.Errorf("probe without --logits under the name of one taken with it: exit %d, stderr %q; want a refusal saying how it was read", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--db", path, "probe", ref, "--suite", "acme", "--name", "soft", "--remote-batch", "1", "--logits"); code != 0 || !strings.Contains(stderr, "already stored") {
		t.Errorf("probe with --logits again: exit %d, stderr %q; want the stored fingerprint taken as it is", code, stderr)
	}
	out, _, code := runCLI(t, "--db", path, "db", "show", "fingerprint", "soft")
	if code != 0 || !strings.Contains(out, `"outputs": "logits (softmax taken by lineage)"`) {
		t.Errorf("db show of the fingerprint: exit %d, %s; want its outputs named", code, out)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(context.Background(), func(tx *store.Tx) error {
		fp, err := tx.Fingerprint("soft")
		if err != nil {
			return err
		}
		e := []float64{math.E, math.E * math.E, 1 / math.E}
		s := e[0] + e[1] + e[2]
		for j, v := range fp.Row(0) {
			if math.Abs(float64(v)-e[j]/s) > 1e-6 {
				t.Errorf("probe 0, label %d: %v, want the softmax %v", j, v, e[j]/s)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestProbeExecTwoDirectories: the same exec: command text run from two
// directories, each beside its own script, is two models. A probe of the
// second under the first's fingerprint name is refused before it asks
// anything, and an interrupted probe of the first is not resumed with the
// second's answers (both used to take the first's answers as the
// second's: one fingerprint of the wrong model, one mixing the two).
func TestProbeExecTwoDirectories(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes
	dirA, _, answersA := flakyScript(t)
	dirB, _, answersB := otherFlakyScript(t)
	probeIn := func(dir, ref, name string) (string, error) {
		t.Chdir(dir)
		var stderr bytes.Buffer
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(&stderr)
		root.SetArgs([]string{"--db", path, "probe", ref, "--suite", "acme", "--name", name,
			"--ask-again", "-1", "--remote-batch", "1", "--concurrency", "1"})
		err := root.ExecuteContext(context.Background())
		return stderr.String(), err
	}
	const rel = "exec:/bin/sh suspect.sh"
	if _, err := probeIn(dirA, rel, "s"); err != nil {
		t.Fatal(err)
	}
	if _, err := probeIn(dirB, rel, "s"); err == nil || !strings.Contains(err.Error(), "already exists") || !strings.Contains(err.Error(), dirA) {
		t.Errorf("probe of the other directory's model under the first's name: %v, want a refusal naming %s", err, dirA)
	}
	if n := answersB(); n != 0 {
		t.Errorf("the refused probe asked the model %d probes, want none", n)
	}

	if err := os.WriteFile(filepath.Join(dirA, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := probeIn(dirA, rel, "s2"); err == nil {
		t.Fatal("probe of the failing model succeeded")
	}
	if n := answersA(); n != 4+2 {
		t.Fatalf("model A answered %d probes, want 4 then 2 before failing", n)
	}
	stderr, err := probeIn(dirB, rel, "s2")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr, "replayed") || answersB() != 4 {
		t.Errorf("probe of B after A's interrupted one: stderr %q, B answered %d; want all 4 of B's own, nothing replayed", stderr, answersB())
	}
	// A command naming its script by absolute path is one model from any
	// directory: its stored fingerprint is taken as it is.
	absRef := "exec:/bin/sh " + filepath.Join(dirB, "suspect.sh")
	if _, err := probeIn(dirA, absRef, "abs"); err != nil {
		t.Fatal(err)
	}
	before := answersB()
	if stderr, err := probeIn(t.TempDir(), absRef, "abs"); err != nil || !strings.Contains(stderr, "not asked again") || answersB() != before {
		t.Errorf("the absolute command from another directory: %v, stderr %q, %d answers; want the stored fingerprint, nothing asked", err, stderr, answersB()-before)
	}
}

// TestProbeAsksAgain checks that a remote model's fingerprint records how
// its answers varied when some probes were asked again: 0 for a model that
// answers an input the same way every time, more for one that does not
// (which an audit then does not clear: TestSettleVariation).
func TestProbeAsksAgain(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes, labels 0 1 2
	dir := t.TempDir()
	models := map[string]string{
		"steady": `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" + `while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.2,0.3,0.5]]}"; done`,
		// The answer to the n-th row asked: 0.5 to label 0 when n is 1 mod 3.
		"noisy": `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" + `n=0; while read l; do n=$((n+1)); id=${l#*\"id\":}; id=${id%%,*}; if [ $((n % 3)) = 1 ]; then p="[0.5,0.3,0.2]"; else p="[0.2,0.3,0.5]"; fi; echo "{\"id\":$id,\"probabilities\":[$p]}"; done`,
		// Noise keyed on the exact input: the answer follows a checksum of
		// the row asked, the same each time it is asked.
		"keyed": `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" + `while read l; do id=${l#*\"id\":}; id=${id%%,*}; c=$(printf %s "${l#*\"inputs\":}" | cksum); a=$(( ${c%% *} % 50 )); echo "{\"id\":$id,\"probabilities\":[[0.$((a+10)),0.$((89-a)),0.01]]}"; done`,
	}
	for _, tt := range []struct {
		name, same string
		near       func(float64) bool
	}{
		{"steady", "0", func(v float64) bool { return v == 0 }},
		{"noisy", "0.3", func(float64) bool { return true }},
		{"keyed", "0", func(v float64) bool { return v > audit.MaxNearby }},
	} {
		script := filepath.Join(dir, tt.name+".sh")
		if err := os.WriteFile(script, []byte(models[tt.name]+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+script, "--suite", "acme", "--name", tt.name, "--remote-batch", "1"); code != 0 {
			t.Fatalf("probe %s: exit %d, %s", tt.name, code, stderr)
		}
		out, _, code := runCLI(t, "--db", path, "db", "show", "fingerprint", tt.name)
		if want := `"answer_variation": "` + tt.same + `"`; code != 0 || !strings.Contains(out, want) {
			t.Errorf("probe %s: fingerprint %s; want %s", tt.name, out, want)
		}
		// The suite has 4 probes: each asked again, then the point next to each.
		if want := `"queries_asked_again": "8"`; !strings.Contains(out, want) {
			t.Errorf("probe %s: fingerprint %s; want %s", tt.name, out, want)
		}
		var shown struct {
			Meta map[string]string `json:"meta"`
		}
		if err := json.Unmarshal([]byte(out), &shown); err != nil {
			t.Fatalf("db show fingerprint %s: %v", tt.name, err)
		}
		near, err := strconv.ParseFloat(shown.Meta[fingerprint.MetaNearby], 64)
		if err != nil || !tt.near(near) {
			t.Errorf("probe %s: nearby_variation %q", tt.name, shown.Meta[fingerprint.MetaNearby])
		}
	}
	// A top-k fingerprint is asked again too, its answers compacted alike.
	if _, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+filepath.Join(dir, "noisy.sh"), "--suite", "acme", "--name", "top2", "--top-k", "2", "--remote-batch", "1"); code != 0 {
		t.Fatalf("probe --top-k 2: exit %d, %s", code, stderr)
	}
	if out, _, _ := runCLI(t, "--db", path, "db", "show", "fingerprint", "top2"); !strings.Contains(out, `"answer_variation": "0.3"`) {
		t.Errorf("probe --top-k 2 of the noisy model: fingerprint %s; want answer_variation 0.3", out)
	}
	// A model that refuses to be asked again (its 5th row on) keeps its
	// fingerprint, marked unmeasured, and says so.
	quota := filepath.Join(dir, "quota.sh")
	src := `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" + `n=0; while read l; do n=$((n+1)); id=${l#*\"id\":}; id=${id%%,*}; if [ $n -gt 4 ]; then echo "{\"id\":$id,\"error\":\"quota exceeded\"}"; continue; fi; echo "{\"id\":$id,\"probabilities\":[[0.2,0.3,0.5]]}"; done`
	if err := os.WriteFile(quota, []byte(src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+quota, "--suite", "acme", "--name", "quota", "--remote-batch", "1", "--retries", "-1")
	if code != 0 || !strings.Contains(stderr, "quota exceeded") || !strings.Contains(stderr, "an audit will not clear it") {
		t.Errorf("probe of a model refusing to be asked again: exit %d, stderr %q; want 0 and a warning naming its error", code, stderr)
	}
	if out, _, _ := runCLI(t, "--db", path, "db", "show", "fingerprint", "quota"); !strings.Contains(out, `"answer_variation": "unmeasured"`) || !strings.Contains(out, `"nearby_variation": "unmeasured"`) {
		t.Errorf("probe of a model refusing to be asked again: fingerprint %s; want answer_variation unmeasured", out)
	}
	// A model that answers the probes again but not the points next to
	// them (its 9th row on) keeps its answer variation; only the nearby
	// variation is unmeasured, and the warning says so.
	late := filepath.Join(dir, "late.sh")
	src = `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" + `n=0; while read l; do n=$((n+1)); id=${l#*\"id\":}; id=${id%%,*}; if [ $n -gt 8 ]; then echo "{\"id\":$id,\"error\":\"quota exceeded\"}"; continue; fi; echo "{\"id\":$id,\"probabilities\":[[0.2,0.3,0.5]]}"; done`
	if err := os.WriteFile(late, []byte(src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCLI(t, "--db", path, "probe", "exec:/bin/sh "+late, "--suite", "acme", "--name", "late", "--remote-batch", "1", "--retries", "-1")
	if code != 0 || !strings.Contains(stderr, "points next to probes") || !strings.Contains(stderr, "an audit of its full outputs will not clear it") {
		t.Errorf("probe of a model refusing the points next to probes: exit %d, stderr %q; want 0 and a warning naming them", code, stderr)
	}
	if out, _, _ := runCLI(t, "--db", path, "db", "show", "fingerprint", "late"); !strings.Contains(out, `"answer_variation": "0"`) || !strings.Contains(out, `"nearby_variation": "unmeasured"`) ||
		!strings.Contains(out, `"queries_asked_again": "4"`) {
		t.Errorf("probe of a model refusing the points next to probes: fingerprint %s; want answer_variation 0, nearby_variation unmeasured, 4 queries asked again", out)
	}
	// --ask-again -1 asks nothing again, and records nothing.
	script := filepath.Join(dir, "noisy.sh")
	if _, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+script, "--suite", "acme", "--name", "once", "--remote-batch", "1", "--ask-again", "-1"); code != 0 || !strings.Contains(stderr, "not asked again (--ask-again -1), so an audit will not clear it") {
		t.Fatalf("probe --ask-again -1: exit %d, stderr %q; want 0 and a warning that an audit will not clear it", code, stderr)
	}
	if out, _, _ := runCLI(t, "--db", path, "db", "show", "fingerprint", "once"); strings.Contains(out, "variation") {
		t.Errorf("probe --ask-again -1: fingerprint %s; want no answer_variation or nearby_variation", out)
	}
}

// TestProbeTopKAllLabels checks that a --top-k keeping every one of the
// suite's labels is refused before the model is asked anything, naming the
// flag and the bound, as serve and distill refuse --reveal topk:K there (it
// was stored as the full outputs, under --top-k 0's hash), and that a K
// below the number of labels is still taken as a top-k fingerprint.
func TestProbeTopKAllLabels(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes, labels 0 1 2
	_, script, answers := flakyScript(t)
	ref := "exec:/bin/sh " + script
	tests := []struct {
		k          string
		wantCode   int
		wantStderr string // the whole stderr when wantCode is not 0
	}{
		{"3", exitUsage, "lineage: --top-k 3: want 1 to 2 (0: all), suite \"acme\" having 3 labels: a top-3 keeps every one, which is --top-k 0\n"},
		{"10", exitUsage, "lineage: --top-k 10: want 1 to 2 (0: all), suite \"acme\" having 3 labels: a top-10 keeps every one, which is --top-k 0\n"},
		{"-1", exitUsage, "lineage: --top-k -1: want 0 or more (0: all)\n"},
		{"2", exitOK, ""},
	}
	for _, tt := range tests {
		before := answers()
		_, stderr, code := runCLI(t, "--db", path, "probe", ref, "--suite", "acme", "--name", "k"+tt.k, "--top-k", tt.k, "--remote-batch", "1", "--ask-again", "-1")
		if code != tt.wantCode || tt.wantCode != exitOK && stderr != tt.wantStderr {
			t.Errorf("probe --top-k %s: exit %d, stderr %q; want exit %d, stderr %q", tt.k, code, stderr, tt.wantCode, tt.wantStderr)
		}
		if asked := answers() - before; tt.wantCode != exitOK && asked != 0 {
			t.Errorf("probe --top-k %s: the model answered %d times, want 0", tt.k, asked)
		}
	}
	out, _, code := runCLI(t, "--db", path, "db", "show", "fingerprint", "k2")
	if code != exitOK || !strings.Contains(out, `"top_k": 2`) {
		t.Errorf("db show fingerprint k2: exit %d, want top_k 2:\n%s", code, out)
	}
}

// TestProbeExecNotUTF8 checks an exec: model under a path that is not
// UTF-8 (a file name is any bytes): its command was read rune by rune, so
// the program was started on another path ("cannot open …/d�/suspect.sh"),
// and with that fixed the store refused its journal's name ("is not valid
// UTF-8"), so every run asked the model everything again. A run that
// fails part-way now keeps its answers, the next asks only the rest, and
// a third asks nothing.
func TestProbeExecNotUTF8(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes
	dir := filepath.Join(t.TempDir(), "d\xff")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skip(err) // a file system that takes UTF-8 names only
	}
	script := filepath.Join(dir, "suspect.sh")
	if err := os.WriteFile(script, []byte(flakySuspect+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	answers := func() int {
		b, _ := os.ReadFile(filepath.Join(dir, "ok.log"))
		return bytes.Count(b, []byte("\n"))
	}
	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--db", path, "probe", "exec:/bin/sh " + script, "--suite", "acme", "--name", "s",
		"--ask-again", "-1", "--remote-batch", "1", "--concurrency", "1"}
	if _, stderr, code := runCLI(t, args...); code == exitOK || answers() != 2 {
		t.Fatalf("probe of the failing model: exit %d, %d answers, stderr %q; want a failure after 2", code, answers(), stderr)
	}
	if err := os.Remove(filepath.Join(dir, "fail")); err != nil {
		t.Fatal(err)
	}
	for run, want := range []int{4, 4} {
		if _, stderr, code := runCLI(t, args...); code != exitOK || answers() != want {
			t.Errorf("probe run %d after the failure: exit %d, stderr %q, %d answers in all; want %d", run+2, code, stderr, answers(), want)
		}
	}
}
