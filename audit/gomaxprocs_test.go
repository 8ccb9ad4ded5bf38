package audit

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// TestEnrollDeterminismGOMAXPROCS enrols the same teacher with the same
// seed under GOMAXPROCS 1 with one worker and under GOMAXPROCS 4 with
// three: the suite hash is a commitment an owner publishes, and the
// controls' fingerprints and the report (but for its elapsed time) must
// not depend on how the work was shared out either (README,
// "Reproducibility").
func TestEnrollDeterminismGOMAXPROCS(t *testing.T) {
	d := dataset.Digits()
	recipes := ControlRecipes(MinControls, 1, []int{8}, model.ActReLU)
	for i := range recipes {
		recipes[i].Hidden, recipes[i].Epochs = []int{8}, 2
	}
	teacher := model.NewMLP([]int{64, 16, 10}, model.ActReLU, d.Labels, rand.New(rand.NewPCG(3, 3)))
	mean, std := dataset.Standardizer(d)
	teacher.Norm = model.Normalization{Mean: mean, Std: std}
	type outcome struct {
		suite, teacher string
		controls       []string
		report         string
	}
	run := func(procs, workers int) outcome {
		t.Helper()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		e, err := Enroll(context.Background(), "acme", teacher, d, EnrollOptions{Recipes: recipes, SuiteSize: DefaultMinProbes, Seed: 5, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		o := outcome{suite: e.Suite.Hash, teacher: e.Teacher.Hash}
		for _, c := range e.Controls {
			o.controls = append(o.controls, c.ID+" "+c.Hash)
		}
		r := e.Report
		r.ElapsedS = 0
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		o.report = string(b)
		return o
	}
	a, b := run(1, 1), run(4, 3)
	if a.suite != b.suite || a.teacher != b.teacher {
		t.Errorf("suite %.12s, teacher fingerprint %.12s under GOMAXPROCS 1; %.12s, %.12s under 4", a.suite, a.teacher, b.suite, b.teacher)
	}
	if !slices.Equal(a.controls, b.controls) {
		t.Errorf("control fingerprints differ:\n%q under GOMAXPROCS 1\n%q under 4", a.controls, b.controls)
	}
	if a.report != b.report {
		t.Errorf("enrolment reports differ:\n%s\nunder GOMAXPROCS 1, under 4:\n%s", a.report, b.report)
	}
}
