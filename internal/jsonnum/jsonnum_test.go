package jsonnum

import (
	"encoding/json"
	"math"
	"testing"
)

func TestFloatRoundTrip(t *testing.T) {
	tests := []struct {
		in       float64
		wantJSON string
		wantBack float64 // NaN means NaN
	}{
		{0, "0", 0},
		{-1.5, "-1.5", -1.5},
		{1e-300, "1e-300", 1e-300},
		{math.NaN(), "null", math.NaN()},
		{math.Inf(1), "null", math.NaN()},
		{math.Inf(-1), "null", math.NaN()},
	}
	for _, tt := range tests {
		b, err := json.Marshal(Float(tt.in))
		if err != nil || string(b) != tt.wantJSON {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tt.in, b, err, tt.wantJSON)
			continue
		}
		var got Float
		if err := json.Unmarshal(b, &got); err != nil {
			t.Errorf("Unmarshal(%s): %v", b, err)
			continue
		}
		if g := float64(got); !(g == tt.wantBack || math.IsNaN(g) && math.IsNaN(tt.wantBack)) {
			t.Errorf("round trip of %v = %v, want %v", tt.in, g, tt.wantBack)
		}
	}
}

func TestFloatInStruct(t *testing.T) {
	var v struct {
		A Float            `json:"a"`
		B Float            `json:"b"`
		M map[string]Float `json:"m"`
	}
	v.B = 7 // absent in the input: left alone
	if err := json.Unmarshal([]byte(`{"a":null,"m":{"x":null,"y":2}}`), &v); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(v.A)) || v.B != 7 || !math.IsNaN(float64(v.M["x"])) || v.M["y"] != 2 {
		t.Errorf("got a=%v b=%v m=%v, want NaN, 7, map[x:NaN y:2]", v.A, v.B, v.M)
	}
	if err := json.Unmarshal([]byte(`{"a":"1"}`), &v); err == nil {
		t.Error(`{"a":"1"}: no error, want one (a string is not a number)`)
	}
}

func FuzzFloat(f *testing.F) {
	for _, s := range []float64{0, 1, -2.5, 1e308, 5e-324, math.NaN(), math.Inf(1)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		b, err := json.Marshal(Float(v))
		if err != nil {
			t.Fatal(err)
		}
		var got Float
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		finite := !math.IsNaN(v) && !math.IsInf(v, 0)
		if finite && float64(got) != v || !finite && !math.IsNaN(float64(got)) {
			t.Errorf("round trip of %v via %s = %v", v, b, got)
		}
	})
}
