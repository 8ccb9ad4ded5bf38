package compare

import (
	"encoding/json"

	"github.com/lineage-audit/lineage/internal/jsonnum"
)

// JSON cannot represent NaN or ±Inf, which some results legitimately hold
// (a statistic the suspect was not measured on, a rate with no controls).
// The MarshalJSON methods below write such values as null and the
// UnmarshalJSON methods read null back as NaN, so a stored result decodes
// to what was stored (an unmeasured value is never read back as 0).

type statResultJSON struct {
	X          jsonnum.Float `json:"x"`
	Mean       jsonnum.Float `json:"mean"`
	SD         jsonnum.Float `json:"sd"`
	N          int           `json:"n"`
	Z          jsonnum.Float `json:"z"`
	P          jsonnum.Float `json:"p"`
	PEmpirical jsonnum.Float `json:"p_empirical"`
	Method     Method        `json:"method"`
	Lambda     jsonnum.Float `json:"lambda"`
}

// MarshalJSON implements json.Marshaler, writing NaN values as null.
func (s StatResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(statResultJSON{jsonnum.Float(s.X), jsonnum.Float(s.Mean), jsonnum.Float(s.SD), s.N,
		jsonnum.Float(s.Z), jsonnum.Float(s.P), jsonnum.Float(s.PEmpirical), s.Method, jsonnum.Float(s.Lambda)})
}

// UnmarshalJSON implements json.Unmarshaler, reading null as NaN.
func (s *StatResult) UnmarshalJSON(b []byte) error {
	var w statResultJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = StatResult{X: float64(w.X), Mean: float64(w.Mean), SD: float64(w.SD), N: w.N, Z: float64(w.Z),
		P: float64(w.P), PEmpirical: float64(w.PEmpirical), Method: w.Method, Lambda: float64(w.Lambda)}
	return nil
}

type rateJSON struct {
	Alpha    jsonnum.Float `json:"alpha"`
	TPR      jsonnum.Float `json:"tpr"`
	FPR      jsonnum.Float `json:"fpr"`
	FPRUpper jsonnum.Float `json:"fpr_upper95"`
}

// MarshalJSON implements json.Marshaler, writing NaN rates (no controls of
// that kind) as null.
func (r Rate) MarshalJSON() ([]byte, error) {
	return json.Marshal(rateJSON{jsonnum.Float(r.Alpha), jsonnum.Float(r.TPR), jsonnum.Float(r.FPR), jsonnum.Float(r.FPRUpper)})
}

// UnmarshalJSON implements json.Unmarshaler, reading null as NaN.
func (r *Rate) UnmarshalJSON(b []byte) error {
	var w rateJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Rate{Alpha: float64(w.Alpha), TPR: float64(w.TPR), FPR: float64(w.FPR), FPRUpper: float64(w.FPRUpper)}
	return nil
}

type calibrationJSON struct {
	PosP  []jsonnum.Float `json:"pos_p"`
	NegP  []jsonnum.Float `json:"neg_p"`
	Rates []Rate          `json:"rates"`
	AUC   jsonnum.Float   `json:"auc"`
}

// MarshalJSON implements json.Marshaler, writing a NaN AUC (or p-value) as
// null.
func (c Calibration) MarshalJSON() ([]byte, error) {
	return json.Marshal(calibrationJSON{floats(c.PosP), floats(c.NegP), c.Rates, jsonnum.Float(c.AUC)})
}

// UnmarshalJSON implements json.Unmarshaler, reading null as NaN.
func (c *Calibration) UnmarshalJSON(b []byte) error {
	var w calibrationJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Calibration{PosP: float64s(w.PosP), NegP: float64s(w.NegP), Rates: w.Rates, AUC: float64(w.AUC)}
	return nil
}

// floats converts v for JSON, keeping nil nil.
func floats(v []float64) []jsonnum.Float {
	if v == nil {
		return nil
	}
	out := make([]jsonnum.Float, len(v))
	for i, x := range v {
		out[i] = jsonnum.Float(x)
	}
	return out
}

// float64s is the inverse of floats.
func float64s(v []jsonnum.Float) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
