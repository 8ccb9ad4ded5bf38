package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/store"
)

// ResidualWeight is the share of the lineage test's α given to the replica
// residual (see residualValue) tested on its own, beside the discriminant
// score, when a suspect has one (full outputs, an enrolment with replicas).
// The lineage test's p-value is then the weighted Bonferroni combination
//
//	p = min(1, p_score/(1−w), p_residual/w),
//
// valid however the two statistics depend on each other: a false DERIVED
// needs p_score ≤ (1−w)α or p_residual ≤ wα, which together have chance at
// most α. Why a second test: the discriminant is one direction in feature
// space, fitted to the positive controls' mean, and some copies (top-2
// extraction, distillation through mixup queries) lie far from the null
// along the residual but not along that direction. Replayed offline on
// five zoo runs (docs/design.md), w = 0.2 flagged more of them at no cost
// in false flags.
const ResidualWeight = 0.2

// decisionStat is one statistic the lineage test decides on: the
// discriminant score (feat −1) or one of its features tested alone.
type decisionStat struct {
	key    string
	weight float64
	feat   int // index in the discriminant's features; −1 for the score
}

// decisionStats returns the statistics the lineage test of a suspect
// scored by d decides on and their shares of α: the score, and the
// replica residual when d has it.
func decisionStats(d *Discriminant) []decisionStat {
	for j, k := range d.Features {
		if k == featResidual {
			return []decisionStat{{StatScore, 1 - ResidualWeight, -1}, {featResidual, ResidualWeight, j}}
		}
	}
	return []decisionStat{{StatScore, 1, -1}}
}

// decisionValues returns the decision statistics of the feature vector f
// scored by d, in ds order.
func decisionValues(d *Discriminant, ds []decisionStat, f []float64) []float64 {
	x := make([]float64, len(ds))
	for i, s := range ds {
		if s.feat < 0 {
			x[i] = d.Score(f)
		} else {
			x[i] = f[s.feat]
		}
	}
	return x
}

// decision is the lineage test's outcome for one suspect.
type decision struct {
	P     float64              // the weighted Bonferroni combination
	Stats []compare.StatResult // per statistic; P is raised to the worst family's where larger
	Worst []string             // the null family that set each statistic's P ("" for the pooled null)
	Best  int                  // the statistic with the smallest weighted P
}

// decide tests the decision values x (in ds order) against the null
// models' (null, one row each, with recipe families fam): each statistic's
// p-value is the robust predictive one against the pooled null
// (compare.Test) or, when larger, the hardest family's (worstFamilyP); the
// combination is min(1, min_j p_j/w_j). It returns compare.Test's error,
// wrapping compare.ErrInsufficientNull (with P = 1) when no statistic has a
// usable null.
func decide(ds []decisionStat, null [][]float64, fam []string, x []float64) (decision, error) {
	d := decision{P: 1, Worst: make([]string, len(ds))}
	res, err := compare.Test(null, x, compare.Options{})
	if err != nil && !errors.Is(err, compare.ErrInsufficientNull) {
		return d, err
	}
	d.Stats = res.Stats
	col := make([]float64, len(null))
	best := math.Inf(1)
	for j, s := range ds {
		st := &d.Stats[j]
		if st.Method != compare.MethodInsufficient {
			for i, v := range null {
				col[i] = v[j]
			}
			if pf, worst, ok := worstFamilyP(col, fam, x[j]); ok && pf > st.P {
				st.P, d.Worst[j] = pf, worst
			}
		}
		if w := st.P / s.weight; w < best {
			best, d.Best = w, j
		}
	}
	d.P = math.Min(1, best)
	return d, err
}

// rankScore is −log10 of the smallest of d's per-statistic p-values: the
// score by which calibration's AUC ranks models, as compare.Calibrate
// ranks by −log10(Result.MinP).
func rankScore(d decision) float64 {
	p := 1.0
	for _, s := range d.Stats {
		p = math.Min(p, s.P)
	}
	return -math.Log10(math.Max(p, 1e-300))
}

// ControlScores returns the lineage scores of the calibration half's
// negative controls and references (the null an audit compares with) and
// of its positive controls, for figures and reports.
func (c *Case) ControlScores() (null, pos []float64, err error) {
	return c.ControlValues(StatScore)
}

// ControlValues is ControlScores for any statistic of StatisticKeys: the
// values audits test of the calibration half's null models (negative
// controls and references) and positive controls. It returns an error
// wrapping ErrUnknownStatistic when the case's audits do not test key (the
// residual needs replicas).
func (c *Case) ControlValues(key string) (null, pos []float64, err error) {
	byRole, err := c.RoleValues(key)
	if err != nil {
		return nil, nil, err
	}
	null = append(byRole[store.RoleNegative], byRole[store.RoleReference]...)
	return null, byRole[store.RolePositive], nil
}

// RoleValues is ControlValues split by role: the values of statistic key
// for the calibration half's models that audits of full outputs compare
// with, keyed by store.RolePositive, store.RoleNegative and
// store.RoleReference, and the under-trained controls', which join the
// null only of suspects like them, keyed by store.HalfUnderTrained (a
// role with no such model has no key; label-only references, which join
// only the label-only null, are not among them).
func (c *Case) RoleValues(key string) (map[string][]float64, error) {
	return c.roleValues(key, false)
}

// LabelOnlyRoleValues is RoleValues for the null of label-only suspects:
// each control's value of statistic key as an audit of a suspect that
// answers with labels measures it (from the control's top labels, on the
// discriminant fitted for labels), the models keyed as RoleValues keys
// them, label-only references included. A label-only suspect's value is
// read against these, not against RoleValues'.
func (c *Case) LabelOnlyRoleValues(key string) (map[string][]float64, error) {
	return c.roleValues(key, true)
}

func (c *Case) roleValues(key string, labelOnly bool) (map[string][]float64, error) {
	ref, err := c.reference(context.Background(), labelOnly)
	if err != nil {
		return nil, err
	}
	j := slices.IndexFunc(ref.ds, func(s decisionStat) bool { return s.key == key })
	if j < 0 {
		return nil, fmt.Errorf("enrolment %q: %w: %q", c.Enrolment.Name, ErrUnknownStatistic, key)
	}
	out := map[string][]float64{}
	for i, ctl := range ref.allCtl {
		role := ctl.Role
		if ctl.Half == store.HalfUnderTrained {
			role = store.HalfUnderTrained // in the null of suspects like them only (nullFor)
		}
		out[role] = append(out[role], ref.allD[i][j])
	}
	return out, nil
}

// ErrUnknownStatistic is wrapped when a statistic is not one an
// enrolment's audits test.
var ErrUnknownStatistic = errors.New("statistic not tested by this enrolment")
