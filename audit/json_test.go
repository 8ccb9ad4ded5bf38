package audit

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
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
		PerKind: map[string]float64{"data": 0.75}, KindProbes: map[string]int{"all": 60, "data": 12}, Temperature: math.Inf(1), TPR: -1, FPR: -1,
		Defaulted: []string{"labels", "normalization"}, LabelMap: "zero=0,one=1"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var got TeacherResult
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	if !math.IsNaN(got.EffectSize) || !math.IsNaN(got.Temperature) || got.PValue != 1 || got.TPR != -1 || got.FPR != -1 ||
		got.PerKind["data"] != 0.75 || got.KindProbes["data"] != 12 || got.KindProbes["all"] != 60 || got.Teacher != "acme" || got.Verdict != Inconclusive ||
		strings.Join(got.Defaulted, ",") != "labels,normalization" || got.LabelMap != "zero=0,one=1" {
		t.Errorf("round trip via %s: got %+v", b, got)
	}
	// Zero temperature is left out, as before.
	b, _ = json.Marshal(TeacherResult{EffectSize: 1.5})
	if s := string(b); !json.Valid(b) || strings.Contains(s, "fitted_temperature") || strings.Contains(s, "label_map") || !strings.Contains(s, `"effect_size":1.5`) {
		t.Errorf("Marshal(TeacherResult{EffectSize: 1.5}) = %s", s)
	}
}

// TestTeacherResultRatesJSON checks that an unknown calibration rate (−1
// in memory) is written as null, like every other unknown number (it was
// written as -1), and read back as −1, which the verdict and the audit
// table take for unknown; a known rate, 0 included, is written as itself;
// and a result written by an older version, with -1, still reads as −1.
func TestTeacherResultRatesJSON(t *testing.T) {
	for _, tt := range []struct {
		tpr, fpr float64
		want     string
	}{
		{-1, -1, `"calibration_tpr":null,"calibration_fpr":null`},
		{0.75, 0, `"calibration_tpr":0.75,"calibration_fpr":0`},
		{1, -1, `"calibration_tpr":1,"calibration_fpr":null`},
	} {
		b, err := json.Marshal(TeacherResult{Teacher: "acme", TPR: tt.tpr, FPR: tt.fpr})
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if !strings.Contains(string(b), tt.want) {
			t.Errorf("TPR %v, FPR %v: got %s, want it to hold %s", tt.tpr, tt.fpr, b, tt.want)
		}
		var got TeacherResult
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		if got.TPR != tt.tpr || got.FPR != tt.fpr {
			t.Errorf("round trip via %s: got TPR %v, FPR %v; want %v, %v", b, got.TPR, got.FPR, tt.tpr, tt.fpr)
		}
	}
	var old TeacherResult
	if err := json.Unmarshal([]byte(`{"teacher":"acme","calibration_tpr":-1,"calibration_fpr":-1}`), &old); err != nil {
		t.Fatalf("Unmarshal of an old result: %v", err)
	}
	if old.TPR != -1 || old.FPR != -1 {
		t.Errorf("old result with -1: got TPR %v, FPR %v; want -1, -1", old.TPR, old.FPR)
	}
	if b, _ := json.Marshal(old); !strings.Contains(string(b), `"calibration_tpr":null,"calibration_fpr":null`) {
		t.Errorf("old result re-encoded as %s, want null rates", b)
	}
}

// FuzzTeacherResultRatesJSON checks that any calibration rate survives a
// JSON round trip as the code reads it: a rate ≥ 0 exactly, anything else
// (unknown) as −1, and that re-encoding the decoded result gives the same
// bytes.
func FuzzTeacherResultRatesJSON(f *testing.F) {
	f.Add(0.5, 0.0)
	f.Add(-1.0, 1.0)
	f.Add(math.NaN(), math.Inf(1))
	f.Add(math.Copysign(0, -1), -0.25)
	f.Fuzz(func(t *testing.T, tpr, fpr float64) {
		b, err := json.Marshal(TeacherResult{TPR: tpr, FPR: fpr, EffectSize: math.NaN()})
		if err != nil {
			t.Fatalf("Marshal(TPR %v, FPR %v): %v", tpr, fpr, err)
		}
		var got TeacherResult
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		want := func(v float64) float64 {
			if !(v >= 0) || math.IsInf(v, 1) {
				return -1
			}
			return v
		}
		if got.TPR != want(tpr) || got.FPR != want(fpr) {
			t.Errorf("TPR %v, FPR %v via %s: got %v, %v; want %v, %v", tpr, fpr, b, got.TPR, got.FPR, want(tpr), want(fpr))
		}
		b2, err := json.Marshal(got)
		if err != nil || string(b2) != string(b) {
			t.Errorf("re-encoded as %s, want %s (err %v)", b2, b, err)
		}
	})
}

// TestCalibrationRatesUnknown checks that a rate read from an enrolment's
// stored Rates is −1 when it has no controls to count (NaN), as one counted
// from stored p-values is: a NaN was passed on as is, written to JSON as
// null, read back as −1 and shown as "NaN" in the audit table meanwhile.
func TestCalibrationRatesUnknown(t *testing.T) {
	nan := math.NaN()
	for _, tt := range []struct {
		name             string
		cal              compare.Calibration
		wantTPR, wantFPR float64
	}{
		{"rates, no positives", compare.Calibration{Rates: []compare.Rate{{Alpha: 0.01, TPR: nan, FPR: 0.25}}}, -1, 0.25},
		{"rates, no negatives", compare.Calibration{Rates: []compare.Rate{{Alpha: 0.01, TPR: 0.5, FPR: nan}}}, 0.5, -1},
		{"rates at another alpha", compare.Calibration{Rates: []compare.Rate{{Alpha: 0.05, TPR: 0.5, FPR: 0}}}, -1, -1},
		{"p-values, no negatives", compare.Calibration{PosP: []float64{0.001, 0.5}}, 0.5, -1},
	} {
		tpr, fpr := calibrationRates(tt.cal, 0.01)
		if tpr != tt.wantTPR || fpr != tt.wantFPR {
			t.Errorf("%s: got TPR %v, FPR %v; want %v, %v", tt.name, tpr, fpr, tt.wantTPR, tt.wantFPR)
		}
	}
}

// FuzzStatEvidenceJSON round-trips a StatEvidence through JSON: finite
// numbers come back exact, non-finite ones as NaN, the counts and method
// unchanged, and re-encoding the decoded value gives the same bytes.
func FuzzStatEvidenceJSON(f *testing.F) {
	f.Add(0.8, 200, 1.4, 0.3, 0.1, 24, 11.0, 0.001, 0.04)
	f.Add(math.NaN(), 0, math.Inf(1), math.Inf(-1), 0.0, 0, math.NaN(), 1.0, 1.0)
	f.Add(math.Copysign(0, -1), -1, 1e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, 1, -3.5, 0.5, 0.5)
	f.Fuzz(func(t *testing.T, value float64, n int, sim, mean, sd float64, nullN int, z, p, pe float64) {
		in := StatEvidence{Value: value, N: n, Similarity: sim, NullMean: mean, NullSD: sd, NullN: nullN,
			Z: z, P: p, PEmpirical: pe, Method: compare.MethodT}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", in, err)
		}
		var got StatEvidence
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		want := in
		for _, v := range []*float64{&want.Value, &want.Similarity, &want.NullMean, &want.NullSD, &want.Z, &want.P, &want.PEmpirical} {
			if math.IsInf(*v, 0) {
				*v = math.NaN()
			}
		}
		gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
		for i := range gv.NumField() {
			g, w := gv.Field(i), wv.Field(i)
			if g.Kind() == reflect.Float64 {
				if gf, wf := g.Float(), w.Float(); gf != wf && !(math.IsNaN(gf) && math.IsNaN(wf)) {
					t.Errorf("field %s: got %v, want %v (via %s)", gv.Type().Field(i).Name, gf, wf, b)
				}
			} else if g.Interface() != w.Interface() {
				t.Errorf("field %s: got %v, want %v (via %s)", gv.Type().Field(i).Name, g.Interface(), w.Interface(), b)
			}
		}
		if b2, err := json.Marshal(got); err != nil || string(b2) != string(b) {
			t.Errorf("re-encoded as %s, want %s (err %v)", b2, b, err)
		}
	})
}
