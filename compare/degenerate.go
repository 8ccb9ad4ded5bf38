package compare

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// OneHotTolerance is how far from 0 or 1 an entry of a row may be for
// LabelOnly to still count the row as one-hot.
const OneHotTolerance = 1e-6

// ErrDegenerate is wrapped by every *DegenerateError.
var ErrDegenerate = errors.New("degenerate outputs")

// DegenerateError reports a probability matrix that cannot carry evidence
// about lineage: outputs that are invalid or that do not depend on the input.
// Row is the first offending row, or -1 when the problem is global.
type DegenerateError struct {
	Reason string // "invalid probability", "no probes", "all rows identical", "constant prediction"
	Row    int
}

// Error implements error.
func (e *DegenerateError) Error() string {
	if e.Row >= 0 {
		return fmt.Sprintf("degenerate outputs: %s at row %d", e.Reason, e.Row)
	}
	return "degenerate outputs: " + e.Reason
}

// Unwrap returns ErrDegenerate.
func (e *DegenerateError) Unwrap() error { return ErrDegenerate }

// Degenerate reasons reported by CheckDegenerate.
const (
	ReasonInvalid   = "invalid probability" // NaN, ±Inf, negative, or a row summing to zero
	ReasonEmpty     = "no probes"
	ReasonIdentical = "all rows identical"  // within OneHotTolerance, two or more rows
	ReasonConstant  = "constant prediction" // the same top-1 label on every row, two or more rows
)

// CheckDegenerate returns nil when p looks like the outputs of a working
// classifier, and otherwise a *DegenerateError (wrapping ErrDegenerate)
// naming the first problem found, checked in this order: a row with an
// invalid entry (NaN, ±Inf, negative) or summing to zero; no rows; all rows
// identical within OneHotTolerance; the same top-1 label on every row.
// The last two are only checked for two or more rows.
func CheckDegenerate(p blas32.General) error {
	for i := 0; i < p.Rows; i++ {
		if _, ok := rowSum(row(p, i)); !ok {
			return &DegenerateError{Reason: ReasonInvalid, Row: i}
		}
	}
	if p.Rows == 0 || p.Cols == 0 {
		return &DegenerateError{Reason: ReasonEmpty, Row: -1}
	}
	if p.Rows < 2 {
		return nil
	}
	first := row(p, 0)
	identical := true
	for i := 1; i < p.Rows && identical; i++ {
		for j, v := range row(p, i) {
			if math.Abs(float64(v)-float64(first[j])) > OneHotTolerance {
				identical = false
				break
			}
		}
	}
	if identical {
		return &DegenerateError{Reason: ReasonIdentical, Row: -1}
	}
	t0 := Top1(first)
	for i := 1; i < p.Rows; i++ {
		if Top1(row(p, i)) != t0 {
			return nil
		}
	}
	return &DegenerateError{Reason: ReasonConstant, Row: -1}
}

// LabelOnly reports whether every row of p is one-hot within
// OneHotTolerance (one entry ≥ 1−tol, all others ≤ tol): the suspect
// reveals labels only, so distribution statistics (JS, temperature) carry no
// more information than top-1 agreement. An empty matrix is not label-only.
func LabelOnly(p blas32.General) bool {
	if p.Rows == 0 || p.Cols == 0 {
		return false
	}
	for i := 0; i < p.Rows; i++ {
		hot := 0
		for _, v := range row(p, i) {
			switch {
			case float64(v) >= 1-OneHotTolerance && float64(v) <= 1+OneHotTolerance:
				hot++
			case math.Abs(float64(v)) <= OneHotTolerance:
			default:
				return false
			}
		}
		if hot != 1 {
			return false
		}
	}
	return true
}

// row returns row i of g as a slice of length g.Cols.
func row(g blas32.General, i int) []float32 {
	return g.Data[i*g.Stride : i*g.Stride+g.Cols]
}
