package compare

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestJSDivergence(t *testing.T) {
	tests := []struct {
		name string
		p, q []float32
		want float64
	}{
		// m = (¼, ½, ¼): ½[½·log2 2] + ½[½·log2 2] = ½.
		{"half overlap", []float32{0.5, 0.5, 0}, []float32{0, 0.5, 0.5}, 0.5},
		{"disjoint", []float32{1, 0}, []float32{0, 1}, 1},
		{"identical", []float32{0.2, 0.3, 0.5}, []float32{0.2, 0.3, 0.5}, 0},
		// Checked with scipy.spatial.distance.jensenshannon(p, q, base=2)**2.
		{"general", []float32{0.7, 0.2, 0.1}, []float32{0.1, 0.3, 0.6}, 0.33275110160267973},
		// Unnormalised rows are divided by their sums first.
		{"unnormalised", []float32{1, 1, 0}, []float32{0, 2, 2}, 0.5},
		{"nan", []float32{float32(math.NaN()), 1}, []float32{0.5, 0.5}, math.NaN()},
		{"negative", []float32{-0.1, 1.1}, []float32{0.5, 0.5}, math.NaN()},
		{"zero sum", []float32{0, 0}, []float32{0.5, 0.5}, math.NaN()},
	}
	for _, tt := range tests {
		got := JSDivergence(tt.p, tt.q)
		if !approx(got, tt.want, 1e-6) {
			t.Errorf("%s: JSDivergence = %v, want %v", tt.name, got, tt.want)
		}
		if back := JSDivergence(tt.q, tt.p); !approx(back, got, 1e-12) {
			t.Errorf("%s: JSDivergence not symmetric: %v vs %v", tt.name, got, back)
		}
	}
}

func TestJSDivergenceRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		p, q := randDist(rng, 10), randDist(rng, 10)
		if i%3 == 0 {
			p[rng.IntN(10)] = 0
		}
		js := JSDivergence(p, q)
		if !(js >= 0 && js <= 1) {
			t.Fatalf("JSDivergence(%v, %v) = %v, want in [0, 1]", p, q, js)
		}
	}
}

func TestKLDivergence(t *testing.T) {
	tests := []struct {
		name string
		p, q []float32
		want float64
	}{
		// scipy.stats.entropy(p, q, base=2).
		{"general", []float32{0.7, 0.2, 0.1}, []float32{0.1, 0.3, 0.6}, 1.589659695223976},
		{"identical", []float32{0.25, 0.75}, []float32{0.25, 0.75}, 0},
		// ½·log2(½/¼) + ½·log2(½/¾) = ½ + ½·log2(2/3).
		{"hand", []float32{0.5, 0.5}, []float32{0.25, 0.75}, 0.5 + 0.5*math.Log2(2.0/3)},
		{"zero in p", []float32{1, 0}, []float32{0.5, 0.5}, 1},
		{"zero in q", []float32{0.5, 0.5}, []float32{1, 0}, math.Inf(1)},
	}
	for _, tt := range tests {
		if got := KLDivergence(tt.p, tt.q); !approx(got, tt.want, 1e-6) {
			t.Errorf("%s: KLDivergence = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTop1(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		p    []float32
		want int
	}{
		{[]float32{0.1, 0.7, 0.2}, 1},
		{[]float32{0.4, 0.2, 0.4}, 0}, // tie → lowest index
		{[]float32{0.2, 0.4, 0.4}, 1},
		{[]float32{nan, 0.3, 0.7}, 2},
		{[]float32{nan}, -1},
		{nil, -1},
	}
	for _, tt := range tests {
		if got := Top1(tt.p); got != tt.want {
			t.Errorf("Top1(%v) = %d, want %d", tt.p, got, tt.want)
		}
	}
}

func TestRescale(t *testing.T) {
	tests := []struct {
		name string
		p    []float32
		T    float64
		want []float32
	}{
		// p^(1/T): (0.2², 0.8²)/(0.04+0.64) at T = ½.
		{"sharpen", []float32{0.2, 0.8}, 0.5, []float32{0.04 / 0.68, 0.64 / 0.68}},
		// √0.1, √0.9 normalised at T = 2.
		{"flatten", []float32{0.1, 0.9}, 2, []float32{0.25, 0.75}},
		{"zero stays zero", []float32{0, 0.5, 0.5}, 3, []float32{0, 0.5, 0.5}},
		{"identity renormalises", []float32{1, 3}, 1, []float32{0.25, 0.75}},
		{"tiny probabilities", []float32{1e-30, 1}, 0.05, []float32{0, 1}},
		{"all zero", []float32{0, 0}, 1, []float32{float32(math.NaN()), float32(math.NaN())}},
	}
	for _, tt := range tests {
		got := make([]float32, len(tt.p))
		Rescale(got, tt.p, tt.T)
		for i := range got {
			if !approx(float64(got[i]), float64(tt.want[i]), 1e-6) {
				t.Errorf("%s: Rescale(%v, %v) = %v, want %v", tt.name, tt.p, tt.T, got, tt.want)
				break
			}
		}
	}
	// Rescaling by T then by 1/T... composes: (p^(1/2))^(1/(1/2)) = p.
	p := []float32{0.05, 0.15, 0.8}
	q := make([]float32, 3)
	Rescale(q, p, 2)
	Rescale(q, q, 0.5) // aliasing allowed
	for i := range p {
		if !approx(float64(q[i]), float64(p[i]), 1e-6) {
			t.Errorf("Rescale round trip = %v, want %v", q, p)
			break
		}
	}
}

// rescaledCopy returns a copy of g with every row rescaled to temperature T.
func rescaledCopy(g blas32.General, T float64) blas32.General {
	out := blas32.General{Rows: g.Rows, Cols: g.Cols, Stride: g.Cols, Data: make([]float32, g.Rows*g.Cols)}
	for i := 0; i < g.Rows; i++ {
		Rescale(row(out, i), row(g, i), T)
	}
	return out
}

func TestFitTemperature(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	teacher := randMatrix(rng, 200, 10, 3)
	for _, T := range []float64{0.25, 0.5, 1, 2, 3, 8} {
		// The suspect serves the teacher at temperature T; FitTemperature
		// must find 1/T (which undoes it) and a divergence near 0.
		suspect := rescaledCopy(teacher, T)
		gotT, js := FitTemperature(teacher, suspect)
		if !approx(gotT, 1/T, 2e-3/T) || js > 1e-6 {
			t.Errorf("suspect at T=%v: FitTemperature = (%v, %v), want (%v, ~0)", T, gotT, js, 1/T)
		}
	}
	// Never worse than T = 1.
	noisy := randMatrix(rng, 200, 10, 2)
	T, js := FitTemperature(teacher, noisy)
	var js1 float64
	for i := 0; i < teacher.Rows; i++ {
		js1 += JSDivergence(row(teacher, i), row(noisy, i))
	}
	js1 /= float64(teacher.Rows)
	if js > js1+1e-12 || T < MinTemperature || T > MaxTemperature {
		t.Errorf("FitTemperature(noisy) = (%v, %v), want T in range and js <= %v", T, js, js1)
	}
	// Label-only suspects cannot be changed by rescaling: T = 1.
	labels := oneHot(teacher)
	if T, _ := FitTemperature(teacher, labels); T != 1 {
		t.Errorf("FitTemperature(label-only) T = %v, want 1", T)
	}
	// Deterministic.
	T2, js2 := FitTemperature(teacher, noisy)
	if T2 != T || js2 != js {
		t.Errorf("FitTemperature not deterministic: (%v,%v) then (%v,%v)", T, js, T2, js2)
	}
}

func TestLabelOnlyAndDegenerate(t *testing.T) {
	mk := func(rows, cols int, v ...float32) blas32.General {
		return blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: v}
	}
	tests := []struct {
		name      string
		p         blas32.General
		labelOnly bool
		reason    string
	}{
		{"fine", mk(2, 2, 0.9, 0.1, 0.2, 0.8), false, ""},
		{"labels", mk(2, 2, 1, 0, 0, 1), true, ""},
		{"labels within tol", mk(2, 2, 1-5e-7, 5e-7, 0, 1), true, ""},
		{"almost labels", mk(2, 2, 0.999, 0.001, 0, 1), false, ""},
		{"identical", mk(3, 2, 0.3, 0.7, 0.3, 0.7, 0.3, 0.7), false, ReasonIdentical},
		{"constant", mk(3, 2, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6), false, ReasonConstant},
		{"constant labels", mk(2, 2, 1, 0, 1, 0), true, ReasonIdentical},
		{"nan", mk(2, 2, 0.5, 0.5, float32(math.NaN()), 1), false, ReasonInvalid},
		{"empty", mk(0, 2), false, ReasonEmpty},
		{"single row", mk(1, 2, 0.5, 0.5), false, ""},
		{"a zero row", mk(2, 2, 1, 0, 0, 0), false, ReasonInvalid}, // no hot class: not a label
	}
	for _, tt := range tests {
		if got := LabelOnly(tt.p); got != tt.labelOnly {
			t.Errorf("%s: LabelOnly = %v, want %v", tt.name, got, tt.labelOnly)
		}
		err := CheckDegenerate(tt.p)
		var de *DegenerateError
		switch {
		case tt.reason == "" && err != nil:
			t.Errorf("%s: CheckDegenerate = %v, want nil", tt.name, err)
		case tt.reason != "" && (!errors.As(err, &de) || de.Reason != tt.reason || !errors.Is(err, ErrDegenerate)):
			t.Errorf("%s: CheckDegenerate = %v, want reason %q", tt.name, err, tt.reason)
		}
	}
}

// Helpers shared by the tests.

func approx(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	if math.IsInf(want, 0) {
		return got == want
	}
	return math.Abs(got-want) <= tol
}

func randDist(rng *rand.Rand, k int) []float32 {
	p := make([]float32, k)
	var s float64
	for i := range p {
		v := rng.ExpFloat64()
		p[i] = float32(v)
		s += v
	}
	for i := range p {
		p[i] = float32(float64(p[i]) / s)
	}
	return p
}

// randMatrix returns rows softmax(scale·N(0,1)) distributions.
func randMatrix(rng *rand.Rand, rows, cols int, scale float64) blas32.General {
	g := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)}
	logits := make([]float64, cols)
	for i := 0; i < rows; i++ {
		mx := math.Inf(-1)
		for j := range logits {
			logits[j] = scale * rng.NormFloat64()
			mx = math.Max(mx, logits[j])
		}
		var s float64
		for j := range logits {
			logits[j] = math.Exp(logits[j] - mx)
			s += logits[j]
		}
		for j := range logits {
			g.Data[i*cols+j] = float32(logits[j] / s)
		}
	}
	return g
}

func oneHot(g blas32.General) blas32.General {
	out := blas32.General{Rows: g.Rows, Cols: g.Cols, Stride: g.Cols, Data: make([]float32, g.Rows*g.Cols)}
	for i := 0; i < g.Rows; i++ {
		out.Data[i*g.Cols+Top1(row(g, i))] = 1
	}
	return out
}

func TestTotalVariation(t *testing.T) {
	for _, tt := range []struct {
		p, q []float32
		want float64
	}{
		{[]float32{0.5, 0.5, 0}, []float32{0.25, 0.5, 0.25}, 0.25},
		{[]float32{1, 0}, []float32{0, 1}, 1},
		{[]float32{0.2, 0.8}, []float32{0.2, 0.8}, 0},
	} {
		if got := TotalVariation(tt.p, tt.q); math.Abs(got-tt.want) > 1e-7 {
			t.Errorf("TotalVariation(%v, %v) = %v, want %v", tt.p, tt.q, got, tt.want)
		}
	}
}
