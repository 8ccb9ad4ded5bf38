package compare

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// sameFloat reports whether a and b are equal or both NaN.
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// TestJSONRoundTrip checks that results with NaN (unmeasured) numbers
// decode to what was encoded: NaN, never a silent 0. A stored enrolment
// report whose calibration had no positive controls of some kind must not
// read back as a measured TPR of 0.
func TestJSONRoundTrip(t *testing.T) {
	nan := math.NaN()
	cal := Calibration{
		PosP:  []float64{0.001, nan},
		NegP:  []float64{0.5},
		Rates: []Rate{{Alpha: 0.01, TPR: nan, FPR: 0, FPRUpper: 0.05}, {Alpha: 0.05, TPR: 0.5, FPR: nan, FPRUpper: 0.1}},
		AUC:   nan,
	}
	b, err := json.Marshal(cal)
	if err != nil {
		t.Fatal(err)
	}
	var got Calibration
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	if !sameFloat(got.AUC, nan) || len(got.PosP) != 2 || !sameFloat(got.PosP[1], nan) || got.PosP[0] != 0.001 || len(got.NegP) != 1 {
		t.Errorf("calibration: got %+v, want %+v", got, cal)
	}
	for i, r := range got.Rates {
		w := cal.Rates[i]
		if !sameFloat(r.Alpha, w.Alpha) || !sameFloat(r.TPR, w.TPR) || !sameFloat(r.FPR, w.FPR) || !sameFloat(r.FPRUpper, w.FPRUpper) {
			t.Errorf("rate %d: got %+v, want %+v", i, r, w)
		}
	}
	// nil slices stay nil (an enrolment report without stored p-values).
	var empty Calibration
	b, _ = json.Marshal(Calibration{AUC: 0.9})
	if err := json.Unmarshal(b, &empty); err != nil || empty.PosP != nil || empty.AUC != 0.9 {
		t.Errorf("Calibration{AUC: 0.9} via %s: got %+v, %v", b, empty, err)
	}

	sr := StatResult{X: nan, Mean: 0.2, SD: nan, N: 3, Z: nan, P: 1, PEmpirical: 1, Method: MethodInsufficient, Lambda: 1}
	b, err = json.Marshal(sr)
	if err != nil {
		t.Fatal(err)
	}
	var gs StatResult
	if err := json.Unmarshal(b, &gs); err != nil {
		t.Fatal(err)
	}
	if !sameFloat(gs.X, nan) || !sameFloat(gs.SD, nan) || !sameFloat(gs.Z, nan) || gs.Mean != 0.2 || gs.N != 3 || gs.Method != MethodInsufficient || gs.Lambda != 1 {
		t.Errorf("StatResult via %s: got %+v, want %+v", b, gs, sr)
	}
}

// FuzzStatResultJSON round-trips a StatResult through JSON: finite numbers
// come back exact, non-finite ones as NaN.
func FuzzStatResultJSON(f *testing.F) {
	f.Add(1.0, 0.5, 0.1, 3, 2.0, 0.01, 0.05, 0.7)
	f.Add(math.NaN(), math.Inf(1), 0.0, 0, math.Inf(-1), 1.0, 1.0, 1.0)
	f.Fuzz(func(t *testing.T, x, mean, sd float64, n int, z, p, pe, lambda float64) {
		in := StatResult{X: x, Mean: mean, SD: sd, N: n, Z: z, P: p, PEmpirical: pe, Method: MethodT, Lambda: lambda}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var got StatResult
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		want := StatResult{X: infAsNaN(x), Mean: infAsNaN(mean), SD: infAsNaN(sd), N: n, Z: infAsNaN(z), P: infAsNaN(p), PEmpirical: infAsNaN(pe), Method: MethodT, Lambda: infAsNaN(lambda)}
		gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
		for i := 0; i < gv.NumField(); i++ {
			g, w := gv.Field(i), wv.Field(i)
			if g.Kind() == reflect.Float64 {
				if !sameFloat(g.Float(), w.Float()) {
					t.Errorf("field %s: got %v, want %v (via %s)", gv.Type().Field(i).Name, g.Float(), w.Float(), b)
				}
			} else if g.Interface() != w.Interface() {
				t.Errorf("field %s: got %v, want %v", gv.Type().Field(i).Name, g.Interface(), w.Interface())
			}
		}
	})
}

// FuzzCalibrationJSON round-trips a Calibration, and so its Rates, through
// JSON: finite numbers come back exact, non-finite ones as NaN, nil
// p-value lists stay nil, and re-encoding the decoded value gives the same
// bytes.
func FuzzCalibrationJSON(f *testing.F) {
	f.Add(0.01, 0.9, 0.05, 0.2, 0.001, 0.5, 0.95, false)
	f.Add(0.05, math.NaN(), math.Inf(1), math.Inf(-1), math.NaN(), 0.0, math.NaN(), true)
	f.Add(math.Copysign(0, -1), 1.0, 0.0, 1.0, 1e-300, math.MaxFloat64, 0.5, false)
	f.Fuzz(func(t *testing.T, alpha, tpr, fpr, upper, pos, neg, auc float64, nilNeg bool) {
		in := Calibration{PosP: []float64{pos, neg}, NegP: []float64{neg}, Rates: []Rate{{alpha, tpr, fpr, upper}}, AUC: auc}
		if nilNeg {
			in.NegP = nil
		}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", in, err)
		}
		var got Calibration
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("Unmarshal(%s): %v", b, err)
		}
		sameAll := func(name string, got, want []float64) {
			if (got == nil) != (want == nil) || len(got) != len(want) {
				t.Fatalf("%s: got %v, want %v (via %s)", name, got, want, b)
			}
			for i := range want {
				if !sameFloat(got[i], infAsNaN(want[i])) {
					t.Errorf("%s[%d]: got %v, want %v (via %s)", name, i, got[i], infAsNaN(want[i]), b)
				}
			}
		}
		sameAll("PosP", got.PosP, in.PosP)
		sameAll("NegP", got.NegP, in.NegP)
		if len(got.Rates) != 1 {
			t.Fatalf("Rates: got %v, want one (via %s)", got.Rates, b)
		}
		r := got.Rates[0]
		sameAll("Rate", []float64{r.Alpha, r.TPR, r.FPR, r.FPRUpper}, []float64{alpha, tpr, fpr, upper})
		sameAll("AUC", []float64{got.AUC}, []float64{auc})
		if b2, err := json.Marshal(got); err != nil || string(b2) != string(b) {
			t.Errorf("re-encoded as %s, want %s (err %v)", b2, b, err)
		}
	})
}

// infAsNaN is v as JSON reads it back: an infinity is written as null,
// which reads as NaN.
func infAsNaN(v float64) float64 {
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}
