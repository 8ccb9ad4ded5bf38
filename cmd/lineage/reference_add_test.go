package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
)

// TestReferenceNullSizes adds a reference that answers with labels only
// (served with --reveal label) and one with probabilities to a teacher
// without controls: the first joins the null of label-only suspects only,
// which reference add and report must say (they counted it in the null of
// every suspect, which audits of full-output suspects then reported one
// smaller).
func TestReferenceNullSizes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server process; skipped with -short")
	}
	path := tinyEnrolments(t, 4, "acme")
	dir := filepath.Dir(path)
	for i, name := range []string{"lab.lnm", "soft.lnm"} {
		m := model.NewMLP([]int{2, 4, 3}, model.ActReLU, model.DefaultLabels(3), rand.New(rand.NewPCG(uint64(i), 7)))
		if err := model.Save(filepath.Join(dir, name), m); err != nil {
			t.Fatal(err)
		}
	}
	base, _ := startServe(t, dir, nil, "lab.lnm", "--name", "lab", "--reveal", "label", "--watermark", "off")
	type sizes struct {
		Full      int  `json:"null_size"`
		LabelOnly int  `json:"null_size_label_only"`
		Labels    bool `json:"label_only"`
	}
	run := func(args ...string) []byte {
		t.Helper()
		var out bytes.Buffer
		root := newRootCommand()
		root.SetOut(&out)
		root.SetArgs(append([]string{"--db", path}, args...))
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("lineage %q: %v", args, err)
		}
		return out.Bytes()
	}
	for _, tt := range []struct {
		name, model string
		want        sizes
	}{
		{"lab", base + "/v2/models/lab", sizes{0, 1, true}},
		{"soft", filepath.Join(dir, "soft.lnm"), sizes{1, 2, false}},
	} {
		var got sizes
		out := run("reference", "add", tt.name, "--model", tt.model, "--for", "acme", "--format", "json")
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if got != tt.want {
			t.Errorf("reference add %s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	var doc struct {
		Teachers []sizes `json:"teachers"`
	}
	out := run("report", "--format", "json")
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if want := (sizes{1, 2, false}); len(doc.Teachers) != 1 || doc.Teachers[0] != want {
		t.Errorf("report: teachers %+v, want one with %+v", doc.Teachers, want)
	}
}

// TestReferenceAddRemoteResumes: reference add of a remote model commits
// its answers as they arrive, as probe does, so a rerun after a failure
// part-way asks only what was not answered; a rerun after success asks
// nothing; and a name taken by another model's fingerprint is refused
// before the model is asked anything. It used to ask every probe again.
func TestReferenceAddRemoteResumes(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes
	dir, script, answers := flakyScript(t)
	add := func(name string) (string, error) {
		var stderr bytes.Buffer
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(&stderr)
		root.SetArgs([]string{"--db", path, "reference", "add", name, "--model", "exec:/bin/sh " + script, "--for", "acme",
			"--ask-again", "-1", "--remote-batch", "1", "--concurrency", "1"})
		err := root.ExecuteContext(context.Background())
		return stderr.String(), err
	}
	if err := os.WriteFile(filepath.Join(dir, "fail"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := add("vendor"); err == nil || !strings.Contains(err.Error(), "quota exceeded") {
		t.Fatalf("reference add of a failing model: %v, want its error", err)
	}
	if got := answers(); got != 2 {
		t.Fatalf("the failing model answered %d probes before its error, want 2", got)
	}
	os.Remove(filepath.Join(dir, "fail"))
	stderr, err := add("vendor")
	if err != nil {
		t.Fatal(err)
	}
	if got := answers(); got != 4 {
		t.Errorf("after the rerun the model answered %d probes in all, want 4 (the 2 not answered before)", got)
	}
	if want := "resumed fingerprint vendor: 2 answers replayed from the journal, 2 asked"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want it to contain %q", stderr, want)
	}
	if stderr, err := add("vendor"); err != nil || !strings.Contains(stderr, "it was not asked again") {
		t.Errorf("reference add again: %v, stderr %q; want success without asking", err, stderr)
	}
	before := fileSum(t, path)
	if _, err := add("acme/teacher"); err == nil || !strings.Contains(err.Error(), `fingerprint "acme/teacher": already exists`) {
		t.Errorf("reference add under the teacher's fingerprint ID: %v, want a refusal naming it", err)
	}
	if got := answers(); got != 4 {
		t.Errorf("the model answered %d probes in all, want 4: the last two commands must ask nothing", got)
	}
	if fileSum(t, path) != before {
		t.Error("a refused reference add changed the database")
	}
	db, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if es, err := db.List(context.Background(), store.TypeAnswers); err != nil || len(es) != 0 {
		t.Errorf("journals left: %v, %v; want none once the reference is stored", es, err)
	}
}

// TestReferenceAddRequired: a reference add without --model or --for
// names the flag missing, before the database is opened; it said "--model
// and --for are required" when only one was missing.
func TestReferenceAddRequired(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "case.db")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "lineage: reference add: --model and --for are required (the independent model, and the enrolled teacher whose null it joins)\n"},
		{[]string{"--model", "m.lnm"}, "lineage: reference add: --for is required (the enrolled teacher whose null it joins)\n"},
		{[]string{"--for", "acme"}, "lineage: reference add: --model is required (the independent model)\n"},
	} {
		code, stderr := runLineage(t, append([]string{"--db", db, "reference", "add", "vendor-b"}, tt.args...)...)
		if code != exitUsage || stderr != tt.want {
			t.Errorf("reference add %v: exit %d, %q; want exit %d, %q", tt.args, code, stderr, exitUsage, tt.want)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("refused reference add left %s behind (stat: %v)", db, err)
	}
}
