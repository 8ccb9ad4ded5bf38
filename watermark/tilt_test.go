package watermark

import (
	"math"
	"testing"

	"github.com/lineage-audit/lineage/model"
)

// TestTiltNormalises checks that Tilt standardises its input with the
// mark's normalisation, (x−mean)/std, before the projection: a mark with a
// normalisation tilts x as one without tilts the standardised x.
func TestTiltNormalises(t *testing.T) {
	norm := model.Normalization{Mean: []float32{0.5, -1, 2}, Std: []float32{2, 0.5, 4}}
	k := Key{7}
	with, without := New(k, 3, 4, norm), New(k, 3, 4, model.Normalization{})
	x := []float32{1.5, 0.25, -3}
	xs := make([]float32, len(x))
	for j, v := range x {
		xs[j] = (v - norm.Mean[j]) / norm.Std[j]
	}
	got, want := make([]float64, 4), make([]float64, 4)
	with.Tilt(got, x)
	without.Tilt(want, xs)
	for c := range got {
		if math.Abs(got[c]-want[c]) > 1e-6 {
			t.Errorf("tilt with normalisation %v, want the tilt of the standardised input %v", got, want)
			break
		}
	}
}

// TestTiltScale checks the projection's scale: each class's weights are
// N(0, 1/Inputs), so their squared norm averages 1 whatever the input
// size, and ε keeps one meaning across models.
func TestTiltScale(t *testing.T) {
	for _, inputs := range []int{64, 784} {
		const classes = 10
		mk := New(Key{3}, inputs, classes, model.Normalization{})
		var sq float64
		g := make([]float64, classes)
		x := make([]float32, inputs)
		for j := range inputs {
			x[j] = 1
			mk.Tilt(g, x)
			x[j] = 0
			for _, v := range g {
				sq += v * v
			}
		}
		if mean := sq / classes; math.Abs(mean-1) > 0.15 {
			t.Errorf("%d inputs: mean squared norm of a class's weights %.3f, want 1 ± 0.15", inputs, mean)
		}
	}
}

// TestMarkedArgmax checks the marked label: the argmax of log p + ε·g
// (a tilt in log space, not in probability), ties to the lowest class.
func TestMarkedArgmax(t *testing.T) {
	tests := []struct {
		name string
		p    []float32
		g    []float64
		want int
	}{
		// log 0.6 = −0.51 beats log 0.4 + 0.3 = −0.62, though 0.4+0.3 > 0.6.
		{"log space", []float32{0.6, 0.4}, []float64{0, 0.3}, 0},
		{"tilt wins", []float32{0.6, 0.4}, []float64{0, 0.5}, 1},
		{"tie", []float32{0.5, 0.5}, []float64{0.1, 0.1}, 0},
		{"three-way tie", []float32{0.2, 0.4, 0.4}, []float64{0, 0, 0}, 1},
	}
	for _, tt := range tests {
		if got := markedArgmax(tt.p, tt.g, 1); got != tt.want {
			t.Errorf("%s: markedArgmax(%v, %v) = %d, want %d", tt.name, tt.p, tt.g, got, tt.want)
		}
	}
}
