package model

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// ErrNotFinite is wrapped by Predict's error when a model's output is NaN:
// activations that overflow float32, from finite weights or inputs so
// large (weights edited or scaled up, inputs near float32's limit that the
// model's normalisation does not scale down), or an input that is not
// finite.
var ErrNotFinite = errors.New("output is NaN")

// NotFiniteError is Predict's error for an output row that is NaN. It
// wraps ErrNotFinite.
type NotFiniteError struct {
	Model string // the model's name
	Row   int    // the row's index in the input given to Predict
	// Cause says why: a feature of the row that is not finite, or
	// activations that overflow float32.
	Cause string
}

// Error names the model, the row and the cause.
func (e *NotFiniteError) Error() string {
	return fmt.Sprintf("model %q: %v for input row %d: %s", e.Model, ErrNotFinite, e.Row, e.Cause)
}

// Unwrap returns ErrNotFinite.
func (e *NotFiniteError) Unwrap() error { return ErrNotFinite }

// BatchRow returns Row, which a caller that split its rows into batches
// turns into its own numbering (see fingerprint.Take).
func (e *NotFiniteError) BatchRow() int { return e.Row }

// checkOutputs returns an error naming the first row of out (rows r0… of
// the input x) that holds a NaN, or nil. Softmax turns ±Inf logits into
// probabilities, so a NaN is the only non-finite output.
func (m *MLP) checkOutputs(x, out blas32.General, r0 int) error {
	for i := 0; i < out.Rows; i++ {
		row := out.Data[i*out.Stride : i*out.Stride+out.Cols]
		j := 0
		for j < len(row) && !math.IsNaN(float64(row[j])) {
			j++
		}
		if j == len(row) {
			continue
		}
		in := x.Data[(r0+i)*x.Stride : (r0+i)*x.Stride+x.Cols]
		for k, v := range in {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return &NotFiniteError{Model: m.Name, Row: r0 + i, Cause: fmt.Sprintf("its feature %d is %v", k, v)}
			}
		}
		return &NotFiniteError{Model: m.Name, Row: r0 + i, Cause: fmt.Sprintf("its activations overflow float32 (largest |input| %.3g, largest |weight| %.3g)",
			largest(in), largest(m.Theta))}
	}
	return nil
}

// largest returns the largest magnitude in v.
func largest(v []float32) float64 {
	var w float64
	for _, x := range v {
		w = max(w, math.Abs(float64(x)))
	}
	return w
}
