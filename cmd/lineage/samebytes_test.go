package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// TestTrainSameBytes checks what the README promises of "the same command
// and --seed": a byte-identical model from data of the same content and
// base name, whatever the directories of --data and --out; the same rows
// under another file name give the same weights in another header (the
// header records "dataset": "d.csv/train"), as another --out base name
// does (the model's name). The README said the bytes were the same for
// the same command alone.
func TestTrainSameBytes(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	d := dataset.Digits()
	var csv strings.Builder
	for i := range 300 {
		for _, v := range d.Row(i) {
			fmt.Fprintf(&csv, "%g,", v)
		}
		fmt.Fprintf(&csv, "%s\n", d.Labels[d.Y[i]])
	}
	for _, p := range []string{"a/d.csv", "b/d.csv", "a/e.csv"} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(csv.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	train := func(data, out string) []byte {
		t.Helper()
		if code, stderr := runLineage(t, "train", "--data", data, "--hidden", "4", "--epochs", "2", "--seed", "3", "--no-progress", "--out", out); code != exitOK {
			t.Fatalf("train --data %s --out %s: exit %d: %s", data, out, code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	weights := func(path string) []float32 {
		t.Helper()
		m, err := model.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		return m.(*model.MLP).Theta
	}
	m := train("a/d.csv", "a/m.lnm")
	if other := train("b/d.csv", "b/m.lnm"); !bytes.Equal(m, other) {
		t.Errorf("b/d.csv to b/m.lnm: bytes differ from a/d.csv to a/m.lnm; want them identical (same content and base names)")
	}
	for _, tt := range []struct{ data, out, differs string }{
		{"a/e.csv", "e/m.lnm", `"dataset":"e.csv/train"`},
		{"a/d.csv", "n.lnm", `"name":"n"`},
	} {
		if err := os.MkdirAll(filepath.Dir(tt.out), 0o755); err != nil {
			t.Fatal(err)
		}
		b := train(tt.data, tt.out)
		if bytes.Equal(m, b) || !bytes.Contains(b, []byte(tt.differs)) {
			t.Errorf("--data %s --out %s: bytes identical %v, header holds %s %v; want other bytes recording it", tt.data, tt.out, bytes.Equal(m, b), tt.differs, bytes.Contains(b, []byte(tt.differs)))
		}
		if !slices.Equal(weights("a/m.lnm"), weights(tt.out)) {
			t.Errorf("--data %s --out %s: weights differ from a/m.lnm's; want the same", tt.data, tt.out)
		}
	}
}
