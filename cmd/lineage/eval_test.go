package main

import (
	"encoding/json"
	"io"
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
	sp, err := loadSplit(t.Context(), io.Discard, "digits")
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
	if got.TestAccuracy != want.TestAccuracy || got.NLL == nil || *got.NLL != want.NLL || got.ECE == nil || *got.ECE != want.ECE {
		t.Errorf("accuracy %v, NLL %v, ECE %v; want %v, %v, %v", got.TestAccuracy, got.NLL, got.ECE, want.TestAccuracy, want.NLL, want.ECE)
	}
	if got.LabelsOnly || got.NoCalibration != "" {
		t.Errorf("labels_only %v, no_calibration %q; want false, none", got.LabelsOnly, got.NoCalibration)
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

// TestEvalLabelsOnly evaluates a model served with labels only: its JSON
// has null NLL and ECE with the reason, as its table says "n/a (labels
// only)" (the JSON gave the NLL of one-hot answers, 4.2 on the digits,
// and their ECE, the error rate, as if they were calibration).
func TestEvalLabelsOnly(t *testing.T) {
	m := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	ref := labelAPI(t, m)
	stdout, stderr, code := runCLI(t, "eval", ref, "--data", "digits", "--format", "json")
	if code != exitOK {
		t.Fatalf("eval --format json: exit %d, stderr %q", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("eval --format json printed %q: %v", stdout, err)
	}
	for _, k := range []string{"nll", "ece"} {
		if v, ok := got[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	if got["labels_only"] != true || got["no_calibration"] != noCalibration {
		t.Errorf("labels_only %v, no_calibration %v; want true, %q", got["labels_only"], got["no_calibration"], noCalibration)
	}
	if acc, _ := got["test_accuracy"].(float64); !(acc > 0) {
		t.Errorf("test_accuracy %v, want the model's", got["test_accuracy"])
	}
	stdout, _, code = runCLI(t, "eval", ref, "--data", "digits")
	if code != exitOK || strings.Count(stdout, "n/a (labels only)") != 2 {
		t.Errorf("eval table: exit %d, want NLL and ECE n/a (labels only):\n%s", code, stdout)
	}
}

// TestEvalLabelMap checks that eval --label-map says in its output, table
// and JSON, that MODEL's labels were read by the map, with the map (only
// stderr said so: the JSON of a relabelled model's accuracy did not), and
// that the relabelled model measures as the original.
func TestEvalLabelMap(t *testing.T) {
	t.Chdir(t.TempDir())
	m := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	if err := model.Save("m.lnm", m); err != nil {
		t.Fatal(err)
	}
	if err := relabelModel("m.lnm", "renamed.lnm", 3); err != nil {
		t.Fatal(err)
	}
	const inOrder = "seven=7,eight=8,nine=9,zero=0,one=1,two=2,three=3,four=4,five=5,six=6" // renamed.lnm's order
	var (
		got [2]evalReport
		raw [2]string
	)
	for i, ref := range []string{"m.lnm", "renamed.lnm"} {
		args := []string{"eval", ref, "--data", "digits", "--format", "json"}
		if i == 1 {
			args = append(args, "--label-map", digitWordsMap)
		}
		stdout, stderr, code := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("eval %s: exit %d, stderr %q", ref, code, stderr)
		}
		if err := json.Unmarshal([]byte(stdout), &got[i]); err != nil {
			t.Fatalf("eval %s printed %q: %v", ref, stdout, err)
		}
		raw[i] = stdout
	}
	if strings.Contains(raw[0], "label_map") || !strings.Contains(raw[1], `"label_map": "`+inOrder+`"`) {
		t.Errorf("eval JSON without a map:\n%s\nwith one:\n%s\nwant label_map %q in the second alone", raw[0], raw[1], inOrder)
	}
	if got[1].TestAccuracy != got[0].TestAccuracy {
		t.Errorf("relabelled accuracy %v, want the original's %v", got[1].TestAccuracy, got[0].TestAccuracy)
	}
	stdout, stderr, code := runCLI(t, "eval", "renamed.lnm", "--data", "digits", "--label-map", digitWordsMap)
	if code != exitOK || !strings.Contains(stdout, "labels read as") || !strings.Contains(stdout, inOrder) {
		t.Errorf("eval table: exit %d, stderr %q, stdout lacks 'labels read as' %s:\n%s", code, stderr, inOrder, stdout)
	}
}
