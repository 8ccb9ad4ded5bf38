package model

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestNewMLPLayout(t *testing.T) {
	m := NewMLP([]int{5, 7, 3}, ActReLU, nil, testRNG(1))
	if got, want := len(m.Theta), 5*7+7+7*3+3; got != want {
		t.Fatalf("len(Theta) = %d, want %d", got, want)
	}
	if got, want := m.Labels, []string{"0", "1", "2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Labels = %v, want %v", got, want)
	}
	// The views tile Theta in the order W0, B0, W1, B1.
	for i := range m.Theta {
		m.Theta[i] = float32(i)
	}
	checks := []struct {
		name      string
		got, want float32
	}{
		{"W0[0,0]", m.W(0).Data[0], 0},
		{"W0[6,4]", m.W(0).Data[6*5+4], 34},
		{"B0[0]", m.B(0)[0], 35},
		{"W1[0,0]", m.W(1).Data[0], 42},
		{"B1[2]", m.B(1)[2], 65},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if w := m.W(1); w.Rows != 3 || w.Cols != 7 || w.Stride != 7 {
		t.Errorf("W(1) is %d×%d stride %d, want 3×7 stride 7", w.Rows, w.Cols, w.Stride)
	}
}

func TestNewMLPInit(t *testing.T) {
	tests := []struct {
		act  Activation
		want float64 // std of W0
	}{
		{ActReLU, math.Sqrt(2.0 / 200)},
		{ActGELU, math.Sqrt(2.0 / 200)},
		{ActTanh, math.Sqrt(2.0 / 300)},
	}
	for _, tc := range tests {
		m := NewMLP([]int{200, 100, 4}, tc.act, nil, testRNG(2))
		w := m.W(0).Data
		var ss float64
		for _, v := range w {
			ss += float64(v) * float64(v)
		}
		if got := math.Sqrt(ss / float64(len(w))); math.Abs(got-tc.want) > 0.05*tc.want {
			t.Errorf("%s: std(W0) = %.4f, want %.4f ± 5%%", tc.act, got, tc.want)
		}
		for _, b := range m.B(0) {
			if b != 0 {
				t.Fatalf("%s: bias %v, want 0", tc.act, b)
			}
		}
	}
	a := NewMLP([]int{3, 4, 2}, ActReLU, nil, testRNG(7))
	b := NewMLP([]int{3, 4, 2}, ActReLU, nil, testRNG(7))
	c := NewMLP([]int{3, 4, 2}, ActReLU, nil, testRNG(8))
	if fmt.Sprint(a.Theta) != fmt.Sprint(b.Theta) {
		t.Error("same seed gave different weights")
	}
	if fmt.Sprint(a.Theta) == fmt.Sprint(c.Theta) {
		t.Error("different seeds gave the same weights")
	}
}

func TestNewMLPPanics(t *testing.T) {
	tests := []struct {
		name   string
		sizes  []int
		act    Activation
		labels []string
	}{
		{"one size", []int{3}, ActReLU, nil},
		{"zero width", []int{3, 0, 2}, ActReLU, nil},
		{"bad activation", []int{3, 2}, "sigmoid", nil},
		{"label count", []int{3, 2}, ActReLU, []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("NewMLP(%v, %q, %v) did not panic", tc.sizes, tc.act, tc.labels)
				}
			}()
			NewMLP(tc.sizes, tc.act, tc.labels, testRNG(1))
		})
	}
}

func TestPredictMatchesReference(t *testing.T) {
	for _, act := range []Activation{ActReLU, ActTanh, ActGELU} {
		rng := testRNG(3)
		m := NewMLP([]int{6, 9, 8, 4}, act, nil, rng)
		randomize(m, rng)
		x := randMatrix(rng, 700, 6, 2) // more than one predict chunk
		p, err := m.Predict(context.Background(), x)
		if err != nil {
			t.Fatal(err)
		}
		if p.Rows != 700 || p.Cols != 4 {
			t.Fatalf("%s: output %d×%d, want 700×4", act, p.Rows, p.Cols)
		}
		theta := toF64(m.Theta)
		for i := 0; i < x.Rows; i++ {
			want := refSoftmax(refLogits(m, theta, toF64(x.Data[i*6:(i+1)*6])))
			for j, w := range want {
				if got := float64(p.Data[i*4+j]); math.Abs(got-w) > 1e-5 {
					t.Fatalf("%s: p[%d,%d] = %v, want %v", act, i, j, got, w)
				}
			}
		}
	}
}

func TestPredictErrors(t *testing.T) {
	m := NewMLP([]int{3, 4, 2}, ActReLU, nil, testRNG(1))
	_, err := m.Predict(context.Background(), randMatrix(testRNG(1), 2, 4, 1))
	if !errors.Is(err, ErrShape) {
		t.Errorf("wrong input width: err = %v, want ErrShape", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = m.Predict(ctx, randMatrix(testRNG(1), 2, 3, 1))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v, want context.Canceled", err)
	}
	bad := m.Clone()
	bad.Theta = bad.Theta[:5]
	if _, err := bad.Predict(context.Background(), randMatrix(testRNG(1), 2, 3, 1)); !errors.Is(err, ErrShape) {
		t.Errorf("short Theta: err = %v, want ErrShape", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(m *MLP)
		want  string
	}{
		{"valid", func(m *MLP) {}, ""},
		{"NaN weight", func(m *MLP) { m.Theta[7] = float32(math.NaN()) }, "parameter 7 is NaN, want a finite number"},
		{"Inf bias", func(m *MLP) { m.B(1)[0] = float32(math.Inf(1)) }, "parameter 24 is +Inf, want a finite number"},
		{"duplicate labels", func(m *MLP) { m.Labels = []string{"x", "x"} }, `label "x" repeated (outputs 0 and 1)`},
		{"longest name", func(m *MLP) { m.Name = strings.Repeat("n", MaxNameBytes) }, ""},
		{"long name", func(m *MLP) { m.Name = strings.Repeat("n", 20<<20) }, "name is 20971520 bytes long, at most 1024 allowed"},
		{"long label", func(m *MLP) { m.Labels[1] = strings.Repeat("l", MaxNameBytes+1) }, "label 1 is 1025 bytes long, at most 1024 allowed"},
		{"tiny deviation", func(m *MLP) { m.Norm.Std = []float32{1, 1e-39, 1} }, "normalisation deviation 1 is 1e-39, too small: dividing by it overflows float32"},
		{"smallest usable deviation", func(m *MLP) { m.Norm.Std = []float32{1, 3e-39, 1} }, ""},
		{"zero deviation", func(m *MLP) { m.Norm.Std = []float32{1, 0, 1} }, "normalisation deviation 1 is 0, want a positive number (a feature constant in the training data, such as a blank pixel: give it 1, as lineage does)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMLP([]int{3, 4, 2}, ActReLU, nil, testRNG(1))
			tt.spoil(m)
			got := ""
			if err := m.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.want != "" {
				if err := Encode(io.Discard, m); err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Encode: got %v, want it to refuse the model", err)
				}
			}
		})
	}
}

func TestPredictConcurrent(t *testing.T) {
	rng := testRNG(4)
	m := NewMLP([]int{5, 16, 3}, ActGELU, nil, rng)
	xs := make([]blas32.General, 8)
	want := make([]blas32.General, len(xs))
	for i := range xs {
		xs[i] = randMatrix(rng, 10+i, 5, 1)
		var err error
		if want[i], err = m.Predict(context.Background(), xs[i]); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range xs {
		wg.Go(func() {
			for range 20 {
				got, err := m.Predict(context.Background(), xs[i])
				if err != nil || fmt.Sprint(got.Data) != fmt.Sprint(want[i].Data) {
					t.Errorf("concurrent Predict %d differs (err %v)", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestForwardBackwardNoAlloc(t *testing.T) {
	// Small enough that gonum's Sgemm runs serially (it allocates when
	// it parallelises); our own code must not allocate.
	rng := testRNG(5)
	m := NewMLP([]int{5, 7, 6, 3}, ActGELU, nil, rng)
	randomize(m, rng)
	x := randMatrix(rng, 8, 5, 1)
	dl := randMatrix(rng, 8, 3, 1)
	dX := randMatrix(rng, 8, 5, 1)
	dTheta := make([]float32, len(m.Theta))
	var tape Tape
	step := func() {
		m.Forward(&tape, x)
		m.Backward(&tape, dl, dTheta, dX)
	}
	step()
	if got := testing.AllocsPerRun(20, step); got != 0 {
		t.Errorf("Forward+Backward allocated %v times per run, want 0", got)
	}
}

func TestCloneAndInfo(t *testing.T) {
	m := NewMLP([]int{3, 4, 2}, ActTanh, []string{"no", "yes"}, testRNG(1))
	m.Name = "m"
	m.Norm = Normalization{Mean: []float32{1, 2, 3}, Std: []float32{1, 1, 2}}
	c := m.Clone()
	info, cinfo := m.Info(), c.Info()
	if info.Hash == "" || info.Hash != cinfo.Hash {
		t.Fatalf("Hash = %q, clone's %q: want equal and non-empty", info.Hash, cinfo.Hash)
	}
	if info.Params != len(m.Theta) || info.InputSize != 3 || info.Kind != Classifier {
		t.Errorf("Info = %+v, want Params %d, InputSize 3, Kind classifier", info, len(m.Theta))
	}
	c.Theta[0]++
	c.Norm.Mean[0]++
	if m.Theta[0] == c.Theta[0] || m.Norm.Mean[0] == c.Norm.Mean[0] {
		t.Error("Clone shares memory with the original")
	}
	if c.Info().Hash == info.Hash {
		t.Error("Hash did not change with the weights")
	}
}

// TestShortLabels checks that label lists in errors stay one bounded line:
// at most 12 labels, each at most 32 characters.
func TestShortLabels(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	tests := []struct {
		labels []string
		want   string
	}{
		{[]string{"a", "b"}, "[a b]"},
		{nil, "[]"},
		{DefaultLabels(5000), "[0 1 2 3 4 5 6 7 8 9 10 11 … (5000 labels)]"},
		{[]string{"a", long}, "[a " + strings.Repeat("x", 32) + "…]"},
	}
	for _, tt := range tests {
		if got := LabelList(tt.labels); got != tt.want {
			t.Errorf("LabelList(%d labels) = %.80q, want %.80q", len(tt.labels), got, tt.want)
		}
	}
}

// TestInfoNameFromFile checks that a model file without a name in its
// header is named by its file (errors said `model ""`), and that the file
// and its hash are unchanged.
func TestInfoNameFromFile(t *testing.T) {
	m := NewMLP([]int{2, 3}, ActReLU, nil, rand.New(rand.NewPCG(1, 2)))
	m.Name = ""
	path := filepath.Join(t.TempDir(), "nameless.lnm")
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if info := got.Info(); info.Name != "nameless" || info.Hash != m.Info().Hash {
		t.Errorf("Info() = name %q hash %.12s, want %q and the unnamed model's hash %.12s", info.Name, info.Hash, "nameless", m.Info().Hash)
	}
	if got.Name != "" {
		t.Errorf("Name = %q, want it left empty", got.Name)
	}
}

// TestLabelDiff checks that LabelDiff names where two lists differ that
// LabelList shows alike.
func TestLabelDiff(t *testing.T) {
	a, b := DefaultLabels(5000), DefaultLabels(5000)
	b[4000] = "x"
	if LabelList(a) != LabelList(b) {
		t.Fatal("the lists were meant to look alike")
	}
	tests := []struct {
		a, b []string
		want string
	}{
		{a, b, `label 4000 is "4000" vs "x"`},
		{a, a, ""},
		{a, a[:4999], "5000 vs 4999 labels"},
	}
	for _, tt := range tests {
		if got := LabelDiff(tt.a, tt.b); got != tt.want {
			t.Errorf("LabelDiff = %q, want %q", got, tt.want)
		}
	}
}

// TestInitUniform checks model.InitUniform's draw: every weight and bias
// of layer l within ±1/√fan_in, biases no longer zero, and the spread of a
// uniform draw (sd b/√3) to within 10 %.
func TestInitUniform(t *testing.T) {
	m := NewMLP([]int{64, 32, 10}, ActTanh, nil, rand.New(rand.NewPCG(1, 2)))
	InitUniform(m, rand.New(rand.NewPCG(3, 4)))
	for l := 0; l < m.NumLayers(); l++ {
		b := 1 / math.Sqrt(float64(m.Sizes[l]))
		var ss float64
		w := m.W(l).Data
		for _, v := range w {
			if math.Abs(float64(v)) >= b {
				t.Fatalf("layer %d: weight %g outside ±%g", l, v, b)
			}
			ss += float64(v) * float64(v)
		}
		if got, want := math.Sqrt(ss/float64(len(w))), b/math.Sqrt(3); math.Abs(got-want) > 0.1*want {
			t.Errorf("layer %d: weight sd %g, want %g ± 10%%", l, got, want)
		}
		zero := 0
		for _, v := range m.B(l) {
			if math.Abs(float64(v)) >= b {
				t.Fatalf("layer %d: bias %g outside ±%g", l, v, b)
			}
			if v == 0 {
				zero++
			}
		}
		if zero > 0 {
			t.Errorf("layer %d: %d zero biases, want none", l, zero)
		}
	}
}
