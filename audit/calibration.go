package audit

// This file holds the enrolment report and how Enroll measures it on the
// calibration half (enroll.go).

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"github.com/lineage-audit/lineage/watermark"
)

// EnrolReport is the enrolment report: the suite's commitment hash and
// composition and the error rates measured on the calibration half.
type EnrolReport struct {
	Name    string     `json:"name"`
	Teacher model.Info `json:"teacher"`
	// Data is the dataset the enrolment was made from; nil in reports of
	// older lineage.
	Data        *DataRef           `json:"data,omitempty"`
	Suite       string             `json:"suite"`
	Probes      int                `json:"probes"`
	Composition map[probe.Kind]int `json:"composition"`
	Candidates  int                `json:"candidates"`
	Positives   int                `json:"positives"`
	Negatives   int                `json:"negatives"`
	Null        int                `json:"null_size"`
	// UnderTrained counts the negative controls, among Negatives, that are
	// under-trained (store.HalfUnderTrained): they join the null only of
	// suspects whose agreement with the teacher is not above theirs (see
	// reference.nullFor).
	UnderTrained int      `json:"under_trained,omitempty"`
	Statistics   []string `json:"statistics"`
	// Discriminant is the rule, fitted on the selection half, that turns a
	// suspect's similarity features into the score audits test.
	Discriminant *Discriminant         `json:"discriminant,omitempty"`
	Calibration  compare.Calibration   `json:"calibration"`
	Families     map[string]FamilyRate `json:"families,omitempty"`
	// Watermark, when the enrolment tests for a label watermark, is that
	// test's own record on the independent controls.
	Watermark *WatermarkRate `json:"watermark,omitempty"`
	// WatermarkProbes is the number of watermark probes the enrolment
	// asked for (Composition holds those found); 0 when it asked for none.
	WatermarkProbes int `json:"watermark_probes_asked,omitempty"`
	// OutsideRule is set when Calibration applied the outside-null rule
	// (see outsideNull) to the controls, as lineage since 5 December 2026
	// does; audits re-apply it to the positives of an older report.
	OutsideRule bool    `json:"outside_rule,omitempty"`
	Seed        uint64  `json:"seed"`
	ElapsedS    float64 `json:"elapsed_s"`
}

// FamilyRate counts calibration controls of one recipe family flagged at
// α = 0.01.
type FamilyRate struct {
	Role    string `json:"role"`
	N       int    `json:"n"`
	Flagged int    `json:"flagged_at_0.01"`
}

// WatermarkRate is the label-watermark test's record on an enrolment's
// independent controls, each tested leave-one-out (the under-trained ones,
// outside the test's null, out of sample): none of them saw the marked
// labels, so Flagged (p ≤ WatermarkWeight·α) is a measured false
// positive count of the test alone.
type WatermarkRate struct {
	Probes    int     `json:"probes"`
	Decoys    int     `json:"decoys"`
	Negatives int     `json:"negatives"`
	Alpha     float64 `json:"alpha"` // the test's share of α = 0.01
	Flagged   int     `json:"flagged"`
	MinP      float64 `json:"min_p"`
	// Whitened lists the kinds of suspects whose leans the test whitens
	// (chooseWeighing): "outputs" (full-output suspects), "labels"
	// (label-only ones); empty when it whitens neither.
	Whitened []string `json:"whitened,omitempty"`
}

// calibrationReport measures TPR and FPR on the calibration half and the
// under-trained controls. It is for a new enrolment, which has no
// references: a full-output reference would join the null it tests the
// controls against (Case.Recheck leaves them out). It stops with ctx's
// error between controls.
func calibrationReport(ctx context.Context, e *Case, recipes []Recipe) (EnrolReport, error) {
	rep := EnrolReport{Suite: e.Suite.Hash, Probes: e.Suite.Len(), Composition: map[probe.Kind]int{}, OutsideRule: true}
	for _, k := range e.Suite.Kinds {
		rep.Composition[k]++
	}
	// Uncached (not e.reference): the report is computed once.
	r, err := e.newReference(ctx, false)
	if err != nil {
		return rep, err
	}
	disc, ds := r.disc, r.ds
	for _, s := range ds {
		rep.Statistics = append(rep.Statistics, s.key)
	}
	var marks []*watermark.Result // every control's watermark test; nil without one
	if mp, err := e.mark(); err != nil {
		return rep, err
	} else if mp != nil {
		rep.Statistics = append(rep.Statistics, StatWatermark)
		if marks, err = markResults(ctx, e); err != nil {
			return rep, err
		}
		rep.Watermark = markRates(e, mp, marks)
	}
	rep.Discriminant = disc
	for _, c := range e.Enrolment.Controls {
		switch c.Role {
		case store.RolePositive:
			rep.Positives++
		case store.RoleNegative:
			rep.Negatives++
			switch c.Half {
			case store.HalfCalibration:
				rep.Null++
			case store.HalfUnderTrained:
				rep.UnderTrained++
			}
		}
	}
	// Each control is tested as audits test a suspect (auditOne): a
	// positive against the null, a negative leave-one-out against the rest
	// of it, which is exactly what an independent suspect faces; the
	// under-trained controls are among both the null and the negatives
	// tested, as nullFor has them for each control's agreement.
	var cal compare.Calibration
	var posRank, negRank []float64
	var posIdx, negIdx []int // the calibration controls' indices in e.Controls
	var fam, roles []string
	for i, c := range r.allCtl {
		if c.Role == store.RoleReference {
			continue // none at enrolment; references are not the enrolment's to measure
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		d, outside, err := r.controlTest(i, agreementSimilarity(e.Teacher.P, e.Controls[r.allIdx[i]].P))
		if err != nil {
			return rep, fmt.Errorf("calibrate: control %s: %w", c.FP, err)
		}
		p, rank := d.P, rankScore(d)
		if outside {
			p, rank = 1, 0 // as audits treat such a suspect
		}
		if c.Role == store.RolePositive {
			cal.PosP, posRank, posIdx = append(cal.PosP, p), append(posRank, rank), append(posIdx, r.allIdx[i])
		} else {
			cal.NegP, negRank, negIdx = append(cal.NegP, p), append(negRank, rank), append(negIdx, r.allIdx[i])
		}
		fam = append(fam, recipes[r.allIdx[i]].Family)
		roles = append(roles, c.Role)
	}
	cal.AUC = compare.AUC(posRank, negRank)
	// With a watermark, audits combine the lineage test's p-value with the
	// watermark test's; so do the rates.
	if marks != nil {
		for i, ci := range posIdx {
			cal.PosP[i] = combineP(cal.PosP[i], marks[ci].P)
		}
		for i, ci := range negIdx {
			cal.NegP[i] = combineP(cal.NegP[i], marks[ci].P)
		}
	}
	cal.Rates = compare.RatesOf(cal.PosP, cal.NegP, DefaultAlphas)
	rep.Calibration = cal
	rep.Families = map[string]FamilyRate{}
	ip, in := 0, 0
	for j, f := range fam {
		fr := rep.Families[f]
		fr.Role = roles[j]
		fr.N++
		var p float64
		if roles[j] == store.RolePositive {
			p = cal.PosP[ip]
			ip++
		} else {
			p = cal.NegP[in]
			in++
		}
		if p <= 0.01 {
			fr.Flagged++
		}
		rep.Families[f] = fr
	}
	return rep, nil
}

// CompositionString lists the suite's probe counts per kind, e.g.
// "200 (adversarial 77, boundary 40, data 20)".
func (r *EnrolReport) CompositionString() string {
	kinds := make([]string, 0, len(r.Composition))
	for k := range r.Composition {
		kinds = append(kinds, string(k))
	}
	slices.Sort(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, r.Composition[probe.Kind(k)])
	}
	return fmt.Sprintf("%d (%s)", r.Probes, strings.Join(parts, ", "))
}

// calibrationRates returns the TPR and FPR the enrolment's calibration
// controls had at alpha: counted from their stored p-values when the report
// has them (any alpha), else read from its Rates when one was measured at
// alpha, else −1 for unknown (also for a role without controls, whose
// rate is NaN).
func calibrationRates(cal compare.Calibration, alpha float64) (tpr, fpr float64) {
	if len(cal.PosP) > 0 || len(cal.NegP) > 0 {
		r := compare.RatesOf(cal.PosP, cal.NegP, []float64{alpha})[0]
		return unknownIfNaN(r.TPR), unknownIfNaN(r.FPR)
	}
	for _, r := range cal.Rates {
		if r.Alpha == alpha {
			return unknownIfNaN(r.TPR), unknownIfNaN(r.FPR)
		}
	}
	return -1, -1
}

func unknownIfNaN(v float64) float64 {
	if math.IsNaN(v) {
		return -1
	}
	return v
}

// gateStored returns the stored calibration p-values pos of c's
// calibration positives (in Enrolment.Controls order, as
// calibrationReport stores them) with those of the controls an audit
// would put outside the null of the calibration negatives set to 1 (not
// detected), for a report written before the outside-null rule; pos
// itself when nothing changes or the counts do not match.
func gateStored(c *Case, pos []float64) []float64 {
	var negAgree, posAgree []float64
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Half != store.HalfCalibration || i >= len(c.Controls) {
			continue
		}
		a := agreementSimilarity(c.Teacher.P, c.Controls[i].P)
		switch ctl.Role {
		case store.RolePositive:
			posAgree = append(posAgree, a)
		case store.RoleNegative:
			negAgree = append(negAgree, a)
		}
	}
	if len(posAgree) != len(pos) {
		return pos
	}
	var out []float64
	for i, a := range posAgree {
		if _, outside := outsideNull(negAgree, a); outside && pos[i] != 1 {
			if out == nil {
				out = slices.Clone(pos)
			}
			out[i] = 1
		}
	}
	if out == nil {
		return pos
	}
	return out
}
