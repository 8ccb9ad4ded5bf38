package registry

import (
	"errors"
	"math"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
)

// Verdict is the latest recorded verdict of one suspect against one
// teacher it was measured against. PValue is the audit's (Holm-adjusted
// across the teachers of that audit); QValue is the Benjamini–Hochberg
// q-value over every verdict of the summary (see Summarize).
type Verdict struct {
	Suspect     string  `json:"suspect"`
	Teacher     string  `json:"teacher"`
	Fingerprint string  `json:"fingerprint,omitempty"` // the suspect's fingerprint measured
	Audit       string  `json:"audit"`                 // the audit record the verdict comes from
	Verdict     string  `json:"verdict"`
	PValue      float64 `json:"p_value"`
	// Alpha is the significance level of the audit the verdict comes
	// from: DERIVED means PValue ≤ Alpha, and audits may use different
	// levels (audit --alpha).
	Alpha float64 `json:"alpha"`
	// TeachersTested is the number of teachers the audit tested the
	// suspect against, over which Holm's correction adjusted PValue (0
	// for none measured).
	TeachersTested int              `json:"teachers_tested"`
	QValue         float64          `json:"q_value"`
	Best           string           `json:"best_statistic,omitempty"`
	EffectSize     float64          `json:"effect_size"`
	Nearest        *audit.Neighbour `json:"nearest_control,omitempty"` // as in audit's JSON
	Reason         string           `json:"reason,omitempty"`
	// Caution is the audit's caution on a DERIVED verdict
	// (audit.TeacherResult.Caution); "" for none.
	Caution string `json:"caution,omitempty"`
	// NotRuledOut, for a NOT_DERIVED verdict, lists the kinds of copy it
	// does not rule out (audit.TeacherResult.NotRuledOut).
	NotRuledOut []string `json:"not_ruled_out,omitempty"`
	// LabelMap is the label map the suspect's labels were read with, as
	// the auditor stated it (audit.TeacherResult.LabelMap); "" when they
	// were read by their names. The verdict holds for that correspondence.
	LabelMap string `json:"label_map,omitempty"`
	// SameAs names the suspect whose verdict against the teacher stands
	// for this one's: its fingerprint holds the same outputs (see
	// markSameModels). "" when it stands for itself.
	SameAs string `json:"same_as,omitempty"`
	// FingerprintMissing is set when Fingerprint is no longer stored
	// (removed with db rm --force): the verdict is its audit record's, and
	// the suspect is in no similarity matrix.
	FingerprintMissing bool `json:"fingerprint_missing,omitempty"`

	created time.Time          // when its audit was recorded
	x       map[string]float64 // the suspect's value of each statistic
	pPair   float64            // the pair's p-value before Holm's correction
	// labelOnly is set when the suspect answered with labels only: its
	// statistics are measured against the null of label-only suspects.
	labelOnly bool
}

// Unlisted is a recorded verdict a summary cannot show, because the
// teacher it was measured against is no longer enrolled on that suite:
// its enrolment was removed (db rm enrolment), or the teacher was enrolled
// anew on another suite. The audit record still holds it.
type Unlisted struct {
	Suspect string  `json:"suspect"`
	Teacher string  `json:"teacher"`
	Audit   string  `json:"audit"` // the audit record it comes from
	Verdict string  `json:"verdict"`
	PValue  float64 `json:"p_value"`
	// Why is "enrolment removed" or "enrolled anew on another suite".
	Why string `json:"why"`
}

// setQValues sets each verdict's QValue: the Benjamini–Hochberg adjusted
// p-value (compare.BH) of its pair's p-value before Holm's correction,
// over the verdicts of vs that stand for themselves (SameAs ""); one that
// stands for another's takes that one's q-value. A result of older
// lineage without that p-value uses the Holm-adjusted one, which is never
// smaller.
func setQValues(vs []Verdict) {
	var p []float64
	idx := make([]int, len(vs)) // each verdict's index in p
	at := map[[2]string]int{}   // (suspect, teacher) → its index in p
	for i, v := range vs {
		if v.SameAs != "" {
			continue
		}
		idx[i] = len(p)
		at[[2]string{v.Suspect, v.Teacher}] = len(p)
		x := v.pPair
		if !(x > 0) {
			x = v.PValue
		}
		p = append(p, x)
	}
	compare.BH(p, p)
	for i, v := range vs {
		j := idx[i]
		if v.SameAs != "" {
			j = at[[2]string{v.SameAs, v.Teacher}]
		}
		vs[i].QValue = p[j]
	}
}

// nullFigure draws the teacher's null on the statistic that decided most of
// its audits (the lineage score, or the replica residual; the score when
// there are none).
func nullFigure(cs *audit.Case, verdicts []Verdict) (report.NullFigure, error) {
	count := map[string]int{}
	for _, v := range verdicts {
		if v.Teacher == cs.Enrolment.Name && v.Best != "" {
			count[v.Best]++
		}
	}
	stat, best := audit.StatScore, count[audit.StatScore]
	for _, k := range audit.StatisticKeys(cs.Suite, false) {
		if count[k] > best {
			stat, best = k, count[k]
		}
	}
	fig := report.NullFigure{Teacher: cs.Enrolment.Name, Statistic: stat, Higher: "closer to the teacher",
		Alpha: commonAlpha(cs.Enrolment.Name, verdicts)}
	byRole, err := cs.RoleValues(stat)
	if err != nil {
		return fig, err
	}
	fig.Null, fig.References, fig.Positives = byRole[store.RoleNegative], byRole[store.RoleReference], byRole[store.RolePositive]
	fig.UnderTrained = byRole[store.HalfUnderTrained]
	labelOnly := false
	for _, v := range verdicts {
		if v.Teacher != cs.Enrolment.Name {
			continue
		}
		x, ok := v.x[stat]
		if !ok {
			x = math.NaN()
		}
		m := report.Marked{Name: v.Suspect, Value: x, Verdict: v.Verdict, LabelOnly: v.labelOnly}
		labelOnly = labelOnly || v.labelOnly
		if v.Best != "" && v.Best != stat {
			m.DecidedBy = v.Best
		}
		fig.Suspects = append(fig.Suspects, m)
	}
	if labelOnly {
		// A label-only suspect's value is read against the null of
		// label-only suspects, on the discriminant fitted for labels.
		by, err := cs.LabelOnlyRoleValues(stat)
		switch {
		case errors.Is(err, audit.ErrUnknownStatistic):
			// Not measured from labels: those suspects have no value.
		case errors.Is(err, audit.ErrTooFewControls):
			// No discriminant for labels could be fitted (independent
			// controls whose labels do not vary, on a small suite): those
			// suspects' audits were INCONCLUSIVE for it and have no value,
			// and the teacher's figure is drawn without their strips.
		case err != nil:
			return fig, err
		default:
			fig.LabelOnly = report.Strips{Null: by[store.RoleNegative], References: by[store.RoleReference],
				Positives: by[store.RolePositive], UnderTrained: by[store.HalfUnderTrained]}
		}
	}
	return fig, nil
}

// commonAlpha returns the α of teacher's verdicts when they all share one,
// else 0 (the figure then names none).
func commonAlpha(teacher string, verdicts []Verdict) float64 {
	return sharedAlpha(verdicts, func(v Verdict) bool { return v.Teacher == teacher })
}

// sharedAlpha returns the α the verdicts of vs that keep selects (every
// one for a nil keep) share; 0 when there are none, when they differ, or
// when one's audit recorded none.
func sharedAlpha(vs []Verdict, keep func(Verdict) bool) float64 {
	a := 0.0
	for _, v := range vs {
		if keep != nil && !keep(v) {
			continue
		}
		if v.Alpha <= 0 || a != 0 && v.Alpha != a {
			return 0
		}
		a = v.Alpha
	}
	return a
}
