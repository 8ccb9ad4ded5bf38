package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lineage-audit/lineage/model"
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
