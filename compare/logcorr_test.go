package compare

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// TestLogCorr checks LogCorr against Pearson's correlation of the floored
// logarithms computed by gonum, and its 0 for a constant side (where the
// correlation is undefined) and for empty rows.
func TestLogCorr(t *testing.T) {
	ref := func(p, q []float32) float64 {
		a, b := make([]float64, len(p)), make([]float64, len(q))
		for j := range p {
			a[j] = math.Log(float64(p[j]) + LogCorrFloor)
			b[j] = math.Log(float64(q[j]) + LogCorrFloor)
		}
		return stat.Correlation(a, b, nil)
	}
	tests := []struct {
		name string
		p, q []float32
		want float64 // NaN: ref(p, q)
	}{
		{"similar", []float32{0.7, 0.2, 0.06, 0.04}, []float32{0.6, 0.3, 0.05, 0.05}, math.NaN()},
		{"different", []float32{0.7, 0.2, 0.06, 0.04}, []float32{0.1, 0.2, 0.3, 0.4}, math.NaN()},
		{"with a zero", []float32{0.5, 0.5, 0, 0}, []float32{0.4, 0.3, 0.2, 0.1}, math.NaN()},
		{"constant p", []float32{0.25, 0.25, 0.25, 0.25}, []float32{0.4, 0.3, 0.2, 0.1}, 0},
		{"constant q", []float32{0.4, 0.3, 0.2, 0.1}, []float32{0.25, 0.25, 0.25, 0.25}, 0},
		{"empty", nil, nil, 0},
	}
	for _, tt := range tests {
		want := tt.want
		if math.IsNaN(want) {
			want = ref(tt.p, tt.q)
		}
		if got := LogCorr(tt.p, tt.q); !(math.Abs(got-want) <= 1e-12) {
			t.Errorf("%s: LogCorr = %v, want %v", tt.name, got, want)
		}
	}
}
