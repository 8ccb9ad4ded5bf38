package eval

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

func mat(rows ...[]float32) blas32.General {
	c := len(rows[0])
	g := blas32.General{Rows: len(rows), Cols: c, Stride: c}
	for _, r := range rows {
		g.Data = append(g.Data, r...)
	}
	return g
}

// p: four rows, argmax 0, 1, 1, 2 with confidences 0.7, 0.5, 0.9, 0.4.
var (
	pTest = mat(
		[]float32{0.7, 0.2, 0.1},
		[]float32{0.3, 0.5, 0.2},
		[]float32{0.05, 0.9, 0.05},
		[]float32{0.3, 0.3, 0.4},
	)
	yTest = []int{0, 0, 1, 1}
)

func TestMetrics(t *testing.T) {
	// Hand-computed: correct rows 0 and 2.
	// NLL = −(ln .7 + ln .3 + ln .9 + ln .3)/4.
	// ECE bins (width 1/15): .7 → bin 10, .5 → bin 7, .9 → bin 13, .4 → bin 6;
	// each bin has one row: (|1−.7| + |0−.5| + |1−.9| + |0−.4|)/4 = 1.3/4.
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"Accuracy", Accuracy(pTest, yTest), 0.5},
		{"NLL", NLL(pTest, yTest), -(math.Log(0.7) + math.Log(0.3) + math.Log(0.9) + math.Log(0.3)) / 4},
		{"ECE", ECE(pTest, yTest), 1.3 / 4},
		{"Agreement", Agreement(pTest, mat(
			[]float32{1, 0, 0}, []float32{1, 0, 0}, []float32{0, 1, 0}, []float32{0, 0, 1})), 0.75},
		{"NLL floor", NLL(mat([]float32{1, 0}), []int{1}), -math.Log(NLLFloor)},
		{"ECE shared bin", ECE(mat([]float32{0.8, 0.2}, []float32{0.2, 0.8}), []int{0, 0}), math.Abs(1-1.6) / 2},
		// Confidences .47 and .52 share bin 7 ([7/15, 8/15)), one right and
		// one wrong: |1 − .99|/2; in bins of width 1/14 they would not.
		{"ECE bin width 1/15", ECE(mat([]float32{0.47, 0.3, 0.23}, []float32{0.52, 0.48, 0}), []int{0, 1}), math.Abs(1-(0.47+0.52)) / 2},
		{"Accuracy tie lowest", Accuracy(mat([]float32{0.5, 0.5}), []int{0}), 1},
	}
	for _, tt := range tests {
		if math.Abs(tt.got-tt.want) > 1e-6 {
			t.Errorf("%s = %.7g, want %.7g", tt.name, tt.got, tt.want)
		}
	}
}

// fixed is a model returning the same rows for every input batch.
type fixed struct {
	p      blas32.General
	labels []string
}

func (f fixed) Info() model.Info {
	return model.Info{Name: "fixed", InputSize: 1, Labels: f.labels, Params: 7}
}

func (f fixed) Predict(_ context.Context, x blas32.General) (blas32.General, error) {
	out := blas32.General{Rows: x.Rows, Cols: f.p.Cols, Stride: f.p.Cols}
	out.Data = append([]float32(nil), f.p.Data[:x.Rows*f.p.Cols]...)
	return out, nil
}

func TestEvaluate(t *testing.T) {
	labels := []string{"a", "b", "c"}
	d, err := dataset.New("t", blas32.General{Rows: 4, Cols: 1, Stride: 1, Data: []float32{1, 2, 3, 4}}, yTest, labels)
	if err != nil {
		t.Fatal(err)
	}
	teacher := fixed{mat([]float32{1, 0, 0}, []float32{1, 0, 0}, []float32{0, 1, 0}, []float32{0, 1, 0}), labels}
	m, err := Evaluate(context.Background(), fixed{pTest, labels}, d, teacher)
	if err != nil {
		t.Fatal(err)
	}
	if m.TestAccuracy != 0.5 || m.Params != 7 || m.Rows != 4 || m.LabelsOnly {
		t.Errorf("metrics = %+v, want accuracy 0.5, params 7, rows 4, probabilities", m)
	}
	// A model that answers with labels alone (the teacher's answers here)
	// is marked so: its NLL and ECE say nothing of its calibration.
	if ml, err := Evaluate(context.Background(), teacher, d, nil); err != nil || !ml.LabelsOnly {
		t.Errorf("labels only: %+v, %v; want LabelsOnly", ml, err)
	}
	if m.Agreement == nil || *m.Agreement != 0.5 {
		t.Errorf("agreement = %v, want 0.5", m.Agreement)
	}
	if m.TeacherTestAccuracy == nil || *m.TeacherTestAccuracy != 1 {
		t.Errorf("teacher accuracy = %v, want 1", m.TeacherTestAccuracy)
	}
	if !(m.Throughput > 0) {
		t.Errorf("throughput = %v, want > 0", m.Throughput)
	}
	m2, err := Evaluate(context.Background(), fixed{pTest, labels}, d, nil)
	if err != nil || m2.Agreement != nil || m2.TeacherTestAccuracy != nil {
		t.Errorf("without reference: %+v, %v; want nil agreement", m2, err)
	}
	if _, err := Evaluate(context.Background(), fixed{pTest, []string{"x", "y", "z"}}, d, nil); err == nil {
		t.Error("Evaluate with mismatched labels: no error")
	}
	// A *LabelsError saying which model, matching model.ErrLabelNames for
	// as many labels as the dataset's (commands then suggest --label-map).
	for _, tt := range []struct {
		name         string
		m, against   model.Model
		names, isAgt bool
	}{
		{"renamed", fixed{pTest, []string{"x", "y", "z"}}, nil, true, false},
		{"fewer", fixed{pTest, []string{"a", "b"}}, nil, false, false},
		{"against renamed", fixed{pTest, labels}, fixed{pTest, []string{"x", "y", "z"}}, true, true},
	} {
		_, err := Evaluate(context.Background(), tt.m, d, tt.against)
		var le *LabelsError
		if !errors.As(err, &le) || le.Against != tt.isAgt || errors.Is(err, model.ErrLabelNames) != tt.names {
			t.Errorf("%s: error %v (%#v); want a *LabelsError with Against %v, matching model.ErrLabelNames %v", tt.name, err, le, tt.isAgt, tt.names)
		}
	}
	// The same models listing the labels in another order, their columns
	// rearranged to match, give the same metrics (they were refused).
	perm := func(f fixed) fixed { // labels c, a, b
		g := fixed{blas32.General{Rows: f.p.Rows, Cols: 3, Stride: 3, Data: make([]float32, f.p.Rows*3)}, []string{"c", "a", "b"}}
		for i := 0; i < f.p.Rows; i++ {
			r := f.p.Data[i*f.p.Stride:]
			copy(g.p.Data[i*3:], []float32{r[2], r[0], r[1]})
		}
		return g
	}
	m3, err := Evaluate(context.Background(), perm(fixed{pTest, labels}), d, perm(teacher))
	if err != nil || m3.TestAccuracy != m.TestAccuracy || m3.NLL != m.NLL || m3.ECE != m.ECE || *m3.Agreement != *m.Agreement || *m3.TeacherTestAccuracy != *m.TeacherTestAccuracy {
		t.Errorf("labels in another order: %+v, %v; want the metrics %+v", m3, err, m)
	}
}

func TestEvaluateErrors(t *testing.T) {
	labels := []string{"a", "b", "c"}
	empty, err := dataset.New("none", blas32.General{Cols: 1, Stride: 1}, []int{}, labels)
	if err != nil {
		t.Fatal(err)
	}
	unlabelled, err := dataset.New("raw", blas32.General{Rows: 1, Cols: 1, Stride: 1, Data: []float32{1}}, nil, labels)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		d    *dataset.Dataset
		want string
		is   error
	}{
		{"empty", empty, `evaluate: dataset "none" has no rows: no data rows`, dataset.ErrEmpty},
		{"unlabelled", unlabelled, "evaluate: dataset has no labels", nil},
	}
	for _, tt := range tests {
		_, err := Evaluate(context.Background(), fixed{pTest, labels}, tt.d, nil)
		if err == nil || err.Error() != tt.want || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}
