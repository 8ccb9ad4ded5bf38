package audit

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/store"
)

// CheckRecords returns the problems package audit finds in tx's records,
// beyond those store.Store.Verify finds: an enrolment report that does not
// read as an EnrolReport, an audit result that does not read as a Result
// or holds what no audit writes (a verdict other than DERIVED,
// NOT_DERIVED and INCONCLUSIVE, a p-value or α outside [0, 1], a result
// without its teacher). Records stored before lineage sealed them with a
// checksum are read as they are, so one edited by hand could import and
// verify clean and then fail every report. Records that do not decode,
// fail their checksum or hold no JSON object there are store.Verify's to
// report and are skipped here (see store.Tx.EachContent).
func CheckRecords(tx *store.Tx) []store.Problem {
	var out []store.Problem
	tx.EachContent(func(typ, id string, raw json.RawMessage) {
		check := CheckResult
		if typ == store.TypeEnrolment {
			check = CheckReport
		}
		if err := check(raw); err != nil {
			out = append(out, store.Problem{Type: typ, ID: id, Problem: err.Error()})
		}
	})
	return out
}

// CheckReport checks an enrolment's stored report (empty: none, as in
// records of older lineage).
func CheckReport(raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	var rep EnrolReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		return fmt.Errorf("report: %w", err)
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
