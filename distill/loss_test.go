package distill

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

func randRow(rng *rand.Rand, c int, scale float64) []float32 {
	z := make([]float32, c)
	for i := range z {
		z[i] = float32(rng.NormFloat64() * scale)
	}
	return z
}

func softmaxRow(z []float32) []float32 {
	q := make([]float64, len(z))
	softmax64(q, z, 1)
	p := make([]float32, len(z))
	for i := range q {
		p[i] = float32(q[i])
	}
	return p
}

// TestObjectiveGradient checks every loss's analytic gradient against a
// central finite difference, over temperatures, reveal modes and labels.
func TestObjectiveGradient(t *testing.T) {
	losses := []string{"kl", "rkl", "jsd:0.5", "jsd:0.1", "jsd:0.9", "tv", "mse", "ce"}
	temps := []float64{1, 2, 4}
	reveals := []string{"full", "topk:1", "topk:3", "label"}
	labels := []int{-1, 2}
	const c = 7
	rng := rand.New(rand.NewPCG(1, 2))
	ws := new(Workspace)
	for _, ls := range losses {
		loss, err := ParseLoss(ls)
		if err != nil {
			t.Fatal(err)
		}
		for _, T := range temps {
			for _, rs := range reveals {
				rv, err := model.ParseReveal(rs)
				if err != nil {
					t.Fatal(err)
				}
				for _, y := range labels {
					name := fmt.Sprintf("%s/T=%g/%s/y=%d", ls, T, rs, y)
					t.Run(name, func(t *testing.T) {
						o := Objective{Loss: loss, Temperature: T, Alpha: 0.7, Reveal: rv}
						teacher := make([]float32, c)
						rv.Apply(teacher, softmaxRow(randRow(rng, c, 2)))
						z := randRow(rng, c, 1.5)
						grad := make([]float32, c)
						o.Row(grad, z, teacher, y, ws)
						scratch := make([]float32, c)
						for i := range z {
							orig := z[i]
							z[i] = orig + 1e-3
							hi := float64(z[i])
							fp := o.Row(scratch, z, teacher, y, ws)
							z[i] = orig - 1e-3
							lo := float64(z[i])
							fm := o.Row(scratch, z, teacher, y, ws)
							z[i] = orig
							want := (fp - fm) / (hi - lo)
							got := float64(grad[i])
							tol := 2e-3 * math.Max(1, math.Abs(want))
							if loss.Kind == TV {
								tol = 5e-3 * T * T // subgradient: kinks are rare but FD is coarse
							}
							if math.Abs(got-want) > tol {
								t.Errorf("∂L/∂z[%d] = %.6g, finite difference %.6g (tol %.2g)", i, got, want, tol)
							}
						}
					})
				}
			}
		}
	}
}

// TestBatchGradient checks Batch's gradient of the mean loss against a
// central finite difference of the value it returns, on strided matrices
// with a row without a label, and for hard-label training (no teacher,
// every row labelled).
func TestBatchGradient(t *testing.T) {
	const n, c, stride = 3, 5, 7
	for _, tt := range []struct {
		name, loss string
		teacher    bool
	}{{"kl", "kl", true}, {"jsd:0.3", "jsd:0.3", true}, {"mse", "mse", true}, {"hard labels", "kl", false}} {
		t.Run(tt.name, func(t *testing.T) {
			loss, err := ParseLoss(tt.loss)
			if err != nil {
				t.Fatal(err)
			}
			o := Objective{Loss: loss, Temperature: 2, Alpha: 0.6}
			rng := rand.New(rand.NewPCG(5, 6))
			logits := blas32.General{Rows: n, Cols: c, Stride: stride, Data: make([]float32, n*stride)}
			var teacher blas32.General
			if tt.teacher {
				teacher = blas32.General{Rows: n, Cols: c, Stride: stride, Data: make([]float32, n*stride)}
			}
			for r := range n {
				copy(logits.Data[r*stride:], randRow(rng, c, 1.5))
				if tt.teacher {
					copy(teacher.Data[r*stride:], softmaxRow(randRow(rng, c, 2)))
				}
			}
			labels := []int{1, -1, 4}
			if !tt.teacher {
				labels[1] = 0
			}
			ws := new(Workspace)
			grad := blas32.General{Rows: n, Cols: c, Stride: stride, Data: make([]float32, n*stride)}
			o.Batch(grad, logits, teacher, labels, ws)
			scratch := blas32.General{Rows: n, Cols: c, Stride: stride, Data: make([]float32, n*stride)}
			for r := range n {
				for i := range c {
					z := &logits.Data[r*stride+i]
					orig := *z
					*z = orig + 1e-3
					hi := float64(*z)
					fp := o.Batch(scratch, logits, teacher, labels, ws)
					*z = orig - 1e-3
					lo := float64(*z)
					fm := o.Batch(scratch, logits, teacher, labels, ws)
					*z = orig
					want := (fp - fm) / (hi - lo)
					got := float64(grad.Data[r*stride+i])
					if tol := 2e-3 * math.Max(1, math.Abs(want)); math.Abs(got-want) > tol {
						t.Errorf("∂L/∂z[%d,%d] = %.6g, finite difference %.6g (tol %.2g)", r, i, got, want, tol)
					}
				}
			}
		})
	}
}

func TestHardLabelGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	z := randRow(rng, 5, 1)
	g := make([]float32, 5)
	v := Objective{}.Row(g, z, nil, 3, nil)
	p := softmaxRow(z)
	if want := -math.Log(float64(p[3])); math.Abs(v-want) > 1e-5 {
		t.Errorf("CE = %v, want %v", v, want)
	}
	for i := range g {
		want := float64(p[i])
		if i == 3 {
			want--
		}
		if math.Abs(float64(g[i])-want) > 1e-5 {
			t.Errorf("grad[%d] = %v, want %v", i, g[i], want)
		}
	}
}

// TestKLMatchesHinton checks the closed form T·(q_T − p_T) and the value
// T²·KL for full reveal.
func TestKLMatchesHinton(t *testing.T) {
	z := []float32{1, -0.5, 2, 0}
	teacher := []float32{0.1, 0.2, 0.6, 0.1}
	const T = 3
	o := Objective{Loss: Loss{Kind: KL}, Temperature: T}
	g := make([]float32, 4)
	v := o.Row(g, z, teacher, -1, nil)
	q := make([]float64, 4)
	softmax64(q, z, T)
	p := make([]float64, 4)
	temper(p, teacher, T)
	var kl float64
	for i := range p {
		kl += p[i] * math.Log(p[i]/q[i])
		if want := T * (q[i] - p[i]); math.Abs(float64(g[i])-want) > 1e-6 {
			t.Errorf("grad[%d] = %v, want %v", i, g[i], want)
		}
	}
	if want := T * T * kl; math.Abs(v-want) > 1e-9 {
		t.Errorf("value = %v, want %v", v, want)
	}
}

// TestJSDLimits checks the documented convention: β→0 gives KL(P‖Q) and
// β→1 gives KL(Q‖P).
func TestJSDLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 5; trial++ {
		z := randRow(rng, 6, 1)
		teacher := softmaxRow(randRow(rng, 6, 1))
		g := make([]float32, 6)
		kl := Objective{Loss: Loss{Kind: KL}}.Row(g, z, teacher, -1, nil)
		rkl := Objective{Loss: Loss{Kind: ReverseKL}}.Row(g, z, teacher, -1, nil)
		tests := []struct {
			beta float64
			want float64
		}{{1e-4, kl}, {1 - 1e-4, rkl}}
		for _, tt := range tests {
			got := Objective{Loss: Loss{Kind: JSD, Beta: tt.beta}}.Row(g, z, teacher, -1, nil)
			if math.Abs(got-tt.want) > 1e-3*math.Max(1, tt.want) {
				t.Errorf("trial %d: JSD_%g = %.6g, want %.6g", trial, tt.beta, got, tt.want)
			}
		}
	}
}

// TestTopKBuckets checks the K+1 bucket comparison: a student whose bucket
// masses equal the teacher's has zero loss even if it differs in the tail.
func TestTopKBuckets(t *testing.T) {
	full := []float32{0.5, 0.2, 0.1, 0.1, 0.1}
	rv := model.Reveal{Mode: model.RevealTopK, K: 2}
	teacher := make([]float32, 5)
	rv.Apply(teacher, full)
	// Student: same top-2, tail mass 0.3 distributed unevenly.
	stud := []float32{0.5, 0.2, 0.25, 0.04, 0.01}
	z := make([]float32, 5)
	for i, p := range stud {
		z[i] = float32(math.Log(float64(p)))
	}
	o := Objective{Loss: Loss{Kind: KL}, Temperature: 1, Reveal: rv}
	g := make([]float32, 5)
	if v := o.Row(g, z, teacher, -1, nil); math.Abs(v) > 1e-6 {
		t.Errorf("top-2 KL = %v, want 0", v)
	}
	full2 := Objective{Loss: Loss{Kind: KL}, Temperature: 1}
	if v := full2.Row(g, z, teacher, -1, nil); v < 1e-3 {
		t.Errorf("full KL = %v, want > 0 (tails differ)", v)
	}
}

func TestParseLoss(t *testing.T) {
	tests := []struct {
		in      string
		want    Loss
		wantErr bool
	}{
		{"kl", Loss{Kind: KL}, false},
		{"", Loss{Kind: KL}, false},
		{"rkl", Loss{Kind: ReverseKL}, false},
		{"jsd", Loss{Kind: JSD, Beta: 0.5}, false},
		{"jsd:0.25", Loss{Kind: JSD, Beta: 0.25}, false},
		{"tv", Loss{Kind: TV}, false},
		{"mse", Loss{Kind: MSE}, false},
		{"ce", Loss{Kind: CE}, false},
		{"jsd:0", Loss{}, true},
		{"jsd:1", Loss{}, true},
		{"jsd:x", Loss{}, true},
		{"kl:2", Loss{}, true},
		{"hinge", Loss{}, true},
	}
	for _, tt := range tests {
		got, err := ParseLoss(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseLoss(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseLoss(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if err == nil {
			back, err := ParseLoss(got.String())
			if err != nil || back != got {
				t.Errorf("ParseLoss(%q.String()=%q) = %+v, %v", tt.in, got.String(), back, err)
			}
		}
	}
	if _, err := ParseLoss("hinge"); !errors.Is(err, ErrUnknownLoss) {
		t.Errorf("ParseLoss(hinge) error %v does not wrap ErrUnknownLoss", err)
	}
}

// TestKLConfidentStudent checks T²·KL and its gradient against the closed
// form where the student's probability of a class the teacher backs
// underflows (a logit gap far beyond 69·T): the gradient must still be
// T·(q − p), not vanish with the clamped probability.
func TestKLConfidentStudent(t *testing.T) {
	tests := []struct {
		name    string
		z       []float32
		teacher []float32
		T       float64
	}{
		{"huge logits", []float32{1e4, -1e4, 0}, []float32{0.5, 0.3, 0.2}, 1},
		{"gap 80", []float32{80, 0, 0}, []float32{0.2, 0.5, 0.3}, 1},
		{"cold temperature", []float32{5, 0, 0}, []float32{0.4, 0.3, 0.3}, 0.05},
		{"ordinary", []float32{1, -0.5, 2, 0}, []float32{0.1, 0.2, 0.6, 0.1}, 3},
	}
	for _, tc := range tests {
		o := Objective{Loss: Loss{Kind: KL}, Temperature: tc.T}
		g := make([]float32, len(tc.z))
		v := o.Row(g, tc.z, tc.teacher, -1, nil)
		p := make([]float64, len(tc.z))
		temper(p, tc.teacher, tc.T)
		q := make([]float64, len(tc.z))
		lse := softmax64(q, tc.z, tc.T)
		var kl float64
		for i := range p {
			kl += p[i] * (math.Log(p[i]) - (float64(tc.z[i])/tc.T - lse))
			if want := tc.T * (q[i] - p[i]); math.Abs(float64(g[i])-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("%s: grad[%d] = %g, want %g", tc.name, i, g[i], want)
			}
		}
		if want := tc.T * tc.T * kl; math.Abs(v-want) > 1e-9*math.Max(1, want) {
			t.Errorf("%s: value = %g, want %g", tc.name, v, want)
		}
	}
	// Top-1 reveal: buckets {top class} and {tail}; the tail's gradient is
	// T·(q_i − P_tail·q_i/Q_tail).
	o := Objective{Loss: Loss{Kind: KL}, Temperature: 1, Reveal: model.Reveal{Mode: model.RevealTopK, K: 1}}
	z := []float32{100, 0, 0, 0}
	teacher := []float32{0.4, 0.2, 0.2, 0.2}
	g := make([]float32, 4)
	o.Row(g, z, teacher, -1, nil)
	want := []float64{0.6, -0.2, -0.2, -0.2}
	for i := range want {
		if math.Abs(float64(g[i])-want[i]) > 1e-6 {
			t.Errorf("top-1, confident student: grad[%d] = %g, want %g", i, g[i], want[i])
		}
	}
}

// TestTemperatureSquared checks that every soft loss is scaled by T² (its
// gradient by T), as Hinton et al. prescribe so that the soft term's
// gradients keep their size across temperatures: the loss at T equals T²
// times the unscaled divergence of the tempered distributions.
func TestTemperatureSquared(t *testing.T) {
	z := []float32{1, -0.5, 2, 0}
	teacher := []float32{0.1, 0.2, 0.6, 0.1}
	for _, kind := range []LossKind{KL, ReverseKL, JSD, TV} {
		for _, T := range []float64{0.5, 4} {
			o := Objective{Loss: Loss{Kind: kind, Beta: 0.5}, Temperature: T}
			v := o.Row(make([]float32, 4), z, teacher, -1, nil)
			p, q := make([]float64, 4), make([]float64, 4)
			temper(p, teacher, T)
			softmax64(q, z, T)
			d := divergence(kind, 0.5, make([]float64, 4), p, q)
			if want := T * T * d; math.Abs(v-want) > 1e-9*math.Max(1, want) {
				t.Errorf("%s at T=%g: loss = %g, want T²·D = %g", kind, T, v, want)
			}
		}
	}
}

// TestLossText checks that the recipe line names the loss Row applies and
// shows the temperature only where it acts.
func TestLossText(t *testing.T) {
	cases := []struct {
		obj  Objective
		want string
	}{
		{Objective{}, "loss=kl T=1"},
		{Objective{Temperature: 4}, "loss=kl T=4"},
		{Objective{Loss: Loss{Kind: JSD, Beta: 0.3}, Temperature: 2}, "loss=jsd:0.3 T=2"},
		{Objective{Loss: Loss{Kind: MSE}, Temperature: 4}, "loss=mse"},
		{Objective{Loss: Loss{Kind: CE}, Temperature: 4}, "loss=ce"},
		{Objective{Temperature: 4, Reveal: model.Reveal{Mode: model.RevealLabel}}, "loss=ce(teacher labels)"},
		{Objective{Loss: Loss{Kind: TV}, Temperature: 4, Reveal: model.Reveal{Mode: model.RevealTopK, K: 2}}, "loss=tv T=4"},
	}
	for _, c := range cases {
		if got := c.obj.lossText(); got != c.want {
			t.Errorf("%+v: lossText() = %q, want %q", c.obj, got, c.want)
		}
	}
}
