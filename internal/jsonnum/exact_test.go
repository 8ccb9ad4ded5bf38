package jsonnum

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// TestMarshalIndentExact checks the whole text MarshalIndent writes for a
// value holding a NaN beside what its copies must keep as they are: nil
// slices and maps (null, not empty), values behind interfaces, a struct
// whose fields are unexported (time.Time), a string with an escaped quote.
func TestMarshalIndentExact(t *testing.T) {
	nan := math.NaN()
	type nils struct {
		A float64
		S []float64
		M map[string]float64
	}
	type stamped struct {
		T time.Time
		A float64
	}
	type quoted struct {
		S string
		A float64
	}
	for _, tt := range []struct {
		name string
		in   any
		want string
	}{
		{"nil slice and map", nils{A: nan}, `{"A": null, "S": null, "M": null}`},
		{"interface", map[string]any{"x": nan, "y": 1, "z": []any{math.Inf(1), "s"}}, `{"x": null, "y": 1, "z": [null, "s"]}`},
		{"unexported fields", stamped{T: time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC), A: nan}, `{"T": "2026-12-07T23:00:00Z", "A": null}`},
		{"escaped quote", quoted{S: `a"b`, A: nan}, `{"S": "a\"b", "A": null}`},
	} {
		b, err := MarshalIndent(tt.in)
		if err != nil {
			t.Errorf("%s: MarshalIndent: %v", tt.name, err)
			continue
		}
		if got := compact(t, b); got != tt.want {
			t.Errorf("%s: MarshalIndent = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// compact returns the JSON text b on one line, a space after each colon
// and comma.
func compact(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("MarshalIndent wrote %s: %v", b, err)
	}
	s := strings.ReplaceAll(string(b), "\n", "")
	for strings.Contains(s, "  ") {
		s = strings.ReplaceAll(s, "  ", " ")
	}
	return strings.NewReplacer("{ ", "{", " }", "}", "[ ", "[", " ]", "]").Replace(s)
}

// picky refuses to marshal NaN with an error of its own.
type picky float64

func (p picky) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(p)) {
		return nil, errors.New("picky: NaN")
	}
	return json.Marshal(float64(p))
}

// TestMarshalIndentErrors checks that an error other than a non-finite
// float is returned as encoding/json returns it, also when the value
// holds a NaN besides, and no text with it.
func TestMarshalIndentErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   any
		want string
	}{
		{"a channel after a NaN", struct {
			A float64
			C chan int
		}{math.NaN(), make(chan int)}, "json: unsupported type: chan int"},
		{"a marshaler's own error", struct{ P picky }{picky(math.NaN())}, "picky: NaN"},
	} {
		b, err := MarshalIndent(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) || b != nil {
			t.Errorf("%s: MarshalIndent = %q, %v; want no text, an error containing %q", tt.name, b, err, tt.want)
		}
	}
}

// TestNullDiffering checks the merge of two texts on its own: numbers
// that differ become null, anything else that differs (in a string, a
// literal, a length) is an error.
func TestNullDiffering(t *testing.T) {
	for _, tt := range []struct {
		a, b, want string // want "" means an error
	}{
		{`[1,2]`, `[1,3]`, `[1,null]`},
		{`[12,-1e+308]`, `[13,1e+308]`, `[null,null]`},
		{`["a\"1",-2]`, `["a\"1",2]`, `["a\"1",null]`},
		{`{"x1":1}`, `{"x2":1}`, ""},
		{`["a1"]`, `["a22"]`, ""},
		{`[true]`, `[nope]`, ""},
		{`[1]`, `[1] `, ""},
		{`[1] `, `[1]`, ""},
		{`["abc"]`, `["a`, ""},
		{`"a1`, `"a2`, ""},
	} {
		got, err := nullDiffering([]byte(tt.a), []byte(tt.b))
		if tt.want == "" && err == nil || tt.want != "" && (err != nil || string(got) != tt.want) {
			t.Errorf("nullDiffering(%s, %s) = %s, %v; want %q (\"\" an error)", tt.a, tt.b, got, err, tt.want)
		}
	}
}
