package audit

import (
	"context"
	"math"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"gonum.org/v1/gonum/blas/blas32"
)

func TestSmoothedLabels(t *testing.T) {
	d := dataset.Digits().Subset([]int{0, 1, 2})
	s := newSmoothedLabels(d, 0.1)
	p, err := s.Predict(context.Background(), d.X)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Len() {
		row := p.Data[i*10 : (i+1)*10]
		if got, want := row[d.Y[i]], float32(0.9+0.01); math.Abs(float64(got-want)) > 1e-6 {
			t.Errorf("row %d: p(label) = %v, want %v", i, got, want)
		}
	}
	noise := blas32.General{Rows: 1, Cols: 64, Stride: 64, Data: make([]float32, 64)}
	noise.Data[0] = 123
	if _, err := s.Predict(context.Background(), noise); err == nil {
		t.Error("a row that is not a training row: no error")
	}
}
