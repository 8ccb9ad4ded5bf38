package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/store"
)

// CheckRecords returns the problems package audit finds in tx's records,
// beyond those store.Store.Verify finds: an enrolment whose report does
// not read as an EnrolReport or disagrees with it (CheckEnrolment), an
// audit result that does not read as a Result or holds what no audit
// writes (a verdict other than DERIVED, NOT_DERIVED and INCONCLUSIVE, a
// p-value or α outside [0, 1], a result without its teacher). Records
// stored before lineage sealed them with a checksum are read as they are,
// and the checksum, a plain SHA-256, is recomputed as easily as the record
// is edited, so one edited by hand could import and verify clean and then
// fail every report or move a verdict. Records that do not decode,
// fail their checksum or hold no JSON object there are store.Verify's to
// report and are skipped here (see store.Tx.EachContent).
func CheckRecords(tx *store.Tx) []store.Problem {
	var out []store.Problem
	tx.EachContent(func(typ, id string, e *store.Enrolment, raw json.RawMessage) {
		var err error
		if e != nil {
			err = CheckEnrolment(e)
		} else {
			err = CheckResult(raw)
		}
		if err != nil {
			out = append(out, store.Problem{Type: typ, ID: id, Problem: err.Error()})
		}
	})
	return out
}

// CheckReport checks an enrolment's stored report (empty: none, as in
// records of older lineage): that it reads as an EnrolReport and that
// what audits take from it is in range (see checkCalibration).
func CheckReport(raw json.RawMessage) error {
	_, err := readReport(raw)
	return err
}

// readReport decodes and checks an enrolment's stored report; nil for
// none.
func readReport(raw json.RawMessage) (*EnrolReport, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var rep EnrolReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := checkCalibration(&rep.Calibration); err != nil {
		return nil, fmt.Errorf("report: calibration %w", err)
	}
	return &rep, nil
}

// checkCalibration checks the calibration record audits read their TPR,
// FPR and the number of derived controls that measured them from (see
// calibrationRates and settle): p-values and rates in [0, 1] or unknown
// (null, read as NaN), rates at an α in (0, 1). Audits do not recompute
// them from the controls' fingerprints, so an edited record's TPR of 2,
// or p-values of -1, cleared suspects its enrolment could not clear.
func checkCalibration(c *compare.Calibration) error {
	for _, v := range []struct {
		name string
		ps   []float64
	}{{"pos_p", c.PosP}, {"neg_p", c.NegP}} {
		for i, p := range v.ps {
			if !inUnit(p) {
				return fmt.Errorf("%s[%d] is %v, want a p-value in [0, 1]", v.name, i, p)
			}
		}
	}
	for i, r := range c.Rates {
		if !(r.Alpha > 0 && r.Alpha < 1) {
			return fmt.Errorf("rates[%d]: alpha %v, want it in (0, 1)", i, r.Alpha)
		}
		for _, v := range []struct {
			name string
			x    float64
		}{{"tpr", r.TPR}, {"fpr", r.FPR}, {"fpr_upper95", r.FPRUpper}} {
			if !inUnit(v.x) {
				return fmt.Errorf("rates[%d]: %s %v, want a rate in [0, 1]", i, v.name, v.x)
			}
		}
	}
	if !inUnit(c.AUC) {
		return fmt.Errorf("auc %v, want it in [0, 1]", c.AUC)
	}
	return nil
}

// inUnit reports whether x is in [0, 1] or NaN (unknown).
func inUnit(x float64) bool { return math.IsNaN(x) || x >= 0 && x <= 1 }

// CheckEnrolment checks an enrolment's report (CheckReport) and that its
// counts agree with the enrolment's controls, as enroll writes them: as
// many positive, negative and under-trained negative controls as the
// controls list (references, added later, aside); no more calibration
// p-values than the calibration half holds controls of each role (the
// under-trained among the negatives); and, when the report counts them,
// as many calibration controls of each recipe family as it counts. A
// control turned from positive into negative moved a derived suspect's
// p-value from 0.024 to 1, and padded p-values made an enrolment of too
// few derived controls clear suspects.
func CheckEnrolment(e *store.Enrolment) error {
	rep, err := readReport(e.Report)
	if err != nil || rep == nil {
		return err
	}
	var pos, neg, under, calPos, calNeg int
	fams := map[string]int{} // of the calibration controls, as calibrationReport counts them
	for _, c := range e.Controls {
		if c.Role != store.RoleReference && (c.Half == store.HalfCalibration || c.Half == store.HalfUnderTrained) {
			fams[familyOf(c)]++
		}
		switch c.Role {
		case store.RolePositive:
			pos++
			if c.Half == store.HalfCalibration {
				calPos++
			}
		case store.RoleNegative:
			neg++
			switch c.Half {
			case store.HalfCalibration:
				calNeg++
			case store.HalfUnderTrained:
				calNeg++
				under++
			}
		}
	}
	switch {
	case rep.Positives != pos || rep.Negatives != neg || rep.UnderTrained != under:
		return fmt.Errorf("report: counts %d positive and %d negative controls (%d under-trained), but the enrolment lists %d and %d (%d)",
			rep.Positives, rep.Negatives, rep.UnderTrained, pos, neg, under)
	case len(rep.Calibration.PosP) > calPos:
		return fmt.Errorf("report: calibration pos_p holds %d p-values, but the enrolment's calibration half has %d positive controls", len(rep.Calibration.PosP), calPos)
	case len(rep.Calibration.NegP) > calNeg:
		return fmt.Errorf("report: calibration neg_p holds %d p-values, but the enrolment's calibration half has %d negative controls", len(rep.Calibration.NegP), calNeg)
	}
	if len(rep.Families) == 0 {
		return nil // a report of none
	}
	// A recipe's first word is the family the worst-family null and the
	// nearest control go by: one family for every negative moved an
	// extracted suspect's p-value from 0.36 to 0.020.
	for _, f := range slices.Sorted(maps.Keys(fams)) {
		if n := rep.Families[f].N; n != fams[f] {
			return fmt.Errorf("report: families count %d calibration controls of family %q, but the enrolment lists %d", n, f, fams[f])
		}
	}
	for _, f := range slices.Sorted(maps.Keys(rep.Families)) {
		if _, ok := fams[f]; !ok {
			return fmt.Errorf("report: families count %d calibration controls of family %q, but the enrolment lists 0", rep.Families[f].N, f)
		}
	}
	return nil
}

// CheckResult checks an audit record's stored result, which every reader
// of audit records needs (an empty one failed every report).
func CheckResult(raw json.RawMessage) error {
	if len(raw) == 0 {
		return errors.New("result: missing")
	}
	var res Result
	if err := json.Unmarshal(raw, &res); err != nil {
		return fmt.Errorf("result: %w", err)
	}
	if !(res.Alpha > 0 && res.Alpha < 1) {
		return fmt.Errorf("result: α %v, want it in (0, 1)", res.Alpha)
	}
	for i, tr := range res.Results {
		switch {
		case tr.Teacher == "":
			return fmt.Errorf("result %d names no teacher", i)
		case tr.Verdict != Derived && tr.Verdict != NotDerived && tr.Verdict != Inconclusive:
			return fmt.Errorf("result for %s: verdict %q, want DERIVED, NOT_DERIVED or INCONCLUSIVE", tr.Teacher, tr.Verdict)
		case tr.PValue < 0 || tr.PValue > 1 || tr.PCombined < 0 || tr.PCombined > 1:
			return fmt.Errorf("result for %s: p-value %v (combined %v), want them in [0, 1]", tr.Teacher, tr.PValue, tr.PCombined)
		}
	}
	return nil
}
