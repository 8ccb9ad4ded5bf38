package jsonnum

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMarshalIndentNonFinite(t *testing.T) {
	type inner struct {
		X float64 `json:"x"`
	}
	type doc struct {
		A float64            `json:"a"`
		M map[string]inner   `json:"m"`
		S []float64          `json:"s"`
		P *inner             `json:"p"`
		K map[string]float64 `json:"k,omitempty"`
		F float32            `json:"f"`
		R [2]float64         `json:"r"`
		N string             `json:"n"`
	}
	tests := []struct {
		name string
		in   doc
		want []string
	}{
		{"finite", doc{A: 1.5, S: []float64{2}}, []string{`"a": 1.5`, `"s": [`, `2`}},
		{"nan", doc{A: math.NaN()}, []string{`"a": null`}},
		{"nested", doc{M: map[string]inner{"q": {X: math.Inf(1)}}, P: &inner{X: math.Inf(-1)}, S: []float64{math.NaN(), 3}},
			[]string{`"x": null`, `null,`, `3`}},
		{"float32", doc{F: float32(math.NaN())}, []string{`"f": null`}},
		{"array", doc{R: [2]float64{1, math.NaN()}}, []string{"1,\n    null"}},
		// A string that spells the sentinel stays a string.
		{"sentinel in a string", doc{A: math.NaN(), N: "-1.7976931348623157e+308"},
			[]string{`"a": null`, `"n": "-1.7976931348623157e+308"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			b, err := MarshalIndent(in)
			if err != nil {
				t.Fatalf("MarshalIndent: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("got %s, want it to contain %s", b, w)
				}
			}
			if tt.name == "nested" && !math.IsInf(in.P.X, -1) {
				t.Errorf("MarshalIndent modified its input: P.X = %v", in.P.X)
			}
		})
	}
}

// FuzzMarshalIndent checks the round trip: what MarshalIndent writes is
// valid JSON that json.MarshalIndent would write for the finite values,
// and read back into Float fields it gives every number back, NaN for NaN
// and ±Inf; a string is never touched, whatever number it spells.
func FuzzMarshalIndent(f *testing.F) {
	f.Add(1.5, float32(2), "x", uint8(0))
	f.Add(math.NaN(), float32(math.Inf(1)), "-1.7976931348623157e+308", uint8(3))
	f.Add(-math.MaxFloat64, float32(-math.MaxFloat32), "null", uint8(1))
	f.Fuzz(func(t *testing.T, a float64, b float32, s string, special uint8) {
		if !utf8.ValidString(s) {
			t.Skip("encoding/json writes invalid UTF-8 as U+FFFD")
		}
		switch special % 4 {
		case 1:
			a = math.NaN()
		case 2:
			a = math.Inf(-1)
		case 3:
			b = float32(math.NaN())
		}
		type in struct {
			A float64            `json:"a"`
			B float32            `json:"b"`
			S string             `json:"s"`
			L []float64          `json:"l"`
			M map[string]float64 `json:"m"`
		}
		type out struct {
			A Float            `json:"a"`
			B Float            `json:"b"`
			S string           `json:"s"`
			L []Float          `json:"l"`
			M map[string]Float `json:"m"`
		}
		v := in{A: a, B: b, S: s, L: []float64{a, 1}, M: map[string]float64{s: a}}
		raw, err := MarshalIndent(v)
		if err != nil {
			t.Fatalf("MarshalIndent(%+v): %v", v, err)
		}
		if !json.Valid(raw) {
			t.Fatalf("MarshalIndent(%+v) = %s: not valid JSON", v, raw)
		}
		var got out
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", raw, err)
		}
		// A float32 is written in its own shortest form, so it is
		// compared as a float32.
		same := func(x float64, y Float) bool {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return math.IsNaN(float64(y))
			}
			return x == float64(y)
		}
		if !same(a, got.A) || !same(float64(b), Float(float32(got.B))) || !same(a, got.L[0]) || !same(a, got.M[s]) || got.S != s {
			t.Errorf("round trip of %+v through %s: got %+v", v, raw, got)
		}
	})
}
