package model

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// overflowing returns a valid 4-8-3 relu model whose weights are finite
// but so large (±3e38) that its activations overflow float32 to +Inf and
// its logits to NaN.
func overflowing() *MLP {
	m := NewMLP([]int{4, 8, 3}, ActReLU, []string{"a", "b", "c"}, rand.New(rand.NewPCG(1, 2)))
	m.Name = "big"
	// The hidden units go to +Inf, and the logits sum +Inf and −Inf.
	for i := range m.W(0).Data {
		m.W(0).Data[i] = 3e38
	}
	for i := range m.W(1).Data {
		m.W(1).Data[i] = 3e38 * float32(1-2*(i%2))
	}
	return m
}

// TestPredictNaN checks that Predict refuses an output row that is NaN,
// naming the row and why, instead of returning NaN probabilities: eval
// printed "test NLL NaN" beside an accuracy, serve answered nulls, and
// enrol failed inside a control's training ("querying teacher: row 0 has
// invalid probability NaN").
func TestPredictNaN(t *testing.T) {
	ok := NewMLP([]int{4, 8, 3}, ActReLU, []string{"a", "b", "c"}, rand.New(rand.NewPCG(1, 2)))
	ok.Name = "ok"
	rows := func(v ...float32) blas32.General {
		return blas32.General{Rows: len(v) / 4, Cols: 4, Stride: 4, Data: v}
	}
	tests := []struct {
		name string
		m    *MLP
		x    blas32.General
		want string // "" for no error
	}{
		{"ordinary", ok, rows(1, 2, 3, 4, -1, 0, 1, 0), ""},
		{"huge inputs", ok, rows(3e38, -3e38, 3e38, 3e38), `model "ok": output is NaN for input row 0: its activations overflow float32 (largest |input| 3e+38, largest |weight| 2.18)`},
		{"huge weights", overflowing(), rows(0, 0, 0, 0, 1, 2, 3, 4), `model "big": output is NaN for input row 1: its activations overflow float32 (largest |input| 4, largest |weight| 3e+38)`},
		{"NaN input", ok, rows(1, 2, 3, 4, 1, float32(math.NaN()), 3, 4), `model "ok": output is NaN for input row 1: its feature 1 is NaN`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.m.Predict(context.Background(), tt.x)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				for i, v := range p.Data {
					if math.IsNaN(float64(v)) {
						t.Errorf("output %d is NaN", i)
					}
				}
				return
			}
			if !errors.Is(err, ErrNotFinite) || err.Error() != tt.want {
				t.Errorf("error %v, want %q wrapping ErrNotFinite", err, tt.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "model ") {
				t.Errorf("error %q does not name the model", err)
			}
		})
	}
}

// TestStandardizeNearLimit checks that inputs near float32's limit are
// standardised without overflow when the model's normalisation brings
// them into range: a CSV feature of ±3.4e38 (valid float32 values) has a
// mean of a few 1e36 and a deviation of 3.4e38, and 3.4e38 − (−7e36)
// overflowed float32 to +Inf, so that training stopped at its first step
// ("loss NaN: training diverged").
func TestStandardizeNearLimit(t *testing.T) {
	m := NewMLP([]int{2, 4, 2}, ActReLU, []string{"a", "b"}, rand.New(rand.NewPCG(1, 2)))
	m.Norm = Normalization{Mean: []float32{-7e36, 0.5}, Std: []float32{3.4e38, 2}}
	x := blas32.General{Rows: 3, Cols: 2, Stride: 2, Data: []float32{
		3.4e38, 1,
		-3.4e38, 0,
		1, 3, // ordinary: the float32 expression, bit for bit
	}}
	var tape Tape
	m.Forward(&tape, x)
	f32 := func(v, mean, std float32) float32 { return (v - mean) / std } // float32 arithmetic
	want := []float32{
		float32((3.4e38 + 7e36) / 3.4e38), f32(1, 0.5, 2), // the first overflowed
		f32(-3.4e38, -7e36, 3.4e38), f32(0, 0.5, 2),
		f32(1, -7e36, 3.4e38), f32(3, 0.5, 2),
	}
	for i, w := range want {
		if got := tape.x0[i]; got != w {
			t.Errorf("standardised input %d = %g, want %g", i, got, w)
		}
	}
	p, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range p.Data {
		if math.IsNaN(float64(v)) {
			t.Errorf("output %d is NaN", i)
		}
	}
}
