package dataset

import (
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// TestInputBounds checks the bounds of made-up inputs: the global range
// for every feature of data on one scale (digits, and data whose features
// are within MixedScaleRatio of each other), each feature's own range on
// data of mixed scales, and zeros for no rows.
func TestInputBounds(t *testing.T) {
	mixed := mustNew(t, blas32.General{Rows: 3, Cols: 3, Stride: 3, Data: []float32{
		0, 0, 1,
		500, 0.5, 1.5,
		1000, 1, 2,
	}}, []int{0, 1, 0}, []string{"a", "b"})
	close := mustNew(t, blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{
		0, 0,
		9, 1,
	}}, []int{0, 1}, []string{"a", "b"})
	empty := mustNew(t, blas32.General{Rows: 0, Cols: 2, Stride: 2}, nil, nil)
	tests := []struct {
		name   string
		d      *Dataset
		lo, hi []float32
	}{
		{"mixed", mixed, []float32{0, 0, 1}, []float32{1000, 1, 2}},
		{"ratio 9", close, []float32{0, 0}, []float32{9, 9}},
		{"no rows", empty, []float32{0, 0}, []float32{0, 0}},
	}
	for _, tt := range tests {
		lo, hi := InputBounds(tt.d)
		if !slices.Equal(lo, tt.lo) || !slices.Equal(hi, tt.hi) {
			t.Errorf("%s: InputBounds %v, %v; want %v, %v", tt.name, lo, hi, tt.lo, tt.hi)
		}
	}
	d := Digits()
	l, h := d.Range()
	lo, hi := InputBounds(d)
	for j := range lo {
		if lo[j] != l || hi[j] != h {
			t.Fatalf("digits feature %d: bounds [%g, %g], want the global [%g, %g]", j, lo[j], hi[j], l, h)
		}
	}
}
