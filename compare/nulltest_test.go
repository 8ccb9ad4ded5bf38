package compare

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func col(v ...float64) [][]float64 {
	out := make([][]float64, len(v))
	for i, x := range v {
		out[i] = []float64{x}
	}
	return out
}

func TestTestGaussianHand(t *testing.T) {
	tests := []struct {
		name    string
		null    [][]float64
		x       float64
		p, z    float64
		pEmp    float64
		comment string
	}{
		// mean 3, sd √2.5, t = 3/√(2.5·1.2) = √3 on 4 df: closed form
		// F₄(t) = ½ + ⅜·t/√(1+t²/4)·(1 − t²/(12(1+t²/4))) → 0.0791512…
		{"five", col(1, 2, 3, 4, 5), 6, 0.07915121168772891, 3 / math.Sqrt(2.5), 1.0 / 6, ""},
		// scipy.stats.t.sf((2.4−0.5)/(s·√(1+1/8)), 7) with s = 0.62792…
		{"eight", col(0.3, 1.1, -0.4, 0.8, 0.2, 1.5, -0.1, 0.6), 2.4, 0.012294778346123756, 1.9 / 0.6279217421667403, 1.0 / 9, ""},
		// Below the mean: p > ½; empirical counts null values ≥ x (3, 4, 5 and 3).
		{"low", col(1, 2, 3, 4, 5), 3, 0.5, 0, 4.0 / 6, ""},
	}
	for _, tt := range tests {
		res, err := Test(tt.null, []float64{tt.x}, Options{Predictive: PredictiveGaussian})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		s := res.Stats[0]
		if !approx(s.P, tt.p, 1e-9) || !approx(s.Z, tt.z, 1e-9) || !approx(s.PEmpirical, tt.pEmp, 1e-12) || s.Method != MethodT {
			t.Errorf("%s: got p=%v z=%v pEmp=%v method=%s, want p=%v z=%v pEmp=%v t-predictive",
				tt.name, s.P, s.Z, s.PEmpirical, s.Method, tt.p, tt.z, tt.pEmp)
		}
		if res.P != s.P {
			t.Errorf("%s: combined P = %v with one statistic, want %v", tt.name, res.P, s.P)
		}
	}
}

func TestTestRobust(t *testing.T) {
	null := col(0.3, 1.1, -0.4, 0.8, 0.2, 1.5, -0.1, 0.6)
	g, _ := Test(null, []float64{2.4}, Options{Predictive: PredictiveGaussian})
	r, err := Test(null, []float64{2.4}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Stats[0]
	if !(s.P > g.P && s.P < 0.5) || s.Lambda < 0 || s.Lambda > 1 || s.Z != g.Stats[0].Z {
		t.Errorf("robust: p=%v λ=%v z=%v; want gaussian p %v < p < 0.5, λ in [0,1], same z", s.P, s.Lambda, s.Z, g.P)
	}
	// A right-skewed null (one large value) gets λ < 1; a clone far out
	// still gets a p-value far below 1/(n+1).
	skew := col(0, 0.1, 0.05, 0.2, 0.1, 0.15, 0.3, 0.05, 1.2, 0.1, 0.2, 0.4)
	r, _ = Test(skew, []float64{8}, Options{})
	if s := r.Stats[0]; s.Lambda >= 1 || s.P > 0.01 || s.P > s.PEmpirical/10 {
		t.Errorf("skewed null, far suspect: λ = %v, p = %v; want λ < 1, p < 0.01 and ≪ %v", s.Lambda, s.P, s.PEmpirical)
	}
	// Absurdly far out the tail underflows; the p-value stays MinP, not 0
	// (which readers of stored results take for a missing value).
	for _, pred := range []Predictive{PredictiveRobust, PredictiveGaussian} {
		r, _ = Test(null, []float64{1e300}, Options{Predictive: pred})
		if s := r.Stats[0]; s.P != MinP {
			t.Errorf("predictive %v, suspect at 1e300: p = %g, want MinP %g", pred, s.P, MinP)
		}
	}
}

func TestTestCombined(t *testing.T) {
	// Statistic 0 as in "eight", statistic 1 uninformative, statistic 2 NaN
	// for the suspect: combined = 3·min p (m counts every statistic).
	base := []float64{0.3, 1.1, -0.4, 0.8, 0.2, 1.5, -0.1, 0.6}
	null := make([][]float64, len(base))
	for i, v := range base {
		null[i] = []float64{v, float64(i), 1 + float64(i%3)}
	}
	res, err := Test(null, []float64{2.4, 3.5, math.NaN()}, Options{Predictive: PredictiveGaussian})
	if err != nil {
		t.Fatal(err)
	}
	want := 3 * 0.012294778346123756
	if !approx(res.P, want, 1e-9) || res.Best != 0 || !approx(res.MinP, want/3, 1e-9) {
		t.Errorf("combined P = %v best %d minP %v, want %v best 0", res.P, res.Best, res.MinP, want)
	}
	if m := res.Stats[2].Method; m != MethodInsufficient || res.Stats[2].P != 1 {
		t.Errorf("NaN suspect statistic: method %s p %v, want insufficient, 1", m, res.Stats[2].P)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Errorf("Result not JSON-encodable: %v", err)
	}
	// The cap at 1.
	res, _ = Test(null, []float64{0, 0, 0}, Options{})
	if res.P != 1 {
		t.Errorf("uninformative suspect: combined P = %v, want 1", res.P)
	}
}

func TestTestDegenerateNull(t *testing.T) {
	// Two null models: insufficient, never a p-value of 0.
	res, err := Test(col(1, 2), []float64{100}, Options{})
	if !errors.Is(err, ErrInsufficientNull) || res.P != 1 || res.Stats[0].Method != MethodInsufficient {
		t.Errorf("n=2: err=%v P=%v method=%s, want ErrInsufficientNull, 1, insufficient", err, res.P, res.Stats[0].Method)
	}
	// MinNull raises the bar.
	if _, err := Test(col(1, 2, 3, 4), []float64{9}, Options{MinNull: 5}); !errors.Is(err, ErrInsufficientNull) {
		t.Errorf("MinNull 5 with 4 nulls: err = %v, want ErrInsufficientNull", err)
	}
	// sd = 0: the empirical p-value, 1/(n+1) at best.
	res, err = Test(col(0.5, 0.5, 0.5, 0.5), []float64{3}, Options{})
	if err != nil || res.Stats[0].Method != MethodEmpirical || !approx(res.P, 0.2, 1e-12) {
		t.Errorf("sd=0: err=%v method=%s P=%v, want empirical 0.2", err, res.Stats[0].Method, res.P)
	}
	// Half or more of the null one value: the empirical p-value, whatever
	// the predictive (a suspect just above the tie is not far in the tail).
	for _, pred := range []Predictive{PredictiveRobust, PredictiveGaussian} {
		res, err = Test(col(0, 0, 0, 0, 0, 0, 1.5, 2, 3.5), []float64{4}, Options{Predictive: pred})
		if err != nil || res.Stats[0].Method != MethodEmpirical || !approx(res.P, 0.1, 1e-12) {
			t.Errorf("predictive %d, 6 of 9 tied: err=%v method=%s P=%v, want empirical 0.1", pred, err, res.Stats[0].Method, res.P)
		}
	}
	// Exactly half tied (TiedShare): the empirical p-value, 1 + 0 above
	// over 8 + 1.
	res, err = Test(col(0, 0, 0, 0, 1, 1.5, 2, 3.5), []float64{4}, Options{})
	if err != nil || res.Stats[0].Method != MethodEmpirical || !approx(res.P, 1.0/9, 1e-12) {
		t.Errorf("4 of 8 tied: err=%v method=%s P=%v, want empirical 1/9", err, res.Stats[0].Method, res.P)
	}
	// Fewer than half tied: the predictive as usual.
	res, err = Test(col(0, 0, 0, 0, 1, 1.5, 2, 3.5, 2.5), []float64{4}, Options{})
	if err != nil || res.Stats[0].Method != MethodT {
		t.Errorf("4 of 9 tied: err=%v method=%s, want t-predictive", err, res.Stats[0].Method)
	}
	// NaN null entries are skipped.
	res, _ = Test(col(1, 2, math.NaN(), 3, 4, 5), []float64{6}, Options{Predictive: PredictiveGaussian})
	if res.Stats[0].N != 5 || !approx(res.P, 0.07915121168772891, 1e-9) {
		t.Errorf("NaN in null: n=%d P=%v, want 5, 0.0791512", res.Stats[0].N, res.P)
	}
}

func TestTestErrors(t *testing.T) {
	tests := []struct {
		name    string
		null    [][]float64
		x       []float64
		wantErr error
	}{
		{"ragged", [][]float64{{1, 2}, {1}}, []float64{1, 2}, ErrShape},
		{"empty", col(1, 2, 3), nil, ErrShape},
		{"inf null", col(1, math.Inf(1), 3), []float64{1}, ErrNonFinite},
		{"inf suspect", col(1, 2, 3), []float64{math.Inf(1)}, ErrNonFinite},
	}
	for _, tt := range tests {
		if _, err := Test(tt.null, tt.x, Options{}); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: error = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

// TestTestBoundaries pins Test at the edges of its rules: exactly
// DefaultMinNull (or MinNull) null values is enough for the t-predictive;
// a single null value has SD 0, not NaN (NaN is not JSON-encodable); a
// spread within 1e-12 of the mean's magnitude counts as no spread, so the
// empirical p-value is used and SD is reported as 0.
func TestTestBoundaries(t *testing.T) {
	const big = 1e6
	ulp := math.Nextafter(big, 2*big) - big
	tests := []struct {
		name   string
		null   [][]float64
		x      float64
		opts   Options
		method Method
		p, sd  float64 // p, sd < 0: not checked
		err    error
	}{
		// Gaussian predictive on (1, 2, 3), x = 5: t = 3/√(1·4/3) on 2 df;
		// 1 − F₂(t) = ½(1 − t/√(2 + t²)).
		{"exactly DefaultMinNull", col(1, 2, 3), 5, Options{Predictive: PredictiveGaussian}, MethodT,
			0.5 * (1 - (3/math.Sqrt(4.0/3))/math.Sqrt(2+27.0/4)), -1, nil},
		{"exactly MinNull 5", col(1, 2, 3, 4, 5), 6, Options{MinNull: 5, Predictive: PredictiveGaussian}, MethodT,
			0.07915121168772891, -1, nil},
		{"one below MinNull 5", col(1, 2, 3, 4), 6, Options{MinNull: 5}, MethodInsufficient, 1, -1, ErrInsufficientNull},
		{"single null value", col(0.25), 1, Options{}, MethodInsufficient, 1, 0, ErrInsufficientNull},
		// Five distinct values one ulp apart at 10⁶: SD ≈ 1.6e-10 > 0 but
		// below 1e-12·10⁶, so empirical, (1 + 0)/(5 + 1).
		{"spread below rounding noise", col(big, big+ulp, big+2*ulp, big+3*ulp, big+4*ulp), big + 1, Options{}, MethodEmpirical,
			1.0 / 6, 0, nil},
	}
	for _, tt := range tests {
		res, err := Test(tt.null, []float64{tt.x}, tt.opts)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.err)
		}
		s := res.Stats[0]
		if s.Method != tt.method || !approx(s.P, tt.p, 1e-9) {
			t.Errorf("%s: method %s, p %v; want %s, %v", tt.name, s.Method, s.P, tt.method, tt.p)
		}
		if tt.sd >= 0 && s.SD != tt.sd {
			t.Errorf("%s: SD = %v, want %v", tt.name, s.SD, tt.sd)
		}
		if _, err := json.Marshal(res); err != nil {
			t.Errorf("%s: result not JSON-encodable: %v", tt.name, err)
		}
	}
}

// TestTestBestTie checks that when statistics tie for the smallest p-value
// Best names the first of them (the audit reports it as the deciding
// statistic), including when every statistic is insufficient (all P = 1).
func TestTestBestTie(t *testing.T) {
	// Statistics 1 and 2 have the same null; statistic 0 another.
	null := [][]float64{{0.1, 0.3, 0.3}, {0.2, 1.1, 1.1}, {0.4, -0.4, -0.4}, {0.3, 0.8, 0.8}, {0.5, 0.2, 0.2}}
	tests := []struct {
		name    string
		null    [][]float64
		suspect []float64
		best    int
	}{
		{"tied smallest p", null, []float64{0, 2.4, 2.4}, 1},
		{"smallest last, no tie", null, []float64{0, 0, 2.4}, 2},
		{"all insufficient", null[:2], []float64{5, 5, 5}, 0},
	}
	for _, tt := range tests {
		res, _ := Test(tt.null, tt.suspect, Options{})
		if res.Best != tt.best {
			t.Errorf("%s: Best = %d (p %v), want %d", tt.name, res.Best, res.Stats, tt.best)
		}
	}
}
