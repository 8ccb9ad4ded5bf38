package store

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/model"
)

// checkEnrolmentContent checks what an enrolment holds beyond the records
// it names, for a suite of inputs inputs per probe (0: not known): a
// watermark key of 64 hex digits and a normalisation (when set) of one
// finite mean and one positive standard deviation per input (see badNorm); controls that are not the
// teacher's fingerprint and are listed once; a report that is a JSON
// object. Records stored before their checksum are read as they are, so
// these are what keeps one edited by hand (or damaged before it was
// sealed) from passing import and db verify and then failing every audit.
func checkEnrolmentContent(e *Enrolment, inputs int) error {
	if w := e.Watermark; w != nil {
		if len(w.Key) != 64 {
			return fmt.Errorf("watermark key: want 64 hex digits, got %d characters", len(w.Key))
		}
		if _, err := hex.DecodeString(w.Key); err != nil {
			return fmt.Errorf("watermark key: want 64 hex digits, got other characters")
		}
		for _, v := range []struct {
			name string
			x    []float32
		}{{"means", w.Mean}, {"standard deviations", w.Std}} {
			if inputs > 0 && v.x != nil && len(v.x) != inputs {
				return fmt.Errorf("watermark normalisation has %d %s for a suite of %d inputs", len(v.x), v.name, inputs)
			}
			for i, x := range v.x {
				if why := badNorm(x, v.name == "means"); why != "" {
					return fmt.Errorf("watermark normalisation of input %d: %s %v, %s", i, v.name[:len(v.name)-1], x, why)
				}
			}
		}
	}
	seen := map[string]bool{e.TeacherFP: true}
	for _, c := range e.Controls {
		if c.FP == e.TeacherFP {
			return fmt.Errorf("control %q is the teacher's own fingerprint", c.FP)
		}
		if seen[c.FP] {
			return fmt.Errorf("control %q is listed twice", c.FP)
		}
		seen[c.FP] = true
	}
	if len(e.Report) > 0 && !isObject(e.Report) {
		return fmt.Errorf("report is not a JSON object")
	}
	return nil
}

// badNorm says what is wrong with x as a normalisation's mean (mean) or
// standard deviation, or returns "". A deviation is held to the rule
// model.MLP's Validate holds a teacher's to (model.StdUsable), so a
// watermark's is one some teacher can have: the watermark test skips a
// deviation of 0 and divides by any other, so 0 or 1e-45 in an edited
// record moved its p-value (1e30 does too, and passes: a teacher may have
// it).
func badNorm(x float32, mean bool) string {
	f := float64(x)
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "want a finite number"
	case mean:
		return ""
	case !(f > 0):
		return "want a positive number"
	case !model.StdUsable(x):
		return "too small: dividing by it overflows float32"
	}
	return ""
}

// checkAuditContent checks that an audit record's result, when present,
// is a JSON object (what it holds is package audit's to check).
func checkAuditContent(r *AuditRecord) error {
	if len(r.Result) > 0 && !isObject(r.Result) {
		return fmt.Errorf("result is not a JSON object")
	}
	return nil
}

// isObject reports whether b, valid JSON, is an object.
func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// EachContent calls fn with every enrolment and its report, and with the
// result of every audit record (e nil), that decodes and passes its
// checksum and holds a JSON object there, for their owner (package audit)
// to check; records that do not are left out, as Verify reports them
// already.
func (t *Tx) EachContent(fn func(typ, id string, e *Enrolment, raw json.RawMessage)) {
	for _, b := range [][]byte{bucketEnrol, bucketAudits} {
		t.eachJSON(b, func(k []byte, e *Enrolment, r *AuditRecord) {
			switch {
			case e != nil && checkSeal(e) == nil && (len(e.Report) == 0 || isObject(e.Report)):
				fn(TypeEnrolment, string(k), e, e.Report)
			case r != nil && checkSeal(r) == nil && (len(r.Result) == 0 || isObject(r.Result)):
				fn(TypeAudit, string(k), nil, r.Result)
			}
		})
	}
}
