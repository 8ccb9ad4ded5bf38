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

// TestMixedScales checks MedianRange (the median of the varying features'
// ranges, the mean of the middle two for an even count, constant features
// left out) and MixedScales at its threshold: a global range of exactly
// MixedScaleRatio times that median is not mixed, just above it is.
func TestMixedScales(t *testing.T) {
	tests := []struct {
		name   string
		rows   [][]float32
		median float64
		mixed  bool
	}{
		// Ranges 1, 3 (and a constant feature): median 2.
		{"even count", [][]float32{{0, 0, 5}, {1, 3, 5}}, 2, false},
		// Ranges 1, 1, 7: median 1, global range 7 (ratio 7 < 10).
		{"ratio 7", [][]float32{{0, 0, 0}, {1, 1, 7}}, 1, false},
		{"ratio exactly 10", [][]float32{{0, 0, 0}, {1, 1, 10}}, 1, false},
		{"ratio 10.5", [][]float32{{0, 0, 0}, {1, 1, 10.5}}, 1, true},
		{"none varies", [][]float32{{1, 2}, {1, 2}}, 0, false},
	}
	for _, tt := range tests {
		cols := len(tt.rows[0])
		x := blas32.General{Rows: len(tt.rows), Cols: cols, Stride: cols}
		for _, r := range tt.rows {
			x.Data = append(x.Data, r...)
		}
		d := mustNew(t, x, nil, nil)
		if got := MedianRange(d); got != tt.median {
			t.Errorf("%s: MedianRange = %v, want %v", tt.name, got, tt.median)
		}
		if got := MixedScales(d); got != tt.mixed {
			t.Errorf("%s: MixedScales = %v, want %v", tt.name, got, tt.mixed)
		}
	}
}
