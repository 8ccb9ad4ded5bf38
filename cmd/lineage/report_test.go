package main

import (
	"math"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"gonum.org/v1/gonum/blas/blas32"
)

func fpOf(rows ...[]float32) *fingerprint.Fingerprint {
	p := blas32.General{Rows: len(rows), Cols: len(rows[0]), Stride: len(rows[0])}
	for _, r := range rows {
		p.Data = append(p.Data, r...)
	}
	return &fingerprint.Fingerprint{P: p}
}

func TestPairStat(t *testing.T) {
	a := fpOf([]float32{0.9, 0.1}, []float32{0.2, 0.8}, []float32{0.6, 0.4}, []float32{0.5, 0.5})
	b := fpOf([]float32{0.7, 0.3}, []float32{0.9, 0.1}, []float32{0.6, 0.4}, []float32{0.5, 0.5})
	if got, want := pairStat(a, b, "agreement"), 0.75; got != want {
		t.Errorf("agreement = %v, want %v", got, want)
	}
	if got := pairStat(a, a, "js"); math.Abs(got) > 1e-9 {
		t.Errorf("js(a, a) = %v, want 0", got)
	}
	if got := pairStat(a, b, "js"); !(got > 0 && got < 1) {
		t.Errorf("js(a, b) = %v, want in (0, 1)", got)
	}
	if got := pairStat(a, fpOf([]float32{1, 0}), "agreement"); !math.IsNaN(got) {
		t.Errorf("pairStat of different shapes = %v, want NaN", got)
	}
}

func TestSafeFileName(t *testing.T) {
	tests := []struct{ in, want string }{{"acme", "acme"}, {"a/b c:d", "a_b_c_d"}}
	for _, tt := range tests {
		if got := safeFileName(tt.in); got != tt.want {
			t.Errorf("safeFileName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFigurePaths(t *testing.T) {
	ts := func(names ...string) []teacherSummary {
		var out []teacherSummary
		for _, n := range names {
			out = append(out, teacherSummary{Teacher: n})
		}
		return out
	}
	tests := []struct {
		names []string
		want  []string
	}{
		{[]string{"acme"}, []string{"m.png"}},
		{[]string{"acme", "x y", "x_y", "X_Y", "x_y-2"}, []string{"m-acme.png", "m-x_y.png", "m-x_y-2.png", "m-X_Y-3.png", "m-x_y-2-2.png"}},
	}
	for _, tc := range tests {
		got := figurePaths("m.png", ts(tc.names...))
		if !slices.Equal(got, tc.want) {
			t.Errorf("figurePaths(%q) = %q, want %q", tc.names, got, tc.want)
		}
	}
}
