package probe

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrInvalid is wrapped by every error Validate returns.
	ErrInvalid = errors.New("invalid probe suite")
	// ErrShape is wrapped by errors about matrices of the wrong shape.
	ErrShape = errors.New("shape mismatch")
	// ErrUnlabelled is returned by generators that need class labels
	// (MistakeProbes) when the dataset has none.
	ErrUnlabelled = errors.New("dataset is unlabelled")
	// ErrLabels is wrapped when a dataset's class names cannot be matched
	// to the teacher's output labels.
	ErrLabels = errors.New("labels do not match")
	// ErrNoControls is returned by Select and Scores without at least one
	// positive and one negative control.
	ErrNoControls = errors.New("selection needs positive and negative controls")
)

// HashError reports a suite whose stored Hash differs from the
// CanonicalHash of its contents. It wraps ErrInvalid.
type HashError struct {
	Stored, Computed string
}

// Error names the stored and the computed hash (their first 12 characters).
func (e *HashError) Error() string {
	return fmt.Sprintf("probe suite hash %.12s does not match its contents (%.12s)", e.Stored, e.Computed)
}

// Unwrap returns ErrInvalid.
func (e *HashError) Unwrap() error { return ErrInvalid }

// Validate checks that s is a well-formed suite: at least one probe and one
// feature, a consistent matrix, non-empty labels, one known Kind per row,
// finite values, generator counts summing to the rows, and a Hash equal to
// CanonicalHash of the contents (a *HashError otherwise). Every error
// wraps ErrInvalid.
func Validate(s *Suite) error {
	if s == nil {
		return fmt.Errorf("nil suite: %w", ErrInvalid)
	}
	x := s.X
	if x.Rows <= 0 || x.Cols <= 0 {
		return fmt.Errorf("suite has %d×%d probes, want at least one probe and one feature: %w", x.Rows, x.Cols, ErrInvalid)
	}
	if x.Stride < x.Cols || len(x.Data) < (x.Rows-1)*x.Stride+x.Cols {
		return fmt.Errorf("suite matrix %d×%d with stride %d has %d values: %w", x.Rows, x.Cols, x.Stride, len(x.Data), ErrInvalid)
	}
	if len(s.Labels) == 0 {
		return fmt.Errorf("suite has no labels: %w", ErrInvalid)
	}
	if len(s.Kinds) != x.Rows {
		return fmt.Errorf("suite has %d kinds for %d probes: %w", len(s.Kinds), x.Rows, ErrInvalid)
	}
	for i, k := range s.Kinds {
		if !k.Known() {
			return fmt.Errorf("probe %d has unknown kind %q: %w", i, k, ErrInvalid)
		}
	}
	for i := 0; i < x.Rows; i++ {
		for j, v := range s.Row(i) {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("probe %d, feature %d is %v: %w", i, j, v, ErrInvalid)
			}
		}
	}
	total := 0
	for _, g := range s.Generators {
		// Each count is checked against the rows still unclaimed, so the
		// sum cannot overflow and wrap round to the number of rows.
		if g.Count < 0 || g.Count > x.Rows-total {
			return fmt.Errorf("generator %q has count %d, more than the %d probes left of %d: %w", g.Kind, g.Count, max(x.Rows-total, 0), x.Rows, ErrInvalid)
		}
		total += g.Count
	}
	if len(s.Generators) > 0 && total != x.Rows {
		return fmt.Errorf("generators count %d probes, suite has %d: %w", total, x.Rows, ErrInvalid)
	}
	if h := CanonicalHash(s.X, s.Kinds, s.Labels); h != s.Hash {
		return &HashError{Stored: s.Hash, Computed: h}
	}
	return nil
}
