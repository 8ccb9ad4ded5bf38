package audit

// Defaults of Options.
const (
	DefaultAlpha     = 0.01
	DefaultMinNull   = 5  // null models (calibration negatives + references) needed
	DefaultMinProbes = 30 // probes a suite needs
	// MinMistakeProbes is the number of teacher-mistake probes a suite needs
	// before mistake agreement is one of the audit's statistics.
	MinMistakeProbes = 5
	// MinPower is the calibration TPR at α below which a non-significant
	// result is INCONCLUSIVE instead of NOT_DERIVED. The TPR is counted at
	// the audit's own α from the calibration p-values in the enrolment
	// report; when it cannot be (no report), the result is INCONCLUSIVE too.
	MinPower = 0.5
	// MinPowerControls is the number of calibration positives the TPR
	// behind MinPower must be counted on for a suspect to be cleared: with
	// the two of an enrolment with --controls 4 (one of them a
	// temperature-1 student no behavioural test catches), one control's
	// p-value decided whether every non-significant suspect was cleared,
	// and real students were (6 of 30 in a measurement over six such
	// enrolments, none with the default 16 controls).
	MinPowerControls = 4
	// DefaultClear is the p-value a suspect that is not significant must
	// exceed to be cleared (NOT_DERIVED): between α and it the result is
	// weak evidence of derivation and no evidence of independence, so the
	// verdict is INCONCLUSIVE. In five digits zoo runs 19 of the 67 copies
	// missed at α = 0.01 had p in this band (noise-query extraction at
	// 0.016–0.021, say, before the outside-null rule set those aside), and
	// 8 of 800 independent models.
	DefaultClear = 0.05
	// CoarseMin is the share of probes (compare.CoarseShare) on which a
	// suspect's outputs hold exact zeros or ties below the top class at
	// and above which it is audited on its labels. A copy served with its
	// probabilities rounded to 1–4 decimals, or with the top-1
	// probability kept and the rest spread evenly, was cleared
	// (NOT_DERIVED) on its full outputs while its labels alone made it
	// DERIVED (an evasion hunt, README); no control answers like that, so
	// its full-output statistics had no null like it either.
	CoarseMin = 0.1
	// FloorMin is the mixing floor (compare.MixFloorTrim) at and above
	// which a suspect is audited on its labels, like a coarse one, if no
	// control of the enrolment comes within half of it (the teacher's and
	// every control's floor, with the same share of probes left out, below
	// half the suspect's; see floorTrims): its outputs never go below a
	// fixed share on any class, as if mixed with a fixed distribution
	// (p' = 0.7·p + 0.3/K, say), which flattens the runner-up sizes the
	// full-output statistics read while keeping the labels. Copies served
	// like that were INCONCLUSIVE or cleared (evasion hunt, README); the
	// controls of a digits enrolment stay below 0.02 (label-smoothed ones
	// the highest).
	FloorMin = 0.01
)

// Options configures Audit. The zero value means the defaults.
type Options struct {
	Alpha     float64 // family-wise significance level; 0 means DefaultAlpha
	MinNull   int     // 0 means DefaultMinNull
	MinProbes int     // 0 means DefaultMinProbes
	// Clear is the p-value a non-significant suspect must exceed to be
	// cleared; 0 means DefaultClear, and a value below Alpha counts as
	// Alpha (no band).
	Clear float64
}

func (o Options) withDefaults() Options {
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.MinNull == 0 {
		o.MinNull = DefaultMinNull
	}
	if o.MinProbes == 0 {
		o.MinProbes = DefaultMinProbes
	}
	if o.Clear == 0 {
		o.Clear = DefaultClear
	}
	o.Clear = max(o.Clear, o.Alpha)
	return o
}
