package model

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestSoftmaxKernels(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		name   string
		logits []float32
		want   []float64 // probabilities
	}{
		{"simple", []float32{1, 2, 3}, refSoftmax([]float64{1, 2, 3})},
		{"single", []float32{-7}, []float64{1}},
		{"equal", []float32{5, 5, 5, 5}, []float64{0.25, 0.25, 0.25, 0.25}},
		{"huge", []float32{1e30, 1e30 - 1e24, -1e30}, []float64{1, 0, 0}},
		{"max float", []float32{math.MaxFloat32, -math.MaxFloat32, 0}, []float64{1, 0, 0}},
		{"huge shift", []float32{1e20 + 1e13, 1e20, 1e20}, refSoftmax([]float64{1e20 + 1e13, 1e20, 1e20})},
		{"offset", []float32{1000, 1001, 1002}, refSoftmax([]float64{0, 1, 2})},
		{"plus inf", []float32{inf, 3, inf}, []float64{0.5, 0, 0.5}},
		{"all minus inf", []float32{-inf, -inf}, []float64{0.5, 0.5}},
		{"minus inf", []float32{-inf, 0, 0}, []float64{0, 0.5, 0.5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := make([]float32, len(tc.logits))
			lp := make([]float32, len(tc.logits))
			Softmax(p, tc.logits)
			LogSoftmax(lp, tc.logits)
			sum := 0.0
			for i, w := range tc.want {
				if v := float64(p[i]); math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v-w) > 1e-6 {
					t.Errorf("Softmax(%v)[%d] = %v, want %v", tc.logits, i, v, w)
				}
				if v := float64(lp[i]); math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("LogSoftmax(%v)[%d] = %v, want finite", tc.logits, i, v)
				} else if w > 1e-30 && math.Abs(math.Exp(v)-w) > 1e-6 {
					t.Errorf("exp(LogSoftmax(%v)[%d]) = %v, want %v", tc.logits, i, math.Exp(v), w)
				}
				sum += float64(p[i])
			}
			if math.Abs(sum-1) > 1e-6 {
				t.Errorf("Softmax(%v) sums to %v, want 1", tc.logits, sum)
			}
		})
	}
}

func TestSoftmaxT(t *testing.T) {
	logits := []float32{0.5, -1, 2, 3}
	tests := []struct {
		T    float64
		want []float64
	}{
		{1, refSoftmax([]float64{0.5, -1, 2, 3})},
		{2, refSoftmax([]float64{0.25, -0.5, 1, 1.5})},
		{0.5, refSoftmax([]float64{1, -2, 4, 6})},
	}
	for _, tc := range tests {
		got := make([]float32, 4)
		SoftmaxT(got, logits, tc.T)
		for i, w := range tc.want {
			if math.Abs(float64(got[i])-w) > 1e-6 {
				t.Errorf("SoftmaxT(T=%v)[%d] = %v, want %v", tc.T, i, got[i], w)
			}
		}
	}
}

func TestSoftmaxRowsAlias(t *testing.T) {
	x := blas32.General{Rows: 2, Cols: 3, Stride: 4, Data: []float32{1, 2, 3, 99, 0, 0, 1e30, 99}}
	SoftmaxRows(x, x)
	want := [][]float64{refSoftmax([]float64{1, 2, 3}), {0, 0, 1}}
	for i, row := range want {
		for j, w := range row {
			if got := float64(x.Data[i*4+j]); math.Abs(got-w) > 1e-6 {
				t.Errorf("row %d col %d = %v, want %v", i, j, got, w)
			}
		}
		if x.Data[i*4+3] != 99 {
			t.Errorf("row %d: padding overwritten", i)
		}
	}
}

func BenchmarkSoftmax(b *testing.B) {
	x := randMatrix(testRNG(1), 1, 10, 3).Data
	dst := make([]float32, 10)
	b.ReportAllocs()
	for b.Loop() {
		Softmax(dst, x)
	}
}
