package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// TestLabelMapEscapedLabels checks that labels holding ',' or '=' or
// starting with '#', which --label-map could not name, are named with a
// backslash, inline and in an @FILE; that the map is reported written the
// same way; and that a bad line of an @FILE is named by the file and line.
func TestLabelMapEscapedLabels(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	labels := []string{"n,0", "n=1", "#2", `3\`, "4", "5", "6", "7", "8", "9"}
	if err := model.Save("odd.lnm", model.NewMLP([]int{64, 4, 10}, model.ActReLU, labels, rand.New(rand.NewPCG(1, 2)))); err != nil {
		t.Fatal(err)
	}
	if err := model.Save("plain.lnm", model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))); err != nil {
		t.Fatal(err)
	}
	inline := `n\,0=0, n\=1=1, \#2=2, 3\\=3, 4=4,5=5,6=6,7=7,8=8,9=9`
	file := "# the suspect's label = the dataset's\nn\\,0 = 0\nn\\=1 = 1\n\\#2 = 2\n3\\\\ = 3\n4=4\n5=5\n6=6\n7=7\n8=8\n9=9\n"
	if err := os.WriteFile("odd.map", []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("bad.map", []byte("# x\nn\\,0=0\nn=1=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := `n\,0=0,n\=1=1,#2=2,3\\=3,4=4,5=5,6=6,7=7,8=8,9=9`
	plain, _, code := runCLI(t, "eval", "plain.lnm", "--data", "digits", "--format", "json")
	if code != 0 {
		t.Fatalf("eval plain.lnm: exit %d", code)
	}
	var p struct {
		Acc float64 `json:"test_accuracy"`
	}
	if err := json.Unmarshal([]byte(plain), &p); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{inline, "@odd.map"} {
		stdout, stderr, code := runCLI(t, "eval", "odd.lnm", "--data", "digits", "--label-map", m, "--format", "json")
		var r struct {
			LabelMap string  `json:"label_map"`
			Acc      float64 `json:"test_accuracy"`
		}
		if code != 0 || json.Unmarshal([]byte(stdout), &r) != nil {
			t.Fatalf("eval --label-map %q: exit %d, stdout %q, stderr %q", m, code, stdout, stderr)
		}
		// The same weights as plain.lnm, its labels renamed: the same accuracy.
		if r.LabelMap != want || r.Acc != p.Acc || !strings.Contains(stderr, "(--label-map "+want+")") {
			t.Errorf("eval --label-map %q: label_map %q, accuracy %v, stderr %q; want %q, %v and the map on stderr", m, r.LabelMap, r.Acc, stderr, want, p.Acc)
		}
	}
	_, stderr, code := runCLI(t, "eval", "odd.lnm", "--data", "digits", "--label-map", "@bad.map")
	if wantErr := `file "bad.map": label map: line 3: pair 2 "n=1=1": want MODEL_LABEL=TEACHER_LABEL`; code != exitUsage || !strings.Contains(stderr, wantErr) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("eval --label-map @bad.map: exit %d, stderr %q; want a usage error of one line saying %q", code, stderr, wantErr)
	}
}
