package model

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestParseReveal(t *testing.T) {
	tests := []struct {
		in      string
		want    Reveal
		wantErr string
	}{
		{"full", Reveal{Mode: RevealFull}, ""},
		{"", Reveal{Mode: RevealFull}, ""},
		{"label", Reveal{Mode: RevealLabel}, ""},
		{"topk:3", Reveal{Mode: RevealTopK, K: 3}, ""},
		{"topk:0", Reveal{}, `reveal "topk:0": K must be at least 1`},
		{"topk:-2", Reveal{}, `reveal "topk:-2": K must be at least 1`},
		{"topk:x", Reveal{}, `reveal "topk:x": K must be an integer`},
		{"top3", Reveal{}, `reveal "top3": want full, topk:K or label`},
	}
	for _, tc := range tests {
		got, err := ParseReveal(tc.in)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("ParseReveal(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseReveal(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, _ := ParseReveal(got.String()); back != got {
			t.Errorf("ParseReveal(%q.String()) = %v, want %v", got, back, got)
		}
	}
}

func TestRevealApply(t *testing.T) {
	p := []float32{0.1, 0.4, 0.05, 0.4, 0.05}
	tests := []struct {
		r    Reveal
		want []float32
	}{
		{Reveal{Mode: RevealFull}, p},
		{Reveal{Mode: RevealLabel}, []float32{0, 1, 0, 0, 0}},
		{Reveal{Mode: RevealTopK, K: 1}, []float32{0.15, 0.4, 0.15, 0.15, 0.15}},
		{Reveal{Mode: RevealTopK, K: 2}, []float32{0.2 / 3, 0.4, 0.2 / 3, 0.4, 0.2 / 3}},
		{Reveal{Mode: RevealTopK, K: 3}, []float32{0.1, 0.4, 0.05, 0.4, 0.05}},
		{Reveal{Mode: RevealTopK, K: 9}, p},
	}
	for _, tc := range tests {
		got := make([]float32, len(p))
		tc.r.Apply(got, p)
		for i := range got {
			if math.Abs(float64(got[i]-tc.want[i])) > 1e-6 {
				t.Errorf("%v.Apply(%v) = %v, want %v", tc.r, p, got, tc.want)
				break
			}
		}
		alias := append([]float32(nil), p...)
		tc.r.Apply(alias, alias)
		if fmt.Sprint(alias) != fmt.Sprint(got) {
			t.Errorf("%v.Apply aliased = %v, want %v", tc.r, alias, got)
		}
	}
	// Large input (index buffer on the heap), kept entries dominate the rest.
	big := make([]float32, 100)
	for i := range big {
		big[i] = float32(i+1) / 5050
	}
	got := make([]float32, 100)
	Reveal{Mode: RevealTopK, K: 4}.Apply(got, big)
	for i := range got {
		kept := i >= 96
		if kept && got[i] != big[i] || !kept && got[i] > big[96] {
			t.Fatalf("topk:4 of 1..100: got[%d] = %v (p %v)", i, got[i], big[i])
		}
	}
}

func TestRetemper(t *testing.T) {
	p := []float32{0.7, 0.2, 0.1, 0}
	for _, T := range []float64{0.5, 1, 3} {
		got := make([]float32, 4)
		Retemper(got, p, T)
		want := refSoftmax([]float64{math.Log(0.7) / T, math.Log(0.2) / T, math.Log(0.1) / T, math.Inf(-1)})
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-6 {
				t.Errorf("Retemper(T=%v)[%d] = %v, want %v", T, i, got[i], want[i])
			}
		}
	}
}

func TestWrappers(t *testing.T) {
	m := NewMLP([]int{3, 5, 4}, ActReLU, nil, testRNG(9))
	m.Name = "teacher"
	x := randMatrix(testRNG(10), 6, 3, 2)
	base, _ := m.Predict(context.Background(), x)

	if WithReveal(m, Reveal{}) != Model(m) || WithTemperature(m, 1) != Model(m) {
		t.Error("full reveal / T=1 should return the model itself")
	}
	top := WithReveal(m, Reveal{Mode: RevealTopK, K: 2})
	if got := top.Info().Name; got != "teacher [reveal topk:2]" {
		t.Errorf("Name = %q, want %q", got, "teacher [reveal topk:2]")
	}
	if top.Info().Hash != m.Info().Hash {
		t.Error("reveal wrapper changed Hash")
	}
	pt, err := top.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	hot := WithTemperature(m, 4)
	if got := hot.Info().Name; !strings.HasSuffix(got, "[T=4]") {
		t.Errorf("Name = %q, want suffix [T=4]", got)
	}
	ph, err := hot.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < x.Rows; i++ {
		row := base.Data[i*4 : i*4+4]
		want := make([]float32, 4)
		Reveal{Mode: RevealTopK, K: 2}.Apply(want, row)
		if fmt.Sprint(pt.Data[i*4:i*4+4]) != fmt.Sprint(want) {
			t.Errorf("topk row %d = %v, want %v", i, pt.Data[i*4:i*4+4], want)
		}
		Retemper(want, row, 4)
		if fmt.Sprint(ph.Data[i*4:i*4+4]) != fmt.Sprint(want) {
			t.Errorf("T=4 row %d = %v, want %v", i, ph.Data[i*4:i*4+4], want)
		}
	}
}

// TestRevealTopKTies checks that top-k keeps the lowest index among equal
// probabilities, as Apply documents, also when an earlier pick has moved
// a lower index behind a higher one in the selection.
func TestRevealTopKTies(t *testing.T) {
	tests := []struct {
		p    []float32
		k    int
		want []float32
	}{
		// 0.5 is picked first; of the tied 0.2s index 0 is kept, not 1.
		{[]float32{0.2, 0.2, 0.5, 0.1}, 2, []float32{0.2, 0.15, 0.5, 0.15}},
		{[]float32{0.3, 0.3, 0.3, 0.1}, 1, []float32{0.3, 0.7 / 3, 0.7 / 3, 0.7 / 3}},
		{[]float32{0.1, 0.3, 0.3, 0.3}, 2, []float32{0.2, 0.3, 0.3, 0.2}},
	}
	for _, tt := range tests {
		got := make([]float32, len(tt.p))
		Reveal{Mode: RevealTopK, K: tt.k}.Apply(got, tt.p)
		for i := range got {
			if math.Abs(float64(got[i]-tt.want[i])) > 1e-6 {
				t.Errorf("topk:%d of %v = %v, want %v", tt.k, tt.p, got, tt.want)
				break
			}
		}
	}
}
