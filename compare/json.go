package compare

import (
	"encoding/json"
	"math"
)

// JSON cannot represent NaN or ±Inf, which some results legitimately hold
// (a statistic the suspect was not measured on, a rate with no controls).
// The MarshalJSON methods below write such values as null; decoding null
// leaves the field 0, so callers should look at Method / N before using it.

// finite returns a pointer to v, or nil when v is NaN or ±Inf.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON implements json.Marshaler, writing NaN values as null.
func (s StatResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		X          *float64 `json:"x"`
		Mean       *float64 `json:"mean"`
		SD         *float64 `json:"sd"`
		N          int      `json:"n"`
		Z          *float64 `json:"z"`
		P          float64  `json:"p"`
		PEmpirical float64  `json:"p_empirical"`
		Method     Method   `json:"method"`
		Lambda     float64  `json:"lambda"`
	}{finite(s.X), finite(s.Mean), finite(s.SD), s.N, finite(s.Z), s.P, s.PEmpirical, s.Method, s.Lambda})
}

// MarshalJSON implements json.Marshaler, writing NaN rates (no controls of
// that kind) as null.
func (r Rate) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Alpha    float64  `json:"alpha"`
		TPR      *float64 `json:"tpr"`
		FPR      *float64 `json:"fpr"`
		FPRUpper float64  `json:"fpr_upper95"`
	}{r.Alpha, finite(r.TPR), finite(r.FPR), r.FPRUpper})
}

// MarshalJSON implements json.Marshaler, writing a NaN AUC as null.
func (c Calibration) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		PosP  []float64 `json:"pos_p"`
		NegP  []float64 `json:"neg_p"`
		Rates []Rate    `json:"rates"`
		AUC   *float64  `json:"auc"`
	}{c.PosP, c.NegP, c.Rates, finite(c.AUC)})
}
