package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/report"
)

// TestRunKDQuick runs the KD bench in quick mode (digits, one seed, a few
// epochs) and checks the shape of the result and tables and that the
// figures are sane: accuracies in [0,1], errors consistent with accuracy,
// the teacher better than a student trained for one epoch.
func TestRunKDQuick(t *testing.T) {
	ctx := context.Background()
	spec := KDSpec{Dataset: "digits", TeacherHidden: []int{256, 256}, StudentHidden: []int{16}, Epochs: 8, BatchSize: 32}
	res, err := RunKD(ctx, KDOptions{Specs: []KDSpec{spec}, Seeds: 1, Temperatures: []float64{1, 4}})
	if err != nil {
		t.Fatalf("RunKD: %v", err)
	}
	if got, want := len(res.Datasets), 1; got != want {
		t.Fatalf("datasets: got %d, want %d", got, want)
	}
	d := res.Datasets[0]
	wantLabels := []string{"teacher 256-256", "student 16 (hard labels)", "student 16, KD T=1", "student 16, KD T=4"}
	if got := len(d.Rows); got != len(wantLabels) {
		t.Fatalf("rows: got %d, want %d", got, len(wantLabels))
	}
	if got, want := len(d.Runs), len(wantLabels); got != want {
		t.Fatalf("runs: got %d, want %d", got, want)
	}
	wantParams := []int{64*256 + 256 + 256*256 + 256 + 256*10 + 10, 64*16 + 16 + 16*10 + 10, 64*16 + 16 + 16*10 + 10, 64*16 + 16 + 16*10 + 10}
	for i, row := range d.Rows {
		if row.Label != wantLabels[i] {
			t.Errorf("row %d label: got %q, want %q", i, row.Label, wantLabels[i])
		}
		if row.Params != wantParams[i] {
			t.Errorf("%s params: got %d, want %d", row.Label, row.Params, wantParams[i])
		}
		if row.Seeds != 1 || !math.IsNaN(row.AccSD) {
			t.Errorf("%s: got seeds %d sd %g, want 1 and NaN (no spread from one seed)", row.Label, row.Seeds, row.AccSD)
		}
		if row.AccMean < 0 || row.AccMean > 1 || row.AgreeMean < 0 || row.AgreeMean > 1 {
			t.Errorf("%s: accuracy %g or agreement %g outside [0,1]", row.Label, row.AccMean, row.AgreeMean)
		}
		if want := (1 - row.AccMean) * float64(d.TestRows); math.Abs(row.ErrorsMean-want) > 0.5 {
			t.Errorf("%s: errors %g, want %g (from accuracy)", row.Label, row.ErrorsMean, want)
		}
		if row.TrainSeconds <= 0 {
			t.Errorf("%s: train time %g, want > 0", row.Label, row.TrainSeconds)
		}
	}
	if got := d.Rows[0].AgreeMean; got != 1 {
		t.Errorf("teacher agreement with itself: got %g, want 1", got)
	}
	if got := d.Rows[0].AccMean; got < 0.93 {
		t.Errorf("teacher accuracy after %d epochs: got %.4f, want ≥ 0.93", spec.Epochs, got)
	}
	if c, a := d.TeacherTrainConfidence, d.TeacherTrainAccuracy; !(c > 0.1 && c <= 1) || !(a >= 0.95 && a <= 1) {
		t.Errorf("teacher on training data: confidence %g, accuracy %g; want in (0.1,1] and [0.95,1]", c, a)
	}
	for _, r := range d.Runs {
		if r.Epochs != spec.Epochs {
			t.Errorf("%s trained %d epochs, want %d (last epoch, no early stopping)", r.Label(), r.Epochs, spec.Epochs)
		}
	}

	// A student trained for a single epoch must be worse than the teacher.
	one := spec
	one.Epochs = 1
	res1, err := RunKD(ctx, KDOptions{Specs: []KDSpec{one}, Seeds: 1, Temperatures: []float64{4}})
	if err != nil {
		t.Fatalf("RunKD 1 epoch: %v", err)
	}
	if s, tch := res1.Datasets[0].Rows[1].AccMean, d.Rows[0].AccMean; s >= tch {
		t.Errorf("1-epoch student accuracy %.4f ≥ teacher %.4f", s, tch)
	}

	for _, tc := range []struct {
		split bool
		cols  int
	}{{false, 6}, {true, 8}} {
		ts := res.Tables(tc.split)
		if len(ts) != 1 {
			t.Fatalf("Tables(%v): got %d tables, want 1", tc.split, len(ts))
		}
		if got := len(ts[0].Columns); got != tc.cols {
			t.Errorf("Tables(%v): got %d columns, want %d", tc.split, got, tc.cols)
		}
		if got := len(ts[0].Rows); got != len(wantLabels) {
			t.Errorf("Tables(%v): got %d rows, want %d", tc.split, got, len(wantLabels))
		}
	}
	var buf bytes.Buffer
	if err := report.RenderAll(&buf, res.Tables(false), report.FormatMarkdown); err != nil {
		t.Fatalf("render markdown: %v", err)
	}
	for _, want := range []string{"### digits: teacher 64-256-256-10, student 64-16-10, 8 epochs, seeds 1", "| student 16, KD T=4", "|        0.9"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), "± 0.0000 ") || strings.Contains(buf.String(), "NaN") {
		t.Errorf("markdown shows a spread for one seed:\n%s", buf.String())
	}
}

func TestRunKDErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		opts KDOptions
		want error
	}{
		{"negative seeds", KDOptions{Seeds: -1}, ErrKDOptions},
		{"zero temperature", KDOptions{Temperatures: []float64{0}}, ErrKDOptions},
		{"alpha above one", KDOptions{Alpha: 1.5}, ErrKDOptions},
		{"temperature above distill's limit", KDOptions{Temperatures: []float64{4, 2000}}, ErrKDOptions},
		{"temperature below distill's limit", KDOptions{Temperatures: []float64{4, 1e-320}}, ErrKDOptions},
		{"temperature listed twice", KDOptions{Temperatures: []float64{4, 1, 4}}, ErrKDOptions},
		{"bad spec, found before training", KDOptions{Specs: []KDSpec{{Dataset: "digits", TeacherHidden: []int{8}, StudentHidden: []int{4}, Epochs: 1},
			{Dataset: "digits", TeacherHidden: []int{8}, StudentHidden: []int{4}, Epochs: -1}}, Seeds: 1}, distill.ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RunKD(ctx, tc.opts); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := RunKD(ctx, KDOptions{Datasets: []string{"no-such-data"}, Seeds: 1}); err == nil {
		t.Error("unknown dataset: got nil error")
	}
	// A bad dataset after a good one fails before any training.
	trained := 0
	_, err := RunKD(ctx, KDOptions{Datasets: []string{"digits", "no-such-data"}, Seeds: 1,
		Progress: func(KDRun, int, int) { trained++ }})
	if !errors.Is(err, dataset.ErrUnknown) || trained != 0 {
		t.Errorf("digits,no-such-data: got %v after %d trained models, want dataset.ErrUnknown before any", err, trained)
	}
}

func TestMeanSD(t *testing.T) {
	for _, tc := range []struct {
		x        []float64
		mean, sd float64
	}{
		{nil, math.NaN(), math.NaN()},
		{[]float64{3}, 3, math.NaN()},
		{[]float64{1, 2, 3}, 2, 1},
		{[]float64{0.9, 0.9}, 0.9, 0},
	} {
		m, s := meanSD(tc.x)
		near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12 || math.IsNaN(a) && math.IsNaN(b) }
		if !near(m, tc.mean) || !near(s, tc.sd) {
			t.Errorf("meanSD(%v): got %g, %g, want %g, %g", tc.x, m, s, tc.mean, tc.sd)
		}
	}
}

func ExampleDefaultKDSpec() {
	fmt.Printf("%+v\n", DefaultKDSpec("fashion-mnist"))
	// Output: {Dataset:fashion-mnist TeacherHidden:[512 512] StudentHidden:[32] Epochs:12 BatchSize:128}
}
