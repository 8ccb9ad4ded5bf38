package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// Verdict is the outcome of auditing one suspect against one teacher.
type Verdict string

// The verdicts.
const (
	Derived      Verdict = "DERIVED"      // Holm-adjusted p ≤ α
	NotDerived   Verdict = "NOT_DERIVED"  // p before Holm's correction > Options.Clear (0.05), the suite detects derived models, and the suspect is not nearest a derived control it misses
	Inconclusive Verdict = "INCONCLUSIVE" // the audit cannot decide; Reason says why
)

// MethodWorstFamily marks a lineage-score p-value set by the hardest
// family of independent controls rather than by their pooled mix.
const MethodWorstFamily compare.Method = "worst-family t"

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

// floorTrims are the shares of the suite's probes that the mixing-floor
// check leaves out, one check each (compare.MixFloorTrim with k the share
// of the probes, rounded down): with none left out, one probe served
// without the floor would hide it (an evasion hunt left the mix off 1 % of
// the inputs and the copy was INCONCLUSIVE again); each further share
// makes the floor show unless more of the inputs go unmixed, and each is
// held against the controls' floor with the same share left out, which
// grows faster for the label-smoothed ones.
var floorTrims = [...]float64{0, 0.01, 0.05, 0.1}

// floorTrim returns how many of each class's smallest probabilities the
// i-th mixing-floor check leaves out of rows: floorTrims[i] of them,
// rounded down.
func floorTrim(i, rows int) int { return int(floorTrims[i] * float64(rows)) }

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

// StatEvidence is one statistic of a teacher result: the raw value, its
// similarity score, the null it was compared with and its p-value.
type StatEvidence struct {
	Value      float64 `json:"value"`      // the raw statistic (a fraction or a JS divergence)
	N          int     `json:"n"`          // probes it was measured on
	Similarity float64 `json:"similarity"` // the transformed score compared with the null
	NullMean   float64 `json:"null_mean"`  // mean similarity of the independent models
	NullSD     float64 `json:"null_sd"`    // their standard deviation
	// NullN is how many independent models the p-value was computed
	// against. For the verdict's statistics (lineage score, replica
	// residual) of a suspect whose null includes the under-trained
	// controls it is the null that gave the larger p-value, which may be
	// the trained null without them: then it is below NullSize.
	NullN      int            `json:"null_n"`
	Z          float64        `json:"z"`           // (similarity − null mean) / null sd
	P          float64        `json:"p"`           // p-value of this statistic alone
	PEmpirical float64        `json:"p_empirical"` // rank-based p-value, (1 + #null ≥ x)/(n + 1)
	Method     compare.Method `json:"method"`      // how P was computed
}

// Neighbour is the control (or reference) most similar to the suspect.
type Neighbour struct {
	FP       string  `json:"fp"`
	Role     string  `json:"role"`
	Recipe   string  `json:"recipe,omitempty"`
	Distance float64 `json:"distance"`
	// P is the control's own p-value against the null (set for positive
	// controls: whether this suite detects that kind of copy).
	P *float64 `json:"p,omitempty"`
}

// TeacherResult is the audit of one suspect against one enrolled teacher.
// PValue is the combined p-value after Holm's correction across all the
// teachers audited at once; PCombined is before it. EffectSize is the
// z-score (standard deviations above the null's mean) of the statistic
// Best that set the p-value; it is NaN when no statistic was tested (the
// suspect was not measured on the suite, or the result is INCONCLUSIVE
// before any test: degenerate outputs, no usable null).
type TeacherResult struct {
	Teacher     string                  `json:"teacher"`
	Suite       string                  `json:"suite"`
	Verdict     Verdict                 `json:"verdict"`
	Reason      string                  `json:"reason,omitempty"`
	PValue      float64                 `json:"p_value"`
	PCombined   float64                 `json:"p_combined"`
	Best        string                  `json:"best_statistic,omitempty"`
	EffectSize  float64                 `json:"effect_size"`
	Statistics  map[string]StatEvidence `json:"statistics"`
	PerKind     map[string]float64      `json:"per_kind,omitempty"`
	Temperature float64                 `json:"fitted_temperature,omitempty"`
	LabelOnly   bool                    `json:"label_only,omitempty"`
	// NullSize is the number of independent models in the suspect's
	// null, the under-trained controls included when they joined it
	// (UnderTrained); a statistic's NullN may be smaller (see StatEvidence).
	NullSize int `json:"null_size"`
	// NullFamily, when set, is the family of independent controls whose
	// values set the lineage test's p-value (it exceeded the pooled
	// null's).
	NullFamily string `json:"null_family,omitempty"`
	// LeftOut names the null models left out of this audit because they
	// are the suspect itself: a reference or negative control whose outputs
	// on the suite are identical to the suspect's, or whose labels are a
	// label-only suspect's (a stored one audited by its ID, or the same
	// model under another name). Compared with itself, a suspect would be its own
	// null. Empty when none.
	LeftOut []string `json:"left_out,omitempty"`
	// UnderTrained is the number of the enrolment's under-trained controls
	// in this audit's null (counted in NullSize): the suspect's top-1
	// agreement with the teacher is not above theirs by more than their
	// spread (see reference.nullFor), and its p-value is the larger of the
	// tests with and without them (reference.test); 0 when it agrees more,
	// or the enrolment has none.
	UnderTrained int        `json:"under_trained_in_null,omitempty"`
	Nearest      *Neighbour `json:"nearest_control,omitempty"`
	// Outside, when set, says why the suspect lies outside the population
	// of independent models the lineage test is calibrated on (see
	// outsideNull): the test's statistics are reported, but the p-value is
	// the label watermark's test alone (1 without a watermark), and a
	// suspect it does not make DERIVED is INCONCLUSIVE.
	Outside string `json:"outside_null,omitempty"`
	// Coarse, when set, says that the suspect's outputs were rounded or
	// flattened below the top class (compare.CoarseShare at least
	// CoarseMin), or held above a floor on every class (compare.MixFloorTrim
	// at least FloorMin), and that it was therefore audited on its labels
	// (LabelOnly is then true); "" for full-precision outputs.
	Coarse string `json:"coarse_outputs,omitempty"`
	// LabelsP, for a suspect with full outputs that was a candidate for
	// clearing (p above Options.Clear), is the p-value (before Holm's
	// correction) of the same audit of its labels alone; nil when not
	// computed. Clearing needs it above Options.Clear too: a copy whose
	// probabilities below the top class were scrambled or diluted can
	// still give itself away through its labels, and serving more than
	// labels must not buy a clearance.
	LabelsP *float64 `json:"labels_p,omitempty"`
	// Caution, when set, says why a DERIVED verdict rests on the weakest
	// evidence lineage gives (see labelOnlyCaution); "" for none.
	Caution string `json:"caution,omitempty"`
	// TPR and FPR are the error rates measured on this teacher's
	// calibration controls at the audit's α, counted from their stored
	// p-values (−1 when the enrolment report has neither those nor a rate
	// at α, or the rate has no controls to count; a non-significant
	// suspect is then INCONCLUSIVE). For a label-only suspect they are
	// measured at the audit on the controls' labels alone (see
	// labelCalibration). JSON writes an unknown rate as null.
	TPR float64 `json:"calibration_tpr"`
	FPR float64 `json:"calibration_fpr"`
	// PowerControls is the number of calibration positives TPR was counted
	// on (0 when unknown: an enrolment report of older lineage that kept
	// only the rates).
	PowerControls int `json:"calibration_positives,omitempty"`
	// NotRuledOut, for a NOT_DERIVED suspect, lists the recipe families of
	// the calibration positives that the suite did not flag at the
	// audit's α (on their labels alone for a label-only suspect): kinds
	// of copy that look like independent models to this suite, which the
	// verdict therefore does not rule out (soft-label distillation at
	// T = 1, say). Empty when the suite flagged every one, when the
	// enrolment report keeps no per-control p-values to pair with the
	// controls (a report of older lineage that kept only the rates), or
	// for other verdicts.
	NotRuledOut []string `json:"not_ruled_out,omitempty"`
	// DataP, for a suspect with full outputs that was a candidate for
	// clearing, is the p-value of its replica contrast on the held-out
	// data probes alone (see dataContrastP); nil when not computed (no
	// replicas, too few data probes or null models). Clearing needs it above
	// Options.Clear too: a server that routes the inputs its copy is
	// unsure of to another model still answers those with the copy.
	DataP *float64 `json:"data_probes_p,omitempty"`
	// ProbP, for a suspect with full outputs that was a candidate for
	// clearing, is the p-value of its probability contrast over the whole
	// suite (see probContrastP); nil when not computed (no replicas or too
	// few null models). Clearing needs it above Options.Clear too: a copy
	// blended with a weaker model keeps most of it.
	ProbP *float64 `json:"prob_contrast_p,omitempty"`
	// Variation is the largest total-variation distance between two
	// answers of the suspect to one probe when it was asked again
	// (fingerprint.Fingerprint.Variation; 1 when asking again failed); nil
	// when it was not asked again (a model file, a fingerprint of older
	// lineage or taken with --ask-again -1, and so a stored one reused).
	// Above MaxVariation the suspect is not cleared.
	Variation *float64 `json:"answer_variation,omitempty"`
	// Nearby is the largest total-variation distance between the
	// suspect's answers to a probe and to a point next to it
	// (fingerprint.Fingerprint.Nearby; 1 when asking failed); nil when
	// Variation is. Above MaxNearby a suspect audited on full outputs is
	// not cleared.
	Nearby *float64 `json:"nearby_variation,omitempty"`
	// Remote reports that the suspect's fingerprint was taken from a
	// remote model (fingerprint.Fingerprint.Remote). A remote suspect
	// whose answers were not asked again (Variation nil), or, audited on
	// full outputs, whose points next to probes were not asked (Nearby
	// nil), is not cleared: nothing shows that a server's noise does not
	// hide a copy.
	Remote bool `json:"remote,omitempty"`
}

// MaxVariation is the largest total-variation distance between two answers
// of a suspect to one probe with which it can still be cleared: a model
// that answers an input differently each time may be a copy with fresh
// noise on its outputs, which can hide it (an evasion hunt saw a KD copy
// with Gaussian noise of sd 2 on its logits, at 4 points of accuracy,
// cleared at p = 0.055, and two more at p 0.021 and 0.048). Floating-point
// differences between batches of another size stay far below it.
const MaxVariation = 1e-3

// MaxNearby is the largest total-variation distance between a suspect's
// answers to a probe and to the point next to it (each feature moved by
// probe.NudgeFraction of its range) with which it can still be cleared:
// noise keyed on the exact input answers the same probe the same way twice
// but answers the point next to it anew (an evasion hunt saw KD copies
// with such noise, sd 2 on their logits, at p 0.010–0.013, and nearby
// distances of 0.71–0.92), where the largest distance over all 300 probes
// of a suite was 0.014 for 150 trained digits networks of many kinds and
// 0.0045 for six Fashion-MNIST ones.
// Labels are exempt: a label may flip between two points next to each
// other on a trained network's boundary.
const MaxNearby = 0.05

// Result is the audit of one suspect against several teachers.
type Result struct {
	Suspect string          `json:"suspect"`
	Model   string          `json:"model_hash,omitempty"`
	Alpha   float64         `json:"alpha"`
	Results []TeacherResult `json:"results"`
}

// labelOnlyCaution returns, for a label-only suspect found DERIVED, a
// sentence saying that the verdict rests on the lineage score alone when
// the label watermark gives it no support (p above DefaultClear, or no
// watermark); "" otherwise.
//
// Why: labels carry only where the suspect agrees with the teacher's top
// answer, relative to its replicas. A hunt for false accusations found
// innocent models unlike every control (trained from the teacher's own
// initial weights; trained a little more than the under-trained controls)
// DERIVED through their labels, and a second found RBF-kernel SVMs at
// p ≤ 0.05 through their labels 19 times in 71 against one enrolment
// (README, "What lineage cannot tell"). The watermark's test is exact over keys
// for any model, however unlike the controls; the lineage score's holds
// only for models like them.
func labelOnlyCaution(tr *TeacherResult, alpha float64) string {
	if !tr.LabelOnly {
		return ""
	}
	support := "the teacher has no label watermark"
	if wm, ok := tr.Statistics[StatWatermark]; ok {
		if wm.P <= DefaultClear {
			return ""
		}
		support = fmt.Sprintf("the label watermark gives it no support (p = %.2g)", wm.P)
	}
	rate := ""
	if tr.FPR >= 0 {
		rate = fmt.Sprintf(" (on this teacher's independent controls' labels, %.1f%% were DERIVED at α = %g)", 100*tr.FPR, alpha)
	}
	return fmt.Sprintf("DERIVED from the suspect's labels alone, by the lineage score; %s. This is the weakest evidence lineage gives: innocent models unlike every control, such as ones trained from the teacher's own initial weights or RBF-kernel SVMs, can agree with the teacher this way%s", support, rate)
}

// AnyDerived reports whether some teacher's verdict is DERIVED.
func (r Result) AnyDerived() bool {
	for _, t := range r.Results {
		if t.Verdict == Derived {
			return true
		}
	}
	return false
}

// Measured reports whether the suspect was measured against this teacher:
// it had a fingerprint on the teacher's suite, so the result says something
// about the pair (whatever its verdict). A result without one is
// INCONCLUSIVE only because the suspect was not fingerprinted on this suite
// (or does not fit it), and holds no statistic, not even per probe kind;
// decoded audit records tell the two apart the same way.
func (t TeacherResult) Measured() bool { return len(t.PerKind) > 0 }

// StatisticKeys returns the statistics whose p-values decide an audit's
// verdict (besides the label watermark, StatWatermark): the discriminant
// score, which combines every similarity feature, and for a suspect with
// full outputs the replica residual, tested alone beside it (see
// ResidualWeight). A result holds the residual only when its enrolment has
// replicas of the teacher.
func StatisticKeys(s *probe.Suite, labelOnly bool) []string {
	if labelOnly {
		return []string{StatScore}
	}
	return []string{StatScore, StatResidual}
}

// InformationalKeys returns further statistics an audit reports with their
// own p-values but does not combine: mean JS divergence after fitting the
// suspect's temperature (skipped for label-only suspects) and, when the
// suite has at least MinMistakeProbes teacher-mistake probes, agreement on
// them (the mistake-agreement baseline).
func InformationalKeys(s *probe.Suite, labelOnly bool) []string {
	var keys []string
	if !labelOnly {
		keys = append(keys, string(compare.StatSoftAgreement), string(compare.StatJSTFit))
	}
	n := 0
	for _, k := range s.Kinds {
		if k == probe.Mistake {
			n++
		}
	}
	if n >= MinMistakeProbes {
		keys = append(keys, string(compare.StatMistakeAgreement))
	}
	return keys
}

// ErrSuite is wrapped when a suspect's fingerprint was not taken on the
// case's suite.
var ErrSuite = errors.New("fingerprint taken on another suite")

// auditOne audits suspect against one case (before Holm's correction).
func auditOne(c *Case, suspect *fingerprint.Fingerprint, o Options) (TeacherResult, error) {
	return auditAs(c, suspect, c.replicaOf(suspect), o)
}

// auditAs is auditOne with the suspect's replica key self: the ID of the
// teacher's replica whose outputs are the suspect's, which the replica
// contrast and the features relative to the replicas leave out, or "" for
// none (see replicaOf). A suspect's ID is only a label and leaves nothing
// out by itself.
func auditAs(c *Case, suspect *fingerprint.Fingerprint, self string, o Options) (TeacherResult, error) {
	tr := TeacherResult{Teacher: c.Enrolment.Name, Suite: c.Suite.Hash, PValue: 1, PCombined: 1, EffectSize: math.NaN(), TPR: -1, FPR: -1}
	var rep EnrolReport
	if len(c.Enrolment.Report) > 0 {
		if err := json.Unmarshal(c.Enrolment.Report, &rep); err != nil {
			return tr, fmt.Errorf("enrolment %q: report: %w", c.Enrolment.Name, err)
		}
	}
	if !rep.OutsideRule {
		// Written before the outside-null rule: its positive controls'
		// p-values may count copies audits now put outside the null.
		rep.Calibration.PosP = gateStored(c, rep.Calibration.PosP)
	}
	tr.TPR, tr.FPR = calibrationRates(rep.Calibration, o.Alpha)
	if tr.TPR >= 0 && len(rep.Calibration.PosP) > 0 {
		tr.PowerControls = len(rep.Calibration.PosP)
	}
	if suspect == nil {
		tr.Verdict, tr.Reason = Inconclusive, "suspect not fingerprinted on this teacher's suite"
		return tr, nil
	}
	if suspect.Suite != c.Suite.Hash {
		return tr, fmt.Errorf("suspect %q vs teacher %q: %w", suspect.ID, c.Enrolment.Name, ErrSuite)
	}
	if v, ok := suspect.Variation(); ok {
		tr.Variation = &v
	}
	if v, ok := suspect.Nearby(); ok {
		tr.Nearby = &v
	}
	tr.Remote = suspect.Remote()
	if why := coarseOutputs(c, suspect.P); why != "" {
		tr.Coarse = why
		suspect = labelsOf(suspect)
	}
	st, err := compare.Compute(c.Teacher.P, suspect.P, c.Suite.Kinds)
	if err != nil {
		return tr, fmt.Errorf("suspect %q vs teacher %q: %w", suspect.ID, c.Enrolment.Name, err)
	}
	tr.LabelOnly, tr.Temperature = st.LabelOnly, st.Temperature
	tr.PerKind = map[string]float64{}
	for k, v := range st.Values {
		tr.PerKind[k] = v.Value
	}
	if st.Degenerate != "" {
		tr.Verdict, tr.Reason = Inconclusive, "degenerate suspect outputs: "+st.Degenerate
		return tr, nil
	}
	if c.Suite.Len() < o.MinProbes {
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("suite too small: %d probes, need %d", c.Suite.Len(), o.MinProbes)
		return tr, nil
	}
	ref, err := c.reference(st.LabelOnly)
	if errors.Is(err, ErrTooFewControls) {
		tr.Verdict, tr.Reason = Inconclusive, err.Error()
		return tr, nil
	}
	if err != nil {
		return tr, err
	}
	posP := rep.Calibration.PosP
	if st.LabelOnly && tr.TPR >= 0 {
		// The suite's power on labels alone, not on full outputs (see
		// labelCalibration); an enrolment without a calibration record
		// clears no one, whatever the suspect answers.
		cal, err := c.labelCalibration()
		if err != nil {
			return tr, fmt.Errorf("enrolment %q: %w", c.Enrolment.Name, err)
		}
		tr.TPR, tr.FPR = calibrationRates(cal, o.Alpha)
		tr.PowerControls = 0
		if tr.TPR >= 0 {
			tr.PowerControls = len(cal.PosP)
		}
		posP = cal.PosP
	}
	// Kept only if the verdict is NOT_DERIVED (see settle).
	tr.NotRuledOut = missedFamilies(posP, ref.positiveFamilies(), o.Alpha)
	ref, tr.LeftOut = ref.without(c, suspect)
	agree := agreementSimilarity(c.Teacher.P, suspect.P)
	base := ref // the null before nullFor, for the nearest control's own audit
	ref = base.nullFor(agree, "")
	for _, u := range ref.cond {
		if u {
			tr.UnderTrained++
		}
	}
	disc, info := ref.disc, ref.info
	scored := *suspect
	scored.ID = self
	xf, x, err := c.vector(&scored, disc, info, st.LabelOnly)
	if err != nil {
		return tr, err
	}
	null, allF, allCtl := ref.null, ref.allF, ref.allCtl
	tr.NullSize = len(null)
	if len(allF) > 0 {
		names := make([]string, len(allF))
		for i, ctl := range allCtl {
			names[i] = ctl.FP
		}
		nb := compare.Nearest(allF, names, xf)
		if nb.Index >= 0 {
			ctl := allCtl[nb.Index]
			tr.Nearest = &Neighbour{FP: ctl.FP, Role: ctl.Role, Recipe: ctl.Recipe, Distance: nb.Distance}
		}
	}
	if len(null) < o.MinNull {
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("too few references: %d independent models in the null, need %d (add some with `lineage reference add`)", len(null), o.MinNull)
		return tr, nil
	}
	if nb := tr.Nearest; nb != nil && nb.Role == store.RolePositive {
		for i, ctl := range allCtl {
			if ctl.FP == nb.FP {
				cfp := c.Controls[ref.allIdx[i]]
				if st.LabelOnly {
					cfp = labelsOf(cfp)
				}
				d, outside, err := base.test(ref.allD[i], agreementSimilarity(c.Teacher.P, cfp.P), "")
				if p := d.P; err == nil && !math.IsNaN(p) {
					if outside {
						p = 1 // as an audit of it would have it
					}
					if mr, err := c.markTest(cfp); err == nil && mr != nil {
						p = combineP(p, mr.P)
					}
					nb.P = &p
				}
			}
		}
	}
	// One p-value per statistic (informational), then the verdict's: the
	// lineage test of the discriminant score and, beside it, the replica
	// residual (see decide and ResidualWeight).
	tr.Statistics = map[string]StatEvidence{}
	if len(info) > 0 {
		res, err := compare.Test(null, x, compare.Options{})
		if err != nil && !errors.Is(err, compare.ErrInsufficientNull) {
			return tr, err
		}
		for j, k := range info {
			r, v := res.Stats[j], st.Values[k]
			tr.Statistics[k] = StatEvidence{Value: v.Value, N: v.N, Similarity: r.X, NullMean: r.Mean, NullSD: r.SD,
				NullN: r.N, Z: r.Z, P: r.P, PEmpirical: r.PEmpirical, Method: r.Method}
		}
	}
	// The verdict's test, against the trained null and, when the
	// under-trained controls are in this suspect's null, against it with
	// them too, whichever p-value is larger (see reference.test).
	dec, outside, err := base.testWhy(decisionValues(disc, ref.ds, xf), agree, "")
	if err != nil && !errors.Is(err, compare.ErrInsufficientNull) {
		return tr, err
	}
	for j, s := range ref.ds {
		r := dec.Stats[j]
		ev := StatEvidence{Value: r.X, N: c.Suite.Len(), Similarity: r.X, NullMean: r.Mean, NullSD: r.SD,
			NullN: r.N, Z: r.Z, P: r.P, PEmpirical: r.PEmpirical, Method: r.Method}
		if s.key == featResidual {
			ev.N = len(c.contrast().rows)
		}
		if dec.Worst[j] != "" {
			// The p-value also holds against the hardest single family of
			// independent models, not only against their mix (see
			// worstFamilyP).
			ev.Method = MethodWorstFamily
		}
		tr.Statistics[s.key] = ev
	}
	if dec.Stats[0].Method == compare.MethodInsufficient {
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("no usable null: the score could not be computed for the suspect or for %d independent models", compare.DefaultMinNull)
		return tr, nil
	}
	tr.PCombined, tr.PValue = dec.P, dec.P
	tr.Best = ref.ds[dec.Best].key
	tr.EffectSize = dec.Stats[dec.Best].Z
	tr.NullFamily = dec.Worst[dec.Best]
	mr, err := c.markTest(suspect)
	if err != nil {
		return tr, err
	}
	if mr != nil {
		tr.Statistics[StatWatermark] = markEvidence(mr)
		tr.PCombined = combineP(dec.P, mr.P)
		tr.PValue = tr.PCombined
		if mr.P/WatermarkWeight < dec.P/(1-WatermarkWeight) {
			tr.Best, tr.EffectSize = StatWatermark, mr.Z
		}
	}
	if outside != "" {
		tr.Outside = outside
		tr.PCombined, tr.Best, tr.EffectSize, tr.NullFamily = 1, "", math.NaN(), ""
		if mr != nil {
			tr.PCombined = combineP(1, mr.P)
			tr.Best, tr.EffectSize = StatWatermark, mr.Z
		}
		tr.PValue = tr.PCombined
	}
	if math.IsNaN(tr.PCombined) {
		// Not expected (compare.Test and the watermark test give no NaN
		// p-values), but Holm would read NaN as 1 and clear the suspect.
		tr.PCombined, tr.PValue = 1, 1
		tr.Verdict, tr.Reason = Inconclusive, "no p-value"
	}
	if !tr.LabelOnly && tr.Outside == "" && tr.Verdict == "" && tr.PCombined > o.Clear {
		// A candidate for clearing: its labels alone must not look
		// derived either (see TeacherResult.LabelsP).
		lt, err := auditAs(c, labelsOf(suspect), self, o)
		if err != nil {
			return tr, err
		}
		if lt.Verdict == "" && !math.IsNaN(lt.PCombined) {
			p := lt.PCombined
			tr.LabelsP = &p
		}
		// Nor may its answers on the held-out data probes side with the
		// teacher (see dataContrastP).
		if p, ok, err := c.dataContrastP(base, &scored); err != nil {
			return tr, err
		} else if ok {
			tr.DataP = &p
		}
		if p, ok, err := c.probContrastP(base, &scored, agree); err != nil {
			return tr, err
		} else if ok {
			tr.ProbP = &p
		}
	}
	return tr, nil
}

// Audit audits one suspect against several teachers. suspects[i] is the
// suspect's fingerprint on cases[i]'s suite (nil when it has none). The
// combined p-values are corrected with Holm's step-down method across the
// teachers, so the chance of any false DERIVED verdict in this audit stays
// below α.
func Audit(cases []*Case, suspects []*fingerprint.Fingerprint, name string, opts Options) (Result, error) {
	o := opts.withDefaults()
	out := Result{Suspect: name, Alpha: o.Alpha}
	ps := make([]float64, len(cases))
	for i, c := range cases {
		tr, err := auditOne(c, suspects[i], o)
		if err != nil {
			return out, err
		}
		if out.Model == "" && suspects[i] != nil {
			out.Model = suspects[i].Model.Hash
		}
		out.Results = append(out.Results, tr)
		ps[i] = tr.PCombined
	}
	// Holm's correction runs over the teachers the suspect was actually
	// tested against; a teacher without a fingerprint adds no test.
	var tested []int
	var tp []float64
	for i, s := range suspects {
		if s != nil {
			tested = append(tested, i)
			tp = append(tp, ps[i])
		}
	}
	adj := make([]float64, len(tp))
	compare.Holm(adj, tp)
	for k, i := range tested {
		out.Results[i].PValue = adj[k]
	}
	for i := range out.Results {
		settle(&out.Results[i], o, len(tp))
	}
	return out, nil
}

// coarseOutputs says why a suspect with outputs p must be audited on its
// labels, or returns "" when its full outputs can be read as they are:
// rounded or flattened below the top class (the runner-up order and sizes
// the full-output features read are gone or made up; see CoarseMin), or
// held above a floor on every class, as if mixed with a fixed distribution
// (see FloorMin). No control answers like either; the labels are what such
// a suspect reveals for certain, so the audit compares like with like.
func coarseOutputs(c *Case, p blas32.General) string {
	if compare.LabelOnly(p) {
		return ""
	}
	if share := compare.CoarseShare(p); share >= CoarseMin {
		return fmt.Sprintf("the suspect's outputs are rounded or flattened below the top class (exact zeros or ties on %.0f%% of the probes), so it was audited on its labels", 100*share)
	}
	for i := range floorTrims {
		k := floorTrim(i, p.Rows)
		if f := compare.MixFloorTrim(p, k); f >= FloorMin && f > 2*c.controlFloor(i) {
			where := ""
			if k > 0 {
				where = fmt.Sprintf(" (each class's %d smallest probabilities left out)", k)
			}
			return fmt.Sprintf("the suspect's outputs never go below a floor that adds up to %.3g over the classes%s, as if mixed with a fixed distribution, so it was audited on its labels", f, where)
		}
	}
	return ""
}

// unmeasuredNote returns what a recorded total variation of 1, the most
// two answers can differ, may also mean: that asking failed
// (fingerprint.VariationUnmeasured reads as 1).
func unmeasuredNote(v float64) string {
	if v >= 1 {
		return ", or it could not be asked"
	}
	return ""
}

// settle sets the verdict of tr, tested against tested teachers at once
// (Holm's correction ran over them), from its p-values and calibration:
// DERIVED at p ≤ α; NOT_DERIVED only when nothing below stands in the
// way; INCONCLUSIVE, with the reason, otherwise. A verdict already set
// (INCONCLUSIVE before any test) stays. NotRuledOut is kept for a
// NOT_DERIVED verdict only.
func settle(tr *TeacherResult, o Options, tested int) {
	defer func() {
		if tr.Verdict != NotDerived {
			tr.NotRuledOut = nil // what a clearance does not rule out
		}
	}()
	if tr.Verdict == Inconclusive {
		return
	}
	switch {
	case tr.PValue <= o.Alpha:
		tr.Verdict = Derived
		tr.Caution = labelOnlyCaution(tr, o.Alpha)
	case tr.Outside != "":
		tr.Verdict, tr.Reason = Inconclusive, tr.Outside
	case tr.PValue <= o.Clear:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant at α=%g, but p = %.2g is at most %g: weak evidence of derivation, and none of independence", o.Alpha, tr.PValue, o.Clear)
	case tr.LabelsP != nil && *tr.LabelsP <= o.Clear:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant on its full outputs, but its labels alone give p = %.2g, at most %g: its outputs below the top class may have been altered to hide a copy; weak evidence of derivation, and none of independence", *tr.LabelsP, o.Clear)
	case tr.DataP != nil && *tr.DataP <= o.Clear:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant on the whole suite, but on the held-out data probes alone it sides with the teacher rather than its replicas (p = %.2g, at most %g): a copy may answer only the inputs it is unsure of with another model; weak evidence of derivation, and none of independence", *tr.DataP, o.Clear)
	case tr.ProbP != nil && *tr.ProbP <= o.Clear:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant in the order of its classes, but its probabilities side with the teacher rather than its replicas (p = %.2g, at most %g): a copy blended with another model may keep them; weak evidence of derivation, and none of independence", *tr.ProbP, o.Clear)
	case tr.PCombined <= o.Clear:
		// Holm's correction guards against a false DERIVED among
		// several teachers; a p-value it raised is no evidence of
		// independence, so clearing goes by the p-value before it.
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant at α=%g after the correction across %d teachers, but p = %.2g before it is at most %g: weak evidence of derivation, and none of independence", o.Alpha, tested, tr.PCombined, o.Clear)
	case tr.Variation != nil && *tr.Variation > MaxVariation:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but the suspect answered the same probe differently when asked again (total variation up to %.2g%s): noise on its answers may hide a copy, so it is not cleared", *tr.Variation, unmeasuredNote(*tr.Variation))
	case tr.Nearby != nil && *tr.Nearby > MaxNearby && !tr.LabelOnly:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but the suspect answered points next to probes differently from the probes themselves (total variation up to %.2g%s, where trained networks move by hundredths): noise keyed on its inputs may hide a copy, so it is not cleared", *tr.Nearby, unmeasuredNote(*tr.Nearby))
	case tr.Remote && tr.Variation == nil:
		tr.Verdict, tr.Reason = Inconclusive, "not significant, but the suspect is a remote model that was not asked again for any probe (a fingerprint of older lineage, or taken with --ask-again -1): noise on its answers may hide a copy, so it is not cleared; fingerprint it again with asking again on (lineage probe MODEL --suite SUITE --name NEW, or --replace while no audit record uses the old one)"
	case tr.Remote && tr.Nearby == nil && !tr.LabelOnly:
		tr.Verdict, tr.Reason = Inconclusive, "not significant, but the suspect is a remote model whose answers to points next to probes were not asked (a fingerprint stored before lineage asked them): noise keyed on its inputs may hide a copy, so it is not cleared; fingerprint it again (lineage probe MODEL --suite SUITE --name NEW, or --replace while no audit record uses the old one)"
	case !(tr.TPR >= 0):
		// Without a measured detection rate nothing shows that this
		// suite would have caught a copy: no exoneration.
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but this teacher's enrolment has no calibration record of detecting derived controls at α=%g", o.Alpha)
	case tr.TPR < MinPower && tr.LabelOnly:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but this teacher's suite detected only %.0f%% of derived controls from their labels alone at α=%g", 100*tr.TPR, o.Alpha)
	case tr.TPR < MinPower:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but this teacher's suite detected only %.0f%% of derived controls at α=%g", 100*tr.TPR, o.Alpha)
	case tr.PowerControls > 0 && tr.PowerControls < MinPowerControls:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but this teacher's suite measured its power on only %d derived controls (%d needed to clear a suspect: enrol with --controls %d or more)", tr.PowerControls, MinPowerControls, 2*MinPowerControls-1)
	case tr.Nearest != nil && tr.Nearest.P != nil && *tr.Nearest.P > o.Alpha:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but the suspect is closest to a derived control (%s) that this suite does not detect either (p = %.2g)", tr.Nearest.Family(), *tr.Nearest.P)
	default:
		tr.Verdict = NotDerived
	}
}
