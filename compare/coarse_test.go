package compare

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestCoarseShare(t *testing.T) {
	soft := []float32{0.7, 0.2, 0.06, 0.03, 0.01}
	rounded := []float32{0.7, 0.2, 0.1, 0, 0}          // rounded to one decimal
	flat := []float32{0.7, 0.075, 0.075, 0.075, 0.075} // top-1 kept, the rest spread evenly
	zero := []float32{0.7, 0.2, 0.06, 0.04, 0}         // one exact zero
	topTie := []float32{0.4, 0.4, 0.1, 0.07, 0.03}     // a tie at the top is no tie below it
	hot := []float32{0, 1, 0, 0, 0}
	mat := func(rows ...[]float32) blas32.General {
		m := blas32.General{Rows: len(rows), Cols: len(rows[0]), Stride: len(rows[0])}
		for _, r := range rows {
			m.Data = append(m.Data, r...)
		}
		return m
	}
	for _, tt := range []struct {
		name string
		p    blas32.General
		want float64
	}{
		{"soft", mat(soft, soft), 0},
		{"tie at the top", mat(topTie), 0},
		{"rounded", mat(rounded, soft), 0.5},
		{"flattened", mat(flat, flat, soft, soft), 0.5},
		{"one exact zero", mat(zero), 1},
		{"one-hot", mat(hot, hot), 1},
		{"empty", blas32.General{}, 0},
	} {
		if got := CoarseShare(tt.p); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: CoarseShare = %g, want %g", tt.name, got, tt.want)
		}
	}
}
