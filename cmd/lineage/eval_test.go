package main

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/eval"
	"github.com/lineage-audit/lineage/model"
)

// TestEval runs `lineage eval` on a seeded model against another and
// checks that it reports what eval.Evaluate measures on the dataset's
// test split, as JSON and as a table.
func TestEval(t *testing.T) {
	t.Chdir(t.TempDir())
	m := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	other := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(3, 4)))
	for path, mm := range map[string]*model.MLP{"m.lnm": m, "other.lnm": other} {
		if err := model.Save(path, mm); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := loadSplit(t.Context(), "digits")
	if err != nil {
		t.Fatal(err)
	}
	want, err := eval.Evaluate(t.Context(), m, sp.Test, other)
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := runCLI(t, "eval", "m.lnm", "--data", "digits", "--against", "other.lnm", "--format", "json")
	if code != exitOK {
		t.Fatalf("eval --format json: exit %d, stderr %q", code, stderr)
	}
	var got evalReport
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("eval --format json printed %q: %v", stdout, err)
	}
	if got.Model != "m.lnm" || got.Params != want.Params || got.Rows != want.Rows {
		t.Errorf("model %q, params %d, rows %d; want m.lnm, %d, %d", got.Model, got.Params, got.Rows, want.Params, want.Rows)
	}
	if got.TestAccuracy != want.TestAccuracy || got.NLL != want.NLL || got.ECE != want.ECE {
		t.Errorf("accuracy %v, NLL %v, ECE %v; want %v, %v, %v", got.TestAccuracy, got.NLL, got.ECE, want.TestAccuracy, want.NLL, want.ECE)
	}
	if got.Agreement == nil || *got.Agreement != *want.Agreement || got.TeacherTestAccuracy == nil || *got.TeacherTestAccuracy != *want.TeacherTestAccuracy {
		t.Errorf("agreement %v, accuracy of other %v; want %v, %v", got.Agreement, got.TeacherTestAccuracy, *want.Agreement, *want.TeacherTestAccuracy)
	}

	stdout, stderr, code = runCLI(t, "eval", "m.lnm", "--data", "digits", "--against", "other.lnm")
	if code != exitOK {
		t.Fatalf("eval: exit %d, stderr %q", code, stderr)
	}
	for _, row := range []string{"model", "test samples", "parameters", "test accuracy", "test NLL", "test ECE", "throughput (samples/s)", "top-1 agreement with other.lnm", "test accuracy of other.lnm"} {
		if !strings.Contains(stdout, row) {
			t.Errorf("eval table lacks %q:\n%s", row, stdout)
		}
	}
}
