package audit

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestJSONFormsMatch checks that the JSON forms list the same fields, with
// the same tags, in the same order as the types they stand for: a field
// added to TeacherResult or StatEvidence but not to its JSON form would be
// silently dropped from every audit output and record.
func TestJSONFormsMatch(t *testing.T) {
	for _, tt := range []struct{ typ, form any }{
		{TeacherResult{}, teacherResultJSON{}},
		{StatEvidence{}, statEvidenceJSON{}},
	} {
		a, b := reflect.TypeOf(tt.typ), reflect.TypeOf(tt.form)
		if a.NumField() != b.NumField() {
			t.Errorf("%s has %d fields, %s %d", a.Name(), a.NumField(), b.Name(), b.NumField())
			continue
		}
		for i := 0; i < a.NumField(); i++ {
			fa, fb := a.Field(i), b.Field(i)
			if fa.Name != fb.Name || fa.Tag.Get("json") != fb.Tag.Get("json") {
				t.Errorf("%s field %d is %s %q, %s's is %s %q", a.Name(), i, fa.Name, fa.Tag.Get("json"), b.Name(), fb.Name, fb.Tag.Get("json"))
			}
		}
	}
}

// TestTeacherResultJSON checks that a TeacherResult with NaN numbers (an
// unmeasured teacher has no effect size) marshals with encoding/json
// alone, as null, and reads back as NaN.
func TestTeacherResultJSON(t *testing.T) {
	in := TeacherResult{Teacher: "acme", Verdict: Inconclusive, PValue: 1, PCombined: 1, EffectSize: math.NaN(),
		PerKind: map[string]float64{"data": 0.75}, Temperature: math.Inf(1), TPR: -1, FPR: -1}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var got TeacherResult
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	if !math.IsNaN(got.EffectSize) || !math.IsNaN(got.Temperature) || got.PValue != 1 || got.TPR != -1 ||
		got.PerKind["data"] != 0.75 || got.Teacher != "acme" || got.Verdict != Inconclusive {
		t.Errorf("round trip via %s: got %+v", b, got)
	}
	// Zero temperature is left out, as before.
	b, _ = json.Marshal(TeacherResult{EffectSize: 1.5})
	if s := string(b); !json.Valid(b) || strings.Contains(s, "fitted_temperature") || !strings.Contains(s, `"effect_size":1.5`) {
		t.Errorf("Marshal(TeacherResult{EffectSize: 1.5}) = %s", s)
	}
}
