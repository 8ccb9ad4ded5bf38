package audit

import "github.com/lineage-audit/lineage/compare"

// Verdict is the outcome of auditing one suspect against one teacher.
type Verdict string

// The verdicts.
const (
	Derived      Verdict = "DERIVED"      // Holm-adjusted p ≤ α
	NotDerived   Verdict = "NOT_DERIVED"  // p before Holm's correction > Options.Clear (0.05), the suite detects derived models, and the suspect is not nearest a derived control it misses
	Inconclusive Verdict = "INCONCLUSIVE" // the audit cannot decide; Reason says why
)

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
	Teacher    string                  `json:"teacher"`
	Suite      string                  `json:"suite"`
	Verdict    Verdict                 `json:"verdict"`
	Reason     string                  `json:"reason,omitempty"`
	PValue     float64                 `json:"p_value"`
	PCombined  float64                 `json:"p_combined"`
	Best       string                  `json:"best_statistic,omitempty"`
	EffectSize float64                 `json:"effect_size"`
	Statistics map[string]StatEvidence `json:"statistics"`
	PerKind    map[string]float64      `json:"per_kind,omitempty"`
	// KindProbes is the number of probes of each kind PerKind's values
	// were measured on, "all" for the whole suite (nil in results of
	// older lineage): a kind of three probes moves in steps of a third.
	KindProbes  map[string]int `json:"probes_per_kind,omitempty"`
	Temperature float64        `json:"fitted_temperature,omitempty"`
	LabelOnly   bool           `json:"label_only,omitempty"`
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
	// the label watermark's test alone, at its share of the combination
	// (min(1, p/WatermarkWeight); 1 without a watermark), and a
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
	// Caution, when set, says why a DERIVED verdict rests on weak
	// evidence: a label-only suspect's lineage score alone
	// (labelOnlyCaution), or a suite of low measured power
	// (lowPowerCaution); "" for none.
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
	// Defaulted lists the metadata keys ("activation", "labels",
	// "normalization") that the suspect's model file lacked, so that
	// lineage read it with its defaults
	// (fingerprint.Fingerprint.DefaultedMetadata); nil for none. Such a
	// suspect is not cleared: a model trained on scaled inputs, or with
	// another activation or class order, answers wrongly when read with
	// the defaults, and a copy then looks independent (the README's
	// "Models from PyTorch").
	Defaulted []string `json:"defaulted_metadata,omitempty"`
	// LabelMap is the label map the suspect's labels were read with, as
	// the auditor stated it (fingerprint.Fingerprint.LabelMap,
	// "zero=0,one=1,..." in the suspect's own order); "" when they were
	// read by their names. The verdict holds for that correspondence: a
	// wrong one makes a copy look unlike its teacher.
	LabelMap string `json:"label_map,omitempty"`
}

// Result is the audit of one suspect against several teachers.
type Result struct {
	Suspect string  `json:"suspect"`
	Model   string  `json:"model_hash,omitempty"`
	Alpha   float64 `json:"alpha"`
	// ClearAbove is the p-value a non-significant suspect had to exceed
	// to be cleared (Options.Clear after its defaults, never below Alpha);
	// 0 in audits stored before 7 December 2026, which used 0.05.
	ClearAbove float64         `json:"clear_above,omitempty"`
	Results    []TeacherResult `json:"results"`
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
