package audit

// This file holds the JSON forms of audit results. JSON has no NaN or
// ±Inf, and results hold them legitimately (an unmeasured statistic, no
// effect size): they are written as null and read back as NaN, never as 0.

import (
	"encoding/json"
	"math"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/internal/jsonnum"
)

type statEvidenceJSON struct {
	Value      jsonnum.Float  `json:"value"`
	N          int            `json:"n"`
	Similarity jsonnum.Float  `json:"similarity"`
	NullMean   jsonnum.Float  `json:"null_mean"`
	NullSD     jsonnum.Float  `json:"null_sd"`
	NullN      int            `json:"null_n"`
	Z          jsonnum.Float  `json:"z"`
	P          jsonnum.Float  `json:"p"`
	PEmpirical jsonnum.Float  `json:"p_empirical"`
	Method     compare.Method `json:"method"`
}

// MarshalJSON writes NaN and infinite numbers (an unmeasured statistic, a
// null without spread) as null, which encoding/json cannot do by itself.
func (s StatEvidence) MarshalJSON() ([]byte, error) {
	return json.Marshal(statEvidenceJSON{jsonnum.Float(s.Value), s.N, jsonnum.Float(s.Similarity), jsonnum.Float(s.NullMean),
		jsonnum.Float(s.NullSD), s.NullN, jsonnum.Float(s.Z), jsonnum.Float(s.P), jsonnum.Float(s.PEmpirical), s.Method})
}

// UnmarshalJSON reads null numbers back as NaN (not as 0, which would make
// an unmeasured statistic look measured).
func (s *StatEvidence) UnmarshalJSON(b []byte) error {
	var w statEvidenceJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = StatEvidence{Value: float64(w.Value), N: w.N, Similarity: float64(w.Similarity), NullMean: float64(w.NullMean),
		NullSD: float64(w.NullSD), NullN: w.NullN, Z: float64(w.Z), P: float64(w.P), PEmpirical: float64(w.PEmpirical), Method: w.Method}
	return nil
}

// teacherResultJSON is TeacherResult's JSON form: the same fields in the
// same order, its numbers as jsonnum.Float.
type teacherResultJSON struct {
	Teacher       string                   `json:"teacher"`
	Suite         string                   `json:"suite"`
	Verdict       Verdict                  `json:"verdict"`
	Reason        string                   `json:"reason,omitempty"`
	PValue        jsonnum.Float            `json:"p_value"`
	PCombined     jsonnum.Float            `json:"p_combined"`
	Best          string                   `json:"best_statistic,omitempty"`
	EffectSize    jsonnum.Float            `json:"effect_size"`
	Statistics    map[string]StatEvidence  `json:"statistics"`
	PerKind       map[string]jsonnum.Float `json:"per_kind,omitempty"`
	KindProbes    map[string]int           `json:"probes_per_kind,omitempty"`
	Temperature   jsonnum.Float            `json:"fitted_temperature,omitempty"`
	LabelOnly     bool                     `json:"label_only,omitempty"`
	NullSize      int                      `json:"null_size"`
	NullFamily    string                   `json:"null_family,omitempty"`
	LeftOut       []string                 `json:"left_out,omitempty"`
	UnderTrained  int                      `json:"under_trained_in_null,omitempty"`
	Nearest       *Neighbour               `json:"nearest_control,omitempty"`
	Outside       string                   `json:"outside_null,omitempty"`
	Coarse        string                   `json:"coarse_outputs,omitempty"`
	LabelsP       *float64                 `json:"labels_p,omitempty"`
	Caution       string                   `json:"caution,omitempty"`
	TPR           jsonnum.Float            `json:"calibration_tpr"`
	FPR           jsonnum.Float            `json:"calibration_fpr"`
	PowerControls int                      `json:"calibration_positives,omitempty"`
	NotRuledOut   []string                 `json:"not_ruled_out,omitempty"`
	DataP         *float64                 `json:"data_probes_p,omitempty"`
	ProbP         *float64                 `json:"prob_contrast_p,omitempty"`
	Variation     *float64                 `json:"answer_variation,omitempty"`
	Nearby        *float64                 `json:"nearby_variation,omitempty"`
	Remote        bool                     `json:"remote,omitempty"`
	Defaulted     []string                 `json:"defaulted_metadata,omitempty"`
	LabelMap      string                   `json:"label_map,omitempty"`
}

// MarshalJSON writes a TeacherResult with NaN and infinite numbers (no
// effect size when nothing was tested, say) as null, and an unknown
// calibration rate (−1, see [TeacherResult.TPR]) as null too.
func (t TeacherResult) MarshalJSON() ([]byte, error) {
	w := teacherResultJSON{Teacher: t.Teacher, Suite: t.Suite, Verdict: t.Verdict, Reason: t.Reason,
		PValue: jsonnum.Float(t.PValue), PCombined: jsonnum.Float(t.PCombined), Best: t.Best,
		EffectSize: jsonnum.Float(t.EffectSize), Statistics: t.Statistics, KindProbes: t.KindProbes, Temperature: jsonnum.Float(t.Temperature),
		LabelOnly: t.LabelOnly, NullSize: t.NullSize, NullFamily: t.NullFamily, LeftOut: t.LeftOut, UnderTrained: t.UnderTrained, Nearest: t.Nearest,
		Outside: t.Outside, Caution: t.Caution, Coarse: t.Coarse, LabelsP: t.LabelsP, TPR: rateJSON(t.TPR), FPR: rateJSON(t.FPR), PowerControls: t.PowerControls,
		NotRuledOut: t.NotRuledOut, DataP: t.DataP, ProbP: t.ProbP, Variation: t.Variation, Nearby: t.Nearby, Remote: t.Remote, Defaulted: t.Defaulted, LabelMap: t.LabelMap}
	if t.PerKind != nil {
		w.PerKind = make(map[string]jsonnum.Float, len(t.PerKind))
		for k, v := range t.PerKind {
			w.PerKind[k] = jsonnum.Float(v)
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes a TeacherResult, reading null numbers (NaN or ±Inf
// when the result was written) back as NaN rather than 0, and a null
// calibration rate back as −1, unknown. The −1 that older results were
// written with reads as −1 too, so stored audits keep their meaning.
func (t *TeacherResult) UnmarshalJSON(b []byte) error {
	var w teacherResultJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*t = TeacherResult{Teacher: w.Teacher, Suite: w.Suite, Verdict: w.Verdict, Reason: w.Reason,
		PValue: float64(w.PValue), PCombined: float64(w.PCombined), Best: w.Best,
		EffectSize: float64(w.EffectSize), Statistics: w.Statistics, KindProbes: w.KindProbes, Temperature: float64(w.Temperature),
		LabelOnly: w.LabelOnly, NullSize: w.NullSize, NullFamily: w.NullFamily, LeftOut: w.LeftOut, UnderTrained: w.UnderTrained, Nearest: w.Nearest,
		Outside: w.Outside, Caution: w.Caution, Coarse: w.Coarse, LabelsP: w.LabelsP, TPR: rateOfJSON(w.TPR), FPR: rateOfJSON(w.FPR), PowerControls: w.PowerControls,
		NotRuledOut: w.NotRuledOut, DataP: w.DataP, ProbP: w.ProbP, Variation: w.Variation, Nearby: w.Nearby, Remote: w.Remote, Defaulted: w.Defaulted, LabelMap: w.LabelMap}
	if w.PerKind != nil {
		t.PerKind = make(map[string]float64, len(w.PerKind))
		for k, v := range w.PerKind {
			t.PerKind[k] = float64(v)
		}
	}
	return nil
}

// rateJSON is a calibration rate's JSON form: the rate, or null when it is
// unknown (negative or NaN).
func rateJSON(v float64) jsonnum.Float {
	if !(v >= 0) {
		return jsonnum.Float(math.NaN())
	}
	return jsonnum.Float(v)
}

// rateOfJSON reads a calibration rate back: null (and any negative value,
// such as the −1 older results were written with) is −1, unknown.
func rateOfJSON(v jsonnum.Float) float64 {
	if !(v >= 0) {
		return -1
	}
	return float64(v)
}
