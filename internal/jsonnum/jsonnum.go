// Package jsonnum provides Float, a float64 that survives a JSON round
// trip when it is NaN or infinite.
//
// JSON has no NaN or ±Inf, and results hold them legitimately (a
// statistic the suspect was not measured on, a rate with no controls).
// Float writes them as null and reads null back as NaN, where a plain
// float64 would fail to encode and, decoded from null, silently become 0.
package jsonnum

import (
	"encoding/json"
	"math"
)

// Float is a float64 whose JSON form is a number, or null for NaN and ±Inf
// (both read back as NaN). The zero Float is 0.
type Float float64

// MarshalJSON implements json.Marshaler: null for NaN and ±Inf, otherwise
// the number as encoding/json writes a float64.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// UnmarshalJSON implements json.Unmarshaler: null becomes NaN, a number
// its value; anything else is an error.
func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}
