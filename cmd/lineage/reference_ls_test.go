package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

// TestReferenceLs checks that reference ls lists every teacher's
// references, or one teacher's, and leaves the database file as it was.
func TestReferenceLs(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	addTinyReference(t, path, "acme", "vendor-a")
	addTinyReference(t, path, "beta", "vendor-b")
	addTinyReference(t, path, "acme", "vendor-c")
	before := fileSum(t, path)
	for _, tt := range []struct {
		args []string
		want []string // teacher:reference
	}{
		{nil, []string{"acme:vendor-a", "acme:vendor-c", "beta:vendor-b"}},
		{[]string{"--for", "beta"}, []string{"beta:vendor-b"}},
	} {
		root := newRootCommand()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(append([]string{"--db", path, "reference", "ls", "--format", "json"}, tt.args...))
		if err := root.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("reference ls %q: %v", tt.args, err)
		}
		var rows []referenceRow
		if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
			t.Fatalf("reference ls %q: %v\n%s", tt.args, err, out.Bytes())
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Teacher+":"+r.Reference)
			if r.Model != "model-of-"+r.Reference || r.Recipe != "bought from "+r.Reference || r.LabelOnly {
				t.Errorf("reference ls %q: row %+v, want model model-of-%s, recipe \"bought from %s\", not label-only", tt.args, r, r.Reference, r.Reference)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("reference ls %q: got %q, want %q", tt.args, got, tt.want)
		}
	}
	if fileSum(t, path) != before {
		t.Error("reference ls changed the database file")
	}
}

// TestReferenceLsLabelMap checks that reference ls says which reference
// was read through a label map, and which map, in its table's notes and
// its JSON: only its fingerprint's meta held it.
func TestReferenceLsLabelMap(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	addTinyReference(t, path, "acme", "vendor-a")
	const lm = "x=0,y=1,z=2"
	addTinyReferenceMeta(t, path, "acme", "vendor-b", map[string]string{fingerprint.MetaLabelMap: lm})
	out, _, code := runCLI(t, "--db", path, "reference", "ls")
	if want := "vendor-b (for acme): its labels were read by the label map stated when it was added (--label-map): " + lm; code != 0 || !strings.Contains(out, want) || strings.Contains(out, "vendor-a (for acme)") {
		t.Errorf("reference ls: exit %d, output\n%s\nwant a note for vendor-b alone: %s", code, out, want)
	}
	out, _, _ = runCLI(t, "--db", path, "reference", "ls", "--format", "json")
	var rows []referenceRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if want := map[string]string{"vendor-b": lm}[r.Reference]; r.LabelMap != want {
			t.Errorf("reference ls --format json: %s's label_map %q, want %q", r.Reference, r.LabelMap, want)
		}
	}
}
