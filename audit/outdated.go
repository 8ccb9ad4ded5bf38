package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/store"
)

// ErrOutdated is wrapped by CheckCurrent's error: the enrolment was made
// by older lineage without something audits now need, and enrolling the
// teacher again is the remedy.
var ErrOutdated = errors.New("enrolment made by older lineage")

// CheckCurrent returns an error wrapping ErrOutdated when e, an enrolment
// lineage's enroll made (one with a report), has no under-trained
// controls (store.HalfUnderTrained), as every enrolment made before 5
// December 2026 has none: without them an independent model trained for a
// few epochs faces a null it is unlike and can be called DERIVED (see
// UnderTrainedControls). Measured on a 32-32-32 tanh teacher enrolled by
// lineage of 4 December, a 64-unit network trained for one epoch on the
// labels alone was DERIVED at p = 0.0048; the same teacher enrolled again
// (the same suite) gave INCONCLUSIVE, p = 0.087. A verdict against such an
// enrolment would repeat that old error, so the commands that give one
// (audit, reference add) refuse it, naming the remedy.
//
// An enrolment without a report is not checked (it was not made by
// enroll), nor is one whose report does not decode: where the report is
// read, that is an error of its own.
func CheckCurrent(e *store.Enrolment) error {
	if len(e.Report) == 0 {
		return nil
	}
	var rep EnrolReport
	if json.Unmarshal(e.Report, &rep) != nil {
		return nil
	}
	if rep.UnderTrained > 0 || slices.ContainsFunc(e.Controls, func(c store.Control) bool { return c.Half == store.HalfUnderTrained }) {
		return nil
	}
	return fmt.Errorf("teacher %q: %w (before 5 December 2026): it has no under-trained controls, "+
		"without which independent models trained for a few epochs can be called DERIVED; enrol it again: "+
		"`%s`, then `lineage enroll` with the same teacher, data, --seed, --controls and --suite-size "+
		"(its audits and suspects' fingerprints are kept; a suspect on a suite the new enrolment does not use must be probed again)",
		e.Name, ErrOutdated, shellword.Command("lineage db rm enrolment", e.Name, "--purge"))
}
