package fingerprint

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lineage-audit/lineage/model"
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrMismatch is wrapped by *MismatchError: the model and the suite do
	// not fit together.
	ErrMismatch = errors.New("model and suite do not match")
	// ErrBadAnswer is wrapped by *AnswerError: the model returned something
	// that is not a probability distribution.
	ErrBadAnswer = errors.New("bad model answer")
	// ErrFormat is wrapped by every Decode error.
	ErrFormat = errors.New("bad fingerprint encoding")
	// ErrHash means a fingerprint's stored hash does not match its content.
	ErrHash = errors.New("hash mismatch")
	// ErrRows means a fingerprint's outputs are not probability
	// distributions (see CheckRow), as no fingerprint Take makes is.
	ErrRows = errors.New("fingerprint outputs are not probability distributions")
)

// MismatchError says that a model does not fit a suite. What is "inputs"
// (Want and Got are feature counts) or "labels" (Want and Got are the label
// lists joined by ",", shortened as joinLabels says). Want is the suite's
// value, Got the model's.
type MismatchError struct {
	What  string
	Model string // model name
	Suite string // suite name, or a short hash when the suite is unnamed
	Want  string
	Got   string
	Diff  string // for labels: where the lists first differ (model.LabelDiff), or ""
	// Mapped is, for labels read through a label map (Options.LabelMap),
	// the model's labels under the map's names; "" without a map.
	Mapped string
	// GotN and WantN are, for labels, how many the model and the suite
	// list.
	GotN, WantN int
}

// Error formats the mismatch, for example
// `model "x" has 784 inputs, suite "acme" has 64`.
func (e *MismatchError) Error() string {
	if e.What == "labels" {
		msg := fmt.Sprintf("model %q has labels [%s], suite %q has [%s]", e.Model, e.Got, e.Suite, e.Want)
		if e.Mapped != "" {
			msg = fmt.Sprintf("model %q has labels [%s], read by the label map as [%s], suite %q has [%s]", e.Model, e.Got, e.Mapped, e.Suite, e.Want)
		}
		if e.Diff != "" {
			msg += " (" + e.Diff + ")"
		}
		return msg
	}
	return fmt.Sprintf("model %q has %s %s, suite %q has %s", e.Model, e.Got, e.What, e.Suite, e.Want)
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// Is reports whether target is model.ErrLabelNames and e says that the
// model lists as many labels as the suite, not the same ones.
func (e *MismatchError) Is(target error) bool {
	return target == model.ErrLabelNames && e.What == "labels" && e.GotN == e.WantN
}

// RecordError says that a fingerprint's content fails a check of Verify,
// CheckRows or VerifyEncoded: ID is the fingerprint's, Err the problem,
// wrapping ErrHash or ErrRows. A caller whose message names the
// fingerprint already (a store naming the record it read) uses Err alone.
type RecordError struct {
	ID  string
	Err error
}

// Error names the fingerprint and the problem.
func (e *RecordError) Error() string { return fmt.Sprintf("fingerprint %q: %v", e.ID, e.Err) }

// Unwrap returns Err.
func (e *RecordError) Unwrap() error { return e.Err }

// AnswerError says that the model's answer for probe Probe is not a valid
// probability distribution; Problem describes how.
type AnswerError struct {
	Model   string
	Probe   int
	Problem string
}

// Error formats the problem naming the model and the probe index.
func (e *AnswerError) Error() string {
	return fmt.Sprintf("model %q, probe %d: %s", e.Model, e.Probe, e.Problem)
}

// Unwrap returns ErrBadAnswer.
func (e *AnswerError) Unwrap() error { return ErrBadAnswer }

// joinLabels joins labels by "," for a MismatchError, shortened as
// model.ShortLabels says (the error is one bounded line however many labels
// a model has, or however long).
func joinLabels(l []string) string { return strings.Join(model.ShortLabels(l), ",") }
