package watermark

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// near returns n probes of d features and teacher outputs over c classes
// whose top 2 nearly tie (the boundary probes the test is meant for).
func near(rng *rand.Rand, n, d, c int) (x, p blas32.General) {
	x = blas32.General{Rows: n, Cols: d, Stride: d, Data: make([]float32, n*d)}
	p = blas32.General{Rows: n, Cols: c, Stride: c, Data: make([]float32, n*c)}
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	for i := 0; i < n; i++ {
		a := rng.IntN(c)
		b := (a + 1 + rng.IntN(c-1)) % c
		row := p.Data[i*c : (i+1)*c]
		rest := float32(0.1) / float32(c-2)
		for j := range row {
			row[j] = rest
		}
		gap := float32(0.02 * rng.Float64())
		row[a], row[b] = 0.45+gap, 0.45-gap
	}
	return x, p
}

func TestDeriveKey(t *testing.T) {
	m := model.NewMLP([]int{4, 3, 2}, model.ActReLU, []string{"a", "b"}, rand.New(rand.NewPCG(1, 1)))
	k1, k2 := DeriveKey(m), DeriveKey(m)
	if k1 != k2 {
		t.Fatalf("DeriveKey not deterministic: %x vs %x", k1, k2)
	}
	m.Norm = model.Normalization{Mean: []float32{0, 1, 2, 3}, Std: []float32{1, 2, 3, 4}}
	base := DeriveKey(m)
	// Each part of the model the key covers changes it by one ulp.
	for _, tt := range []struct {
		name string
		v    []float32
		i    int
	}{
		{"weight", m.Theta, 3},
		{"mean", m.Norm.Mean, 2},
		{"deviation", m.Norm.Std, 1},
	} {
		old := tt.v[tt.i]
		tt.v[tt.i] = math.Nextafter32(old, 10)
		if DeriveKey(m) == base {
			t.Errorf("DeriveKey unchanged by a one-ulp %s change", tt.name)
		}
		tt.v[tt.i] = old
	}
	if DeriveKey(m) != base {
		t.Errorf("DeriveKey changed after the edits were undone")
	}
}

func TestKeyText(t *testing.T) {
	var k Key
	for i := range k {
		k[i] = byte(i * 7)
	}
	b, _ := k.MarshalText()
	var got Key
	if err := got.UnmarshalText(b); err != nil || got != k {
		t.Fatalf("round trip: got %x, %v; want %x", got, err, k)
	}
	for _, bad := range []string{"", "00", string(b[:63]) + "g", string(b) + "00"} {
		if err := got.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q): got nil error, want one", bad)
		}
	}
}

func FuzzKeyText(f *testing.F) {
	f.Add([]byte("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"))
	f.Add([]byte("xyz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var k Key
		if err := k.UnmarshalText(b); err != nil {
			return
		}
		enc, _ := k.MarshalText()
		var k2 Key
		if err := k2.UnmarshalText(enc); err != nil || k2 != k {
			t.Fatalf("re-decode: got %x, %v; want %x", k2, err, k)
		}
	})
}

func TestLabelAndServe(t *testing.T) {
	m := model.NewMLP([]int{6, 8, 4}, model.ActTanh, []string{"a", "b", "c", "d"}, rand.New(rand.NewPCG(3, 3)))
	mk := ForModel(m)
	rng := rand.New(rand.NewPCG(1, 2))
	x := blas32.General{Rows: 200, Cols: 6, Stride: 6, Data: make([]float32, 1200)}
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	ctx := context.Background()
	p, err := m.Predict(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(m, mk, 3)
	q, err := s.Predict(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for i := 0; i < x.Rows; i++ {
		xi, pi := x.Data[i*6:(i+1)*6], p.Data[i*4:(i+1)*4]
		if got, want := mk.Label(xi, pi, 0), model.Argmax(pi); got != want {
			t.Fatalf("row %d: Label with ε=0 = %d, want argmax %d", i, got, want)
		}
		want := mk.Label(xi, pi, 3)
		var sum float32
		for c, v := range q.Data[i*4 : (i+1)*4] {
			sum += v
			if (c == want) != (v == 1) {
				t.Fatalf("row %d: served %v, want one-hot of %d", i, q.Data[i*4:(i+1)*4], want)
			}
		}
		if sum != 1 {
			t.Fatalf("row %d: served row sums to %g", i, sum)
		}
		if want != model.Argmax(pi) {
			changed++
		}
	}
	if changed == 0 || changed == x.Rows {
		t.Errorf("ε=3 changed %d of %d labels, want some but not all", changed, x.Rows)
	}
}

// TestPanelNull checks the p-value's validity: suspects whose answers do
// not depend on the key (each drawn with a fresh key, as the guarantee is
// over the key's draw) have p ≤ α at most α of the time, within binomial
// slack, tested as they are and through a fixed weighing far from uniform
// (TestWeighted).
func TestPanelNull(t *testing.T) {
	const n, trials, decoys = 60, 400, 99
	rng := rand.New(rand.NewPCG(7, 8))
	scales := make(scaleWeigher, n)
	for i := range scales {
		scales[i] = math.Exp(2 * rng.NormFloat64())
	}
	for _, tt := range []struct {
		name string
		w    Weigher
	}{{"unweighed", nil}, {"weighed", scales}} {
		count := map[float64]int{0.01: 0, 0.05: 0, 0.1: 0}
		for trial := 0; trial < trials; trial++ {
			x, p := near(rng, n, 8, 4)
			var k Key
			for i := range k {
				k[i] = byte(rng.Uint32())
			}
			mk := New(k, 8, 4, model.Normalization{})
			pan, err := NewPanel(mk, x, p, decoys)
			if err != nil {
				t.Fatal(err)
			}
			labels := make([]int, x.Rows)
			for i := range labels {
				row := p.Data[i*4 : (i+1)*4]
				labels[i] = model.Argmax(row)
				if rng.Float64() < 0.4 { // an independent model: often the runner-up
					labels[i] = pan.top2[i]
				}
			}
			r, err := pan.TestWeighted(oneHot(labels, 4), nil, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			for a := range count {
				if r.P <= a {
					count[a]++
				}
			}
		}
		for a, c := range count {
			// mean + 3 sd of Binomial(trials, a)
			slack := float64(trials)*a + 3*math.Sqrt(float64(trials)*a*(1-a))
			if float64(c) > slack {
				t.Errorf("%s, α=%g: %d of %d null suspects had p ≤ α, want ≤ %.1f", tt.name, a, c, trials, slack)
			}
			if a == 0.1 && c < trials/40 {
				t.Errorf("%s, α=%g: only %d of %d null p-values ≤ α: the test looks too conservative", tt.name, a, c, trials)
			}
		}
	}
}

func TestPanelPower(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x, p := near(rng, 80, 8, 4)
	mk := New(Key{1, 2, 3}, 8, 4, model.Normalization{})
	pan, err := NewPanel(mk, x, p, 199)
	if err != nil {
		t.Fatal(err)
	}
	labels := make([]int, x.Rows)
	for i := range labels {
		labels[i] = mk.Label(x.Data[i*8:(i+1)*8], p.Data[i*4:(i+1)*4], 1)
	}
	r, err := pan.Test(oneHot(labels, 4), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1.0 / 200; r.P != want || r.Z < 4 {
		t.Errorf("marked suspect: p = %g, z = %.1f; want p = %g, z ≥ 4", r.P, r.Z, want)
	}
	if _, err := pan.Test(oneHot(labels[1:], 4), nil); err == nil {
		t.Errorf("Test with too few labels: got nil error")
	}
	if _, err := NewPanel(mk, x, blas32.General{Rows: 1, Cols: 4, Stride: 4, Data: make([]float32, 4)}, 9); err == nil {
		t.Errorf("NewPanel with mismatched rows: got nil error")
	}
}

func BenchmarkPanel(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, p := near(rng, 100, 64, 10)
	mk := New(Key{9}, 64, 10, model.Normalization{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPanel(mk, x, p, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// oneHot returns labels as one-hot rows over c classes.
func oneHot(labels []int, c int) blas32.General {
	m := blas32.General{Rows: len(labels), Cols: c, Stride: c, Data: make([]float32, len(labels)*c)}
	for i, l := range labels {
		m.Data[i*c+l] = 1
	}
	return m
}

func TestLean(t *testing.T) {
	x := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{1, 2, 3, 4}}
	teacher := blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: []float32{0.5, 0.4, 0.1, 0.1, 0.45, 0.45}}
	pan, err := NewPanel(New(Key{1}, 2, 3, model.Normalization{}), x, teacher, 9)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		out    []float32
		want   []float64
		probes int // Result.Probes: probes leaning to one of the top 2
	}{
		{"one-hot top-1, runner-up", []float32{1, 0, 0, 0, 0, 1}, []float64{LeanClip, -LeanClip}, 2},
		{"neither", []float32{0, 0, 1, 1, 0, 0}, []float64{0, 0}, 0},
		{"top-1 on one probe only", []float32{1, 0, 0, 1, 0, 0}, []float64{LeanClip, 0}, 1},
		{"soft", []float32{0.5, 0.4, 0.1, 0.2, 0.5, 0.3}, []float64{math.Log(0.500001 / 0.400001), math.Log(0.500001 / 0.300001)}, 2},
	}
	for _, tt := range tests {
		got, err := pan.Lean(blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: tt.out})
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-5 {
				t.Errorf("%s: lean %v, want %v", tt.name, got, tt.want)
				break
			}
		}
		// Probes counts the leaning probes before centring.
		r, err := pan.TestLean(got, []float64{0.5, 0.5}, nil)
		if err != nil || r.Probes != tt.probes {
			t.Errorf("%s: TestLean probes %d (err %v), want %d", tt.name, r.Probes, err, tt.probes)
		}
	}
	if _, err := pan.Lean(blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: make([]float32, 4)}); err == nil {
		t.Errorf("Lean with too few classes: got nil error")
	}
	// A one-class teacher has no runner-up: every lean is 0, no panic.
	one := blas32.General{Rows: 2, Cols: 1, Stride: 1, Data: []float32{1, 1}}
	pan1, err := NewPanel(New(Key{2}, 2, 1, model.Normalization{}), x, one, 9)
	if err != nil {
		t.Fatal(err)
	}
	if y, err := pan1.Lean(one); err != nil || y[0] != 0 || y[1] != 0 {
		t.Errorf("one class: lean %v, %v; want zeros", y, err)
	}
}

// TestNonFinite checks that NaN, infinite or negative inputs give an
// ErrNonFinite error, never a p-value (a NaN statistic used to beat every
// decoy and get the smallest p-value, 1/(decoys+1)).
func TestNonFinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const d, c, n = 8, 4, 30
	x, teacher := near(rng, n, d, c)
	mk := New(Key{1}, d, c, model.Normalization{})
	pan, err := NewPanel(mk, x, teacher, 99)
	if err != nil {
		t.Fatal(err)
	}
	uniform := func() blas32.General {
		out := blas32.General{Rows: n, Cols: c, Stride: c, Data: make([]float32, n*c)}
		for i := range out.Data {
			out.Data[i] = 0.25
		}
		return out
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name   string
		edit   func(out blas32.General) // changes the suspect's outputs
		center []float64
	}{
		{"NaN outputs", func(o blas32.General) { copy(o.Data[:c], []float32{nan, nan, nan, nan}) }, nil},
		{"one NaN output", func(o blas32.General) { o.Data[5*c+2] = nan }, nil},
		{"infinite output", func(o blas32.General) { o.Data[3] = inf }, nil},
		{"negative probabilities", func(o blas32.General) { copy(o.Data[:c], []float32{-0.5, -0.2, 0.1, 0.4}) }, nil},
		{"NaN centring value", func(blas32.General) {}, func() []float64 { v := make([]float64, n); v[3] = math.NaN(); return v }()},
		{"infinite centring value", func(blas32.General) {}, func() []float64 { v := make([]float64, n); v[0] = math.Inf(-1); return v }()},
	}
	for _, tt := range tests {
		out := uniform()
		tt.edit(out)
		r, err := pan.Test(out, tt.center)
		if !errors.Is(err, ErrNonFinite) {
			t.Errorf("%s: p = %v, err = %v; want an error wrapping ErrNonFinite", tt.name, r.P, err)
		}
		if tt.center == nil {
			if _, err := pan.Lean(out); !errors.Is(err, ErrNonFinite) {
				t.Errorf("%s: Lean err = %v, want ErrNonFinite", tt.name, err)
			}
		}
	}
	// The same outputs, finite, test fine: the uniform suspect leans nowhere.
	if r, err := pan.Test(uniform(), make([]float64, n)); err != nil || r.P != 1 {
		t.Errorf("uniform suspect: p = %v, err = %v; want p = 1, no error", r.P, err)
	}
	// A panel built on non-finite probes or teacher outputs is refused.
	bad := blas32.General{Rows: n, Cols: d, Stride: d, Data: append([]float32(nil), x.Data...)}
	bad.Data[7] = nan
	if _, err := NewPanel(mk, bad, teacher, 9); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN probe feature: err = %v, want ErrNonFinite", err)
	}
	nanStd := New(Key{1}, d, c, model.Normalization{Mean: make([]float32, d), Std: []float32{1, 1, nan, 1, 1, 1, 1, 1}})
	if _, err := NewPanel(nanStd, x, teacher, 9); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN normalisation: err = %v, want ErrNonFinite", err)
	}
	badT := blas32.General{Rows: n, Cols: c, Stride: c, Data: append([]float32(nil), teacher.Data...)}
	badT.Data[c+1] = -0.1
	if _, err := NewPanel(mk, x, badT, 9); !errors.Is(err, ErrNonFinite) {
		t.Errorf("negative teacher output: err = %v, want ErrNonFinite", err)
	}
}

// scaleWeigher multiplies a lean by fixed per-probe factors (a stand-in
// for a whitening: any fixed linear map).
type scaleWeigher []float64

func (s scaleWeigher) Weigh(dst, y []float64) {
	for i, v := range y {
		dst[i] = s[i] * v
	}
}

// TestWeighted checks that TestWeighted with the identity is Test, and
// that a non-finite weighed lean gives ErrNonFinite, never a p-value
// (TestPanelNull checks a weighing's validity).
func TestWeighted(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 60
	x, p := near(rng, n, 8, 4)
	pan, err := NewPanel(New(Key{5}, 8, 4, model.Normalization{}), x, p, 99)
	if err != nil {
		t.Fatal(err)
	}
	ones := make(scaleWeigher, n)
	for i := range ones {
		ones[i] = 1
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = pan.top1[i]
		if rng.Float64() < 0.4 {
			labels[i] = pan.top2[i]
		}
	}
	out := oneHot(labels, 4)
	plain, err1 := pan.Test(out, nil)
	same, err2 := pan.TestWeighted(out, nil, ones)
	if err1 != nil || err2 != nil || plain != same {
		t.Errorf("identity weighing: got %+v (%v), want Test's %+v (%v)", same, err2, plain, err1)
	}
	bad := append(scaleWeigher(nil), ones...)
	bad[3] = math.Inf(1)
	if r, err := pan.TestWeighted(p, nil, bad); !errors.Is(err, ErrNonFinite) {
		t.Errorf("infinite weighed lean: p = %v, err = %v; want an error wrapping ErrNonFinite", r.P, err)
	}
}

// TestNewPanelContext checks that a done context stops the panel with its
// error, and that a live one gives NewPanel's panel.
func TestNewPanelContext(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, p := near(rng, 40, 8, 4)
	mk := New(Key{1, 2, 3}, 8, 4, model.Normalization{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if pan, err := NewPanelContext(ctx, mk, x, p, 999); pan != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("NewPanelContext with a cancelled context = %v, %v; want nil, context.Canceled", pan, err)
	}
	got, err := NewPanelContext(context.Background(), mk, x, p, 999)
	if err != nil {
		t.Fatal(err)
	}
	want, err := NewPanel(mk, x, p, 999)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Tilt(), want.Tilt()) || got.Decoys() != want.Decoys() {
		t.Error("NewPanelContext and NewPanel prepared different panels")
	}
}
