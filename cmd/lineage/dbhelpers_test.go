package main

import (
	"math"
	"strings"
	"testing"
)

func TestMarshalJSONNonFinite(t *testing.T) {
	type inner struct {
		X float64 `json:"x"`
	}
	type doc struct {
		A float64            `json:"a"`
		M map[string]inner   `json:"m"`
		S []float64          `json:"s"`
		P *inner             `json:"p"`
		K map[string]float64 `json:"k,omitempty"`
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			b, err := marshalJSON(in)
			if err != nil {
				t.Fatalf("marshalJSON: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("got %s, want it to contain %s", b, w)
				}
			}
			if tt.name == "nested" && !math.IsInf(in.P.X, -1) {
				t.Errorf("marshalJSON modified its input: P.X = %v", in.P.X)
			}
		})
	}
}
