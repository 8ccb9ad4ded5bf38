package audit

import (
	"context"
	"fmt"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/store"
)

// labelCalibration returns the p-values audits of the calibration
// controls' labels alone would give them: each positive control against
// the label-only null, each calibration negative leave-one-out against the
// rest of it (references stay in the null, as for any suspect, but are not
// counted), each outside the null when an audit would put it there, and
// each combined with the label watermark's test of its labels.
//
// Why: an enrolment measures its power on the controls' full outputs, and
// an audit of a label-only suspect (an API that answers with labels) has
// far less to go on. A review found soft students of a teacher DERIVED as
// model files (p = 8e-5) and NOT_DERIVED behind an unmarked label API (p =
// 0.14–0.26), cleared by the full-output power (TPR 0.75 at α = 0.01). A
// label-only suspect is cleared only on the power this measures.
func (c *Case) labelCalibration(ctx context.Context) (compare.Calibration, error) {
	c.mu.Lock()
	cal := c.labelCal
	c.mu.Unlock()
	if cal != nil {
		return *cal, nil
	}
	r, err := c.reference(ctx, true)
	if err != nil {
		return compare.Calibration{}, err
	}
	var out compare.Calibration
	for i, ctl := range r.allCtl {
		if ctl.Role == store.RoleReference {
			continue
		}
		fp := labelsOf(c.Controls[r.allIdx[i]])
		d, outside, err := r.controlTest(i, agreementSimilarity(c.Teacher.P, fp.P))
		if err != nil {
			return out, fmt.Errorf("label-only calibration: control %s: %w", ctl.FP, err)
		}
		p := d.P
		if outside {
			p = 1
		}
		mr, err := c.markTest(ctx, fp)
		if err != nil {
			return out, fmt.Errorf("label-only calibration: %w", err)
		}
		if mr != nil {
			p = combineP(p, mr.P)
		}
		if ctl.Role == store.RolePositive {
			out.PosP = append(out.PosP, p)
		} else {
			out.NegP = append(out.NegP, p)
		}
	}
	c.mu.Lock()
	c.labelCal = &out
	c.mu.Unlock()
	return out, nil
}
