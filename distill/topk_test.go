package distill

import (
	"context"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestTopKShaped checks that Result.TopKShaped finds the K of a teacher
// that reveals its top K (model.WithReveal spreads the rest evenly),
// distilled at Reveal full, and is 0 for its full probabilities.
func TestTopKShaped(t *testing.T) {
	sp, teacher := digits(t)
	for _, tt := range []struct {
		name    string
		teacher model.Model
		want    int
	}{
		{"probabilities", teacher, 0},
		{"top 2 served", model.WithReveal(teacher, model.Reveal{Mode: model.RevealTopK, K: 2}), 2},
		{"top 5 served", model.WithReveal(teacher, model.Reveal{Mode: model.RevealTopK, K: 5}), 5},
		{"labels served", model.WithReveal(teacher, model.Reveal{Mode: model.RevealLabel}), 1},
	} {
		cfg := smallConfig(sp, tt.teacher)
		cfg.Epochs = 1
		res, err := Train(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.TopKShaped != tt.want {
			t.Errorf("%s: TopKShaped %d, want %d", tt.name, res.TopKShaped, tt.want)
		}
	}
	for _, tt := range []struct {
		data []float32 // rows of 4
		want int
	}{
		{[]float32{0.7, 0.1, 0.1, 0.1, 0.5, 0.3, 0.1, 0.1}, 2},
		{[]float32{0.7, 0.1, 0.1, 0.1, 0.4, 0.3, 0.2, 0.1}, 0}, // the second row has no tail
		{[]float32{0.25, 0.25, 0.25, 0.25}, 0},
		{nil, 0},
	} {
		g := blas32.General{Rows: len(tt.data) / 4, Cols: 4, Stride: 4, Data: tt.data}
		if got := topKShape(g); got != tt.want {
			t.Errorf("topKShape(%v) = %d, want %d", tt.data, got, tt.want)
		}
	}
}
