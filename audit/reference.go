package audit

import (
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/fingerprint"
)

// ReferenceAlpha is the level at which CheckReference refuses a model
// offered as a reference: five times the audits' default α, because one
// derived model among the references can clear every copy that resembles
// it (the references form a null family of their own, against which each
// p-value must hold).
const ReferenceAlpha = 0.05

// ErrDerivedReference is wrapped by CheckReference's error when the model
// offered as a reference is itself significantly close to the teacher.
var ErrDerivedReference = errors.New("a reference must be independent of the teacher")

// ErrOutsideReference is wrapped by CheckReference's error when the model
// offered as a reference lies outside the null (see TeacherResult.Outside).
var ErrOutsideReference = errors.New("a reference must be like the independent models of the null")

// CheckReference audits fp, a model offered as a reference for c's
// teacher, against c as it stands, and returns that audit. The error
// wraps ErrDerivedReference when its p-value is at most ReferenceAlpha:
// the teacher itself served otherwise (at another temperature, or as
// labels), a student of it, or any model the audit would call derived at
// that level. It wraps ErrOutsideReference when the audit puts the model
// outside the null (an untrained or near-useless model, whose lineage score
// is no measure of independence: in the null it would stand for models
// audits do not test, and lift the null's upper tail). Another
// INCONCLUSIVE audit (too small a null, degenerate outputs) is no error:
// it says nothing against the model.
func CheckReference(c *Case, fp *fingerprint.Fingerprint) (TeacherResult, error) {
	res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, fp.ID, Options{Alpha: ReferenceAlpha})
	if err != nil {
		return TeacherResult{}, err
	}
	tr := res.Results[0]
	if tr.Verdict == Derived {
		return tr, fmt.Errorf("%s looks derived from teacher %s (its audit: p = %.3g ≤ %g, by %s): %w",
			fp.ID, c.Enrolment.Name, tr.PValue, ReferenceAlpha, tr.Best, ErrDerivedReference)
	}
	if tr.Outside != "" {
		return tr, fmt.Errorf("%s follows teacher %s's top answer far less often than any independent model of its null, so its audit says nothing of its independence, and in the null it would stand for models audits do not test: %w", fp.ID, c.Enrolment.Name, ErrOutsideReference)
	}
	return tr, nil
}
