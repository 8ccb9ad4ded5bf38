package remote

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestValidation(t *testing.T) {
	answer := `{"model_name":"m","outputs":[{"name":"probabilities","datatype":"FP32","shape":[3,2],"data":[0.5,0.5,0.3,0.3,0.9,0.1]}]}`
	meta := `{"name":"m","platform":"x","inputs":[{"name":"in","datatype":"FP32","shape":[-1,1]}],"outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,2]}]}`
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			w.Write([]byte(meta))
			return
		}
		w.Write([]byte(answer))
	}))
	defer ts.Close()
	x := blas32.General{Rows: 3, Cols: 1, Stride: 1, Data: []float32{1, 2, 3}}
	strict, err := Open(context.Background(), ts.URL+"/v2/models/m", fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(strict.Info().Labels); got != "[0 1]" {
		t.Errorf("labels %s, want [0 1] from the output shape", got)
	}
	_, err = strict.Predict(context.Background(), x)
	var pe *ProbeError
	if !errors.As(err, &pe) || pe.Index != 1 || !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("strict: error %v, want a ProbeError for probe 1", err)
	}
	opts := fastOpts()
	opts.Lenient = true
	lenient, _ := Open(context.Background(), ts.URL+"/v2/models/m", opts)
	p, err := lenient.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	if p.Data[2] != 0.5 || p.Data[3] != 0.5 || lenient.Stats().Warnings != 1 {
		t.Errorf("lenient: row 1 = %v, warnings %d; want [0.5 0.5] and 1 warning", p.Data[2:4], lenient.Stats().Warnings)
	}
}

func TestCheckRows(t *testing.T) {
	tests := []struct {
		name    string
		p       []float32
		lenient bool
		wantErr string
		wantW   int
	}{
		{"ok", []float32{0.25, 0.75, 1, 0}, false, "", 0},
		{"within tolerance", []float32{0.5, 0.5009, 1, 0}, false, "", 0},
		{"outside tolerance", []float32{0.5, 0.505, 1, 0}, false, "answer row 10: probabilities sum to 1.005, want 1", 0},
		{"negative", []float32{1.1, -0.1, 1, 0}, false, "answer row 10: negative probability -0.1 for label 1 (logits or log-probabilities? answer their softmax, or read them with --logits)", 0},
		{"negative lenient", []float32{1.1, -0.1, 1, 0}, true, "", 1},
		{"sum", []float32{0.5, 0.5, 0.5, 0.4}, false, "answer row 11: probabilities sum to 0.9, want 1", 0},
		// Non-negative logits sum above 1: they were refused without the
		// hint the negative ones get.
		{"logits", []float32{0.5, 0.5, 3, 7}, false, "answer row 11: probabilities sum to 10, want 1 (logits? answer their softmax, or read them with --logits; probabilities rounded or scaled? --lenient renormalises them)", 0},
		// Percentages: their softmax, which --logits takes, is not their
		// distribution; the hint offered it alone.
		{"percentages", []float32{0.5, 0.5, 30, 70}, false, "answer row 11: probabilities sum to 100, want 1 (logits? answer their softmax, or read them with --logits; probabilities rounded or scaled? --lenient renormalises them)", 0},
		{"percentages lenient", []float32{0.5, 0.5, 30, 70}, true, "", 1},
		{"zero row lenient", []float32{1, 0, 0, 0}, true, "answer row 11: probabilities sum to 0", 0},
		{"nan lenient", []float32{1, 0, float32FromBits(0x7fc00000), 0}, true, "answer row 11: non-finite", 0},
		// Infinities are named as such; under --lenient, -Inf (a log of 0)
		// must not pass as a negative value repaired to 0.
		{"inf", []float32{1, 0, float32(math.Inf(1)), 0}, false, "answer row 11: non-finite probability +Inf for label 0", 0},
		{"-inf lenient", []float32{1, 0, float32(math.Inf(-1)), 1}, true, "answer row 11: non-finite probability -Inf for label 0", 0},
	}
	for _, tt := range tests {
		w, err := checkRows(tt.p, 2, 2, 10, tt.lenient)
		if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) || w != tt.wantW {
			t.Errorf("%s: warnings %d error %v; want %d and %q", tt.name, w, err, tt.wantW, tt.wantErr)
		}
	}
}

func TestSoftmaxRows(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	p := []float32{
		0, 0, 0, 0,
		2, 0, -1, 3,
		1, nan, 0, 0,
		inf, 0, 0, 0,
		-inf, 0, 0, 0,
		-inf, -inf, -inf, -inf,
	}
	if err := softmaxRows(p, 6, 4, 0); err != nil {
		t.Fatal(err)
	}
	e := []float64{math.Exp(2), 1, math.Exp(-1), math.Exp(3)}
	s := e[0] + e[1] + e[2] + e[3]
	want := []float32{
		0.25, 0.25, 0.25, 0.25,
		float32(e[0] / s), float32(e[1] / s), float32(e[2] / s), float32(e[3] / s),
		1, nan, 0, 0, // left for checkRows to refuse
		1, 0, 0, 0,
		0, 1.0 / 3, 1.0 / 3, 1.0 / 3,
		-inf, -inf, -inf, -inf, // no class possible: left for checkRows to refuse
	}
	for i := range want {
		g, w := p[i], want[i]
		if math.IsNaN(float64(w)) != math.IsNaN(float64(g)) || (g != w && math.Abs(float64(g-w)) > 1e-6) {
			t.Errorf("entry %d (row %d): got %v, want %v", i, i/4, g, w)
		}
	}
	if _, err := checkRows(p, 6, 4, 0, true); err == nil || !strings.Contains(err.Error(), "answer row 2: non-finite") {
		t.Errorf("checkRows after softmaxRows: %v, want row 2's NaN refused", err)
	}
	// Probabilities read as logits would be flattened: refused.
	probs := []float32{0.98, 0.01, 0.01, 0.5, 0.25, 0.25}
	if err := softmaxRows(probs, 2, 3, 10); err == nil || !strings.Contains(err.Error(), "answer row 10: answers are probabilities already") {
		t.Errorf("softmaxRows of probabilities: %v, want them refused", err)
	}
	if probs[0] != 0.98 {
		t.Errorf("softmaxRows changed refused answers: %v", probs)
	}
}
