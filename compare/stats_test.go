package compare

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/lineage-audit/lineage/probe"
)

func handPair() (teacher, suspect blas32.General, kinds []probe.Kind) {
	teacher = blas32.General{Rows: 4, Cols: 3, Stride: 3, Data: []float32{
		0.7, 0.2, 0.1, // top 0
		0.1, 0.8, 0.1, // top 1
		0.2, 0.2, 0.6, // top 2 (a teacher mistake)
		0.5, 0.5, 0, // top 0 (tie)
	}}
	suspect = blas32.General{Rows: 4, Cols: 3, Stride: 3, Data: []float32{
		0.1, 0.3, 0.6, // top 2: disagrees, JS 0.33275…
		0.1, 0.8, 0.1, // agrees, JS 0
		0.2, 0.2, 0.6, // agrees with the mistake, JS 0
		0, 0.5, 0.5, // top 1: disagrees, JS 0.5
	}}
	kinds = []probe.Kind{probe.Data, probe.Data, probe.Mistake, probe.Noise}
	return
}

func TestCompute(t *testing.T) {
	teacher, suspect, kinds := handPair()
	st, err := Compute(teacher, suspect, kinds)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	const js0 = 0.33275110160267973
	want := map[string]Value{
		"agreement":         {0.5, 4},
		"js":                {(js0 + 0.5) / 4, 4},
		"agreement/data":    {0.5, 2},
		"js/data":           {js0 / 2, 2},
		"agreement/mistake": {1, 1},
		"js/mistake":        {0, 1},
		"agreement/noise":   {0, 1},
		"js/noise":          {0.5, 1},
		"mistake_agreement": {1, 1},
		"js_tfit":           {-1, 4}, // checked separately
		"js_tfit/data":      {-1, 2},
		"js_tfit/mistake":   {-1, 1},
		"js_tfit/noise":     {-1, 1},
		// soft agreement depends on the fitted temperature: checked in
		// TestSoftAgreement.
		"soft_agreement":         {-1, 4},
		"soft_agreement/data":    {-1, 2},
		"soft_agreement/mistake": {-1, 1},
		"soft_agreement/noise":   {-1, 1},
	}
	if got, w := st.Keys(), sortedKeys(want); !reflect.DeepEqual(got, w) {
		t.Fatalf("keys = %v, want %v", got, w)
	}
	for k, w := range want {
		g := st.Values[k]
		if g.N != w.N || (w.Value >= 0 && !approx(g.Value, w.Value, 1e-6)) {
			t.Errorf("%s = %+v, want %+v", k, g, w)
		}
	}
	if jt := st.Values["js_tfit"].Value; jt > st.Values["js"].Value+1e-12 {
		t.Errorf("js_tfit = %v > js = %v", jt, st.Values["js"].Value)
	}
	if st.Probes != 4 || st.Classes != 3 || st.LabelOnly || st.Degenerate != "" {
		t.Errorf("Stats header = %+v", st)
	}
	// Similarities: agreement 2/4 → logit(2.5/5) = 0; mistake 1/1 →
	// logit(1.5/2) = log 3; js → −log(js + 1e-6).
	vec, err := st.Vector([]string{"agreement", "mistake_agreement", "js"})
	if err != nil {
		t.Fatal(err)
	}
	wantVec := []float64{0, math.Log(3), -math.Log((js0+0.5)/4 + 1e-6)}
	for i := range vec {
		if !approx(vec[i], wantVec[i], 1e-6) {
			t.Errorf("Vector[%d] = %v, want %v", i, vec[i], wantVec[i])
		}
	}
	if _, err := st.Vector([]string{"agreement/boundary"}); !errors.Is(err, ErrMissing) {
		t.Errorf("Vector(absent) error = %v, want ErrMissing", err)
	}
}

func sortedKeys(m map[string]Value) []string {
	s := Stats{Values: m}
	return s.Keys()
}

func TestComputeTemperature(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	teacher := randMatrix(rng, 120, 10, 3)
	suspect := rescaledCopy(teacher, 4) // a flattened copy
	kinds := make([]probe.Kind, 120)
	for i := range kinds {
		kinds[i] = probe.Data
	}
	st, err := Compute(teacher, suspect, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if !approx(st.Temperature, 0.25, 1e-3) || st.Values["js_tfit"].Value > 1e-6 || st.Values["agreement"].Value != 1 {
		t.Errorf("flattened copy: T = %v, js_tfit = %v, agreement = %v; want 0.25, ~0, 1",
			st.Temperature, st.Values["js_tfit"].Value, st.Values["agreement"].Value)
	}
	if st.Values["js"].Value < 0.01 {
		t.Errorf("flattened copy: js = %v, want clearly > 0", st.Values["js"].Value)
	}
	lab, err := Compute(teacher, oneHot(teacher), kinds)
	if err != nil {
		t.Fatal(err)
	}
	if !lab.LabelOnly || lab.Temperature != 1 {
		t.Errorf("label-only suspect: LabelOnly = %v, T = %v; want true, 1", lab.LabelOnly, lab.Temperature)
	}
}

func TestComputeErrors(t *testing.T) {
	teacher, suspect, kinds := handPair()
	short := blas32.General{Rows: 3, Cols: 3, Stride: 3, Data: suspect.Data[:9]}
	narrow := blas32.General{Rows: 4, Cols: 2, Stride: 2, Data: make([]float32, 8)}
	bad := blas32.General{Rows: 4, Cols: 3, Stride: 3, Data: append([]float32(nil), suspect.Data...)}
	bad.Data[4] = float32(math.NaN())
	constant := blas32.General{Rows: 4, Cols: 3, Stride: 3, Data: []float32{
		0.6, 0.3, 0.1, 0.5, 0.4, 0.1, 0.9, 0.05, 0.05, 0.4, 0.3, 0.3}}
	tests := []struct {
		name    string
		s       blas32.General
		kinds   []probe.Kind
		wantErr error
		degen   string
	}{
		{"rows", short, kinds, ErrShape, ""},
		{"cols", narrow, kinds, ErrShape, ""},
		{"kinds", suspect, kinds[:3], ErrShape, ""},
		{"nan", bad, kinds, ErrDegenerate, ""},
		{"constant", constant, kinds, nil, ReasonConstant},
	}
	for _, tt := range tests {
		st, err := Compute(teacher, tt.s, tt.kinds)
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: error = %v, want %v", tt.name, err, tt.wantErr)
		}
		if st.Degenerate != tt.degen {
			t.Errorf("%s: Degenerate = %q, want %q", tt.name, st.Degenerate, tt.degen)
		}
	}
}

func TestSimilarity(t *testing.T) {
	tests := []struct {
		stat Stat
		v    Value
		want float64
	}{
		{StatAgreement, Value{1, 9}, math.Log(9.5 / 0.5)},           // (9+½)/10 = 0.95
		{StatAgreement, Value{0, 9}, math.Log(0.5 / 9.5)},           // (0+½)/10 = 0.05
		{StatAgreement, Value{0.5, 10}, 0},                          // (5+½)/11 = ½: log-odds 0
		{StatMistakeAgreement, Value{0.25, 3}, math.Log(1.5 / 2.5)}, // k = round(0.75) = 1 → 1.5/4
		{StatJS, Value{0, 5}, -math.Log(1e-6)},
		{StatJSTFit, Value{0.1, 5}, -math.Log(0.1 + 1e-6)},
		// Soft agreement is a mean probability: k = 3.3 is not rounded.
		{StatSoftAgreement, Value{0.33, 10}, math.Log(3.8 / 7.2)},
		// Agreement outside [0, 1] counts as the nearer end.
		{StatAgreement, Value{1.5, 9}, math.Log(9.5 / 0.5)},
		{StatAgreement, Value{-0.2, 9}, math.Log(0.5 / 9.5)},
		{StatAgreement, Value{0.5, 0}, math.NaN()},
		{Stat("bogus"), Value{0.5, 10}, math.NaN()},
	}
	for _, tt := range tests {
		if got := Similarity(tt.stat, tt.v); !approx(got, tt.want, 1e-12) {
			t.Errorf("Similarity(%s, %+v) = %v, want %v", tt.stat, tt.v, got, tt.want)
		}
	}
	// Orientation: more agreement / less divergence is more similar.
	if !(Similarity(StatAgreement, Value{0.9, 100}) > Similarity(StatAgreement, Value{0.8, 100})) {
		t.Error("agreement similarity not increasing")
	}
	if !(Similarity(StatJS, Value{0.01, 100}) > Similarity(StatJS, Value{0.02, 100})) {
		t.Error("js similarity not decreasing in js")
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, c := range []struct {
		s Stat
		k probe.Kind
	}{{StatJS, ""}, {StatAgreement, probe.Boundary}, {StatJSTFit, probe.Adversarial}} {
		s, k := ParseKey(Key(c.s, c.k))
		if s != c.s || k != c.k {
			t.Errorf("ParseKey(Key(%q, %q)) = %q, %q", c.s, c.k, s, k)
		}
	}
}

func TestStatsJSON(t *testing.T) {
	teacher, suspect, kinds := handPair()
	st, err := Compute(teacher, suspect, kinds)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	var back Stats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal: %v", err)
	}
	if !reflect.DeepEqual(back, st) {
		t.Errorf("JSON round trip:\n got %+v\nwant %+v", back, st)
	}
}

func TestSoftAgreement(t *testing.T) {
	// A label-only suspect: soft agreement equals agreement.
	teacher := blas32.General{Rows: 3, Cols: 2, Stride: 2, Data: []float32{0.9, 0.1, 0.2, 0.8, 0.6, 0.4}}
	hard := blas32.General{Rows: 3, Cols: 2, Stride: 2, Data: []float32{1, 0, 0, 1, 0, 1}}
	kinds := []probe.Kind{probe.Data, probe.Data, probe.Data}
	st, err := Compute(teacher, hard, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Values["soft_agreement"].Value, st.Values["agreement"].Value; !approx(got, want, 1e-9) {
		t.Errorf("label-only soft agreement = %v, want agreement %v", got, want)
	}
	// The teacher itself: soft agreement is its mean top-1 probability.
	st, err = Compute(teacher, teacher, kinds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Values["soft_agreement"].Value, (0.9+0.8+0.6)/3; !approx(got, want, 1e-6) {
		t.Errorf("self soft agreement = %v, want %v", got, want)
	}
	// Similarity keeps the fractional count: more mass, more similar.
	lo := Similarity(StatSoftAgreement, Value{0.50, 100})
	hi := Similarity(StatSoftAgreement, Value{0.505, 100})
	if !(hi > lo) {
		t.Errorf("Similarity(soft 0.505) = %v, not above Similarity(soft 0.50) = %v", hi, lo)
	}
}

// TestComputeAt checks that ComputeAt at the temperature Compute fits
// reproduces Compute, and that a given temperature is used as it is.
func TestComputeAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	teacher := randMatrix(rng, 50, 6, 3)
	suspect := randMatrix(rng, 50, 6, 3)
	kinds := make([]probe.Kind, 50)
	for i := range kinds {
		kinds[i] = probe.Mixup
	}
	want, err := Compute(teacher, suspect, kinds)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ComputeAt(teacher, suspect, kinds, want.Temperature)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want.Values {
		if g := got.Values[k]; math.Abs(g.Value-w.Value) > 1e-12 || g.N != w.N {
			t.Errorf("%s: got %+v, want %+v", k, g, w)
		}
	}
	at2, err := ComputeAt(teacher, suspect, kinds, 2)
	if err != nil {
		t.Fatal(err)
	}
	if at2.Temperature != 2 {
		t.Errorf("temperature: got %g, want 2", at2.Temperature)
	}
	if a, b := at2.Values[Key(StatAgreement, "")], want.Values[Key(StatAgreement, "")]; a != b {
		t.Errorf("agreement does not depend on the temperature: got %+v, want %+v", a, b)
	}
}
