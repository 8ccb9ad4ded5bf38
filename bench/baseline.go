package bench

import (
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
)

// BaselineMethod describes how the mistake-agreement baseline is computed.
const BaselineMethod = "mistake agreement alone (QuRD/AKH): top-1 agreement with the teacher on the suite's " +
	"teacher-mistake probes, logit similarity, Student-t predictive p-value against the same null " +
	"(the enrolment's calibration negatives), flagged when p <= alpha"

// baseline is the mistake-agreement-only test: the QuRD/AKH baseline
// ("does the suspect repeat the teacher's mistakes?") calibrated exactly
// like the audit, with compare.Test over the single statistic against the
// enrolment's calibration negatives.
type baseline struct {
	c       *audit.Case
	key     string
	null    [][]float64
	probes  int
	problem string // why the baseline is unavailable; "" when usable
}

// newBaseline prepares the baseline for an enrolment: the calibration
// negatives' mistake-agreement similarities. It is unavailable (problem
// set) when the suite has fewer than audit.MinMistakeProbes mistake
// probes.
func newBaseline(c *audit.Case) *baseline {
	b := &baseline{c: c, key: string(compare.StatMistakeAgreement)}
	for _, k := range c.Suite.Kinds {
		if k == probe.Mistake {
			b.probes++
		}
	}
	if b.probes < audit.MinMistakeProbes {
		b.problem = fmt.Sprintf("the suite has %d teacher-mistake probes, fewer than %d", b.probes, audit.MinMistakeProbes)
		return b
	}
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Half != store.HalfCalibration || ctl.Role == store.RolePositive {
			continue
		}
		v, err := b.vector(c.Controls[i])
		if err != nil {
			b.problem = fmt.Sprintf("control %s: %v", ctl.FP, err)
			return b
		}
		b.null = append(b.null, v)
	}
	return b
}

func (b *baseline) ok() bool { return b.problem == "" }

func (b *baseline) vector(fp *fingerprint.Fingerprint) ([]float64, error) {
	st, err := compare.Compute(b.c.Teacher.P, fp.P, b.c.Suite.Kinds)
	if err != nil {
		return nil, err
	}
	return st.Vector([]string{b.key})
}

// pValue is the baseline p-value of a suspect's fingerprint on the suite
// (1 when the null is unusable, as in an audit).
func (b *baseline) pValue(fp *fingerprint.Fingerprint) (float64, error) {
	x, err := b.vector(fp)
	if err != nil {
		return 1, err
	}
	r, err := compare.Test(b.null, x, compare.Options{})
	if errors.Is(err, compare.ErrInsufficientNull) {
		return 1, nil // an unusable null is "no evidence", as in an audit
	}
	if err != nil {
		return 1, err
	}
	return r.P, nil
}
