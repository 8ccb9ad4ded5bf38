package remote

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/lineage-audit/lineage/model"
)

// MaxNameBytes bounds a model name or label a remote reports, MaxLabels
// the number of its labels and MaxInputSize the length of its input
// vector: a server could otherwise have megabytes stored as a name and
// printed in every table, or make lineage allocate what its metadata
// claims (a 2^40-class output) before anything else is checked.
const (
	MaxNameBytes = 1024
	MaxLabels    = 1 << 16
	MaxInputSize = 1 << 24
)

// MaxOutputs bounds the outputs an Open Inference Protocol model's
// metadata may list, each named in at most MaxNameBytes: the outputs
// lineage could have read are recorded in the fingerprint, whose metadata
// is bounded (16 MiB), and named in errors. A server listing a million
// outputs, or one named by megabytes, made a fingerprint that could not
// be stored after its answers were paid for.
const MaxOutputs = 256

// checkDescription checks the name and labels a remote model reports.
func checkDescription(name string, labels []string) error {
	if len(name) > MaxNameBytes {
		return fmt.Errorf("model name is %d bytes long, at most %d allowed", len(name), MaxNameBytes)
	}
	if len(labels) > MaxLabels {
		return fmt.Errorf("%d labels, at most %d allowed", len(labels), MaxLabels)
	}
	for i, l := range labels {
		if len(l) > MaxNameBytes {
			return fmt.Errorf("label %d is %d bytes long, at most %d allowed", i, len(l), MaxNameBytes)
		}
	}
	return nil
}

// ErrBadAnswer is wrapped by ProbeError.
var ErrBadAnswer = errors.New("invalid answer")

// SumTolerance is how far from 1 a probability row may sum.
const SumTolerance = 1e-3

// ProbeError reports an answer row that is not a probability distribution.
// Index is the row's index in the batch given to Predict.
type ProbeError struct {
	Index   int
	Problem string
}

// Error names the row and its problem.
func (e *ProbeError) Error() string {
	return fmt.Sprintf("answer row %d: %s", e.Index, e.Problem)
}

// BatchRow returns Index: the row's index in the batch given to Predict,
// which a caller that split its probes into batches turns into a probe
// number (see fingerprint.Take).
func (e *ProbeError) BatchRow() int { return e.Index }

// Unwrap returns ErrBadAnswer.
func (e *ProbeError) Unwrap() error { return ErrBadAnswer }

// softmaxRows replaces each row of the rows×k row-major p by its softmax
// (model.Softmax), for a model answering with logits or log-probabilities
// (Options.Logits); offset is added to row indices in errors. A row
// holding NaN, or −Inf everywhere, is left as it is, for checkRows to
// refuse; +Inf is certainty and −Inf an impossible class, as
// model.Softmax reads them. Answers that are probabilities already (every
// row of the batch non-negative and summing to 1) are an error: their
// softmax would flatten them, silently.
func softmaxRows(p []float32, rows, k, offset int) error {
	if rows > 0 && k > 1 {
		probs := true
		for i := range rows {
			if _, err := checkRows(slices.Clone(p[i*k:(i+1)*k]), 1, k, 0, false); err != nil {
				probs = false
				break
			}
		}
		if probs {
			return &ProbeError{offset, fmt.Sprintf("answers are probabilities already, not logits: all %d rows are non-negative and sum to 1", rows)}
		}
	}
	for i := range rows {
		row := p[i*k : (i+1)*k]
		if slices.ContainsFunc(row, func(v float32) bool { return math.IsNaN(float64(v)) }) ||
			!slices.ContainsFunc(row, func(v float32) bool { return !math.IsInf(float64(v), -1) }) {
			continue
		}
		model.Softmax(row, row)
	}
	return nil
}

// checkRows validates the rows×k row-major p in place: every value finite
// and non-negative, every row summing to 1 within SumTolerance. Leniently,
// negative values are clamped to zero and rows renormalised, each repaired
// row counting one warning. offset is added to row indices in errors.
func checkRows(p []float32, rows, k, offset int, lenient bool) (warnings int, err error) {
	for i := range rows {
		row := p[i*k : (i+1)*k]
		sum, repaired := 0.0, false
		for j, v := range row {
			f := float64(v)
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return warnings, &ProbeError{offset + i, fmt.Sprintf("non-finite probability %v for label %d", v, j)}
			}
			if v < 0 {
				if !lenient {
					return warnings, &ProbeError{offset + i, fmt.Sprintf("negative probability %v for label %d (logits or log-probabilities? answer their softmax, or read them with --logits)", v, j)}
				}
				row[j], f, repaired = 0, 0, true
			}
			sum += f
		}
		if math.Abs(sum-1) > SumTolerance {
			if !lenient || sum <= 0 {
				hint := ""
				if sum > 1 {
					// Softmax is the cure for logits only: probabilities
					// rounded or scaled (percentages) are renormalised.
					hint = " (logits? answer their softmax, or read them with --logits; probabilities rounded or scaled? --lenient renormalises them)"
				}
				return warnings, &ProbeError{offset + i, fmt.Sprintf("probabilities sum to %.6g, want 1%s", sum, hint)}
			}
			for j := range row {
				row[j] = float32(float64(row[j]) / sum)
			}
			repaired = true
		}
		if repaired {
			warnings++
		}
	}
	return warnings, nil
}
