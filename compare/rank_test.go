package compare

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRankProfile(t *testing.T) {
	norm := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x * x
		}
		return math.Sqrt(s)
	}
	tests := []struct {
		name string
		p    []float32
		want []float64 // nil: only check the unit norm and centring
	}{
		{"two classes", []float32{0.2, 0.8}, []float64{-1 / math.Sqrt2, 1 / math.Sqrt2}},
		{"all tied", []float32{0.25, 0.25, 0.25, 0.25}, []float64{0, 0, 0, 0}},
		{"one-hot", []float32{0, 1, 0, 0}, nil},
		{"distinct", []float32{0.1, 0.5, 0.3, 0.05, 0.05}, nil},
	}
	for _, tt := range tests {
		got := make([]float64, len(tt.p))
		RankProfile(got, tt.p)
		if tt.want != nil {
			for j := range got {
				if math.Abs(got[j]-tt.want[j]) > 1e-12 {
					t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
					break
				}
			}
			continue
		}
		if n := norm(got); math.Abs(n-1) > 1e-12 {
			t.Errorf("%s: norm got %v, want 1", tt.name, n)
		}
		var s float64
		for _, x := range got {
			s += x
		}
		if math.Abs(s) > 1e-12 {
			t.Errorf("%s: sum got %v, want 0", tt.name, s)
		}
	}
	// Ties take the mean of their 0-based ranks: 0.15 and 0.15 share ranks
	// 2 and 3, so both get −log(1 + 2.5), not −log(1 + 2) of the lower rank.
	ref := []float64{0, -math.Log(2), -math.Log(3.5), -math.Log(3.5)}
	var mean, ss float64
	for _, v := range ref {
		mean += v / 4
	}
	for j := range ref {
		ref[j] -= mean
		ss += ref[j] * ref[j]
	}
	tie := make([]float64, 4)
	RankProfile(tie, []float32{0.4, 0.3, 0.15, 0.15})
	for j := range tie {
		if want := ref[j] / math.Sqrt(ss); math.Abs(tie[j]-want) > 1e-12 {
			t.Errorf("tied pair: class %d got %v, want %v", j, tie[j], want)
		}
	}
	// A one-hot row: every class but the top shares one value.
	got := make([]float64, 4)
	RankProfile(got, []float32{0, 1, 0, 0})
	if got[0] != got[2] || got[2] != got[3] || !(got[1] > got[0]) {
		t.Errorf("one-hot: got %v, want the top class alone above three equal values", got)
	}
}

// TestRankProfileTemperature checks the invariance the audit relies on:
// a rescaled copy p^(1/T) has the same profile as p.
func TestRankProfileTemperature(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		p := make([]float32, 10)
		for j := range p {
			p[j] = float32(rng.ExpFloat64())
		}
		for _, T := range []float64{0.5, 2, 10} {
			q := make([]float32, len(p))
			for j := range p {
				q[j] = float32(math.Pow(float64(p[j]), 1/T))
			}
			a, b := make([]float64, len(p)), make([]float64, len(p))
			RankProfile(a, p)
			RankProfile(b, q)
			for j := range a {
				if math.Abs(a[j]-b[j]) > 1e-12 {
					t.Fatalf("T=%g: got %v, want %v", T, b, a)
				}
			}
		}
	}
}

func BenchmarkRankProfile(b *testing.B) {
	b.ReportAllocs()
	p := []float32{0.01, 0.3, 0.05, 0.2, 0.1, 0.02, 0.12, 0.08, 0.07, 0.05}
	dst := make([]float64, len(p))
	for b.Loop() {
		RankProfile(dst, p)
	}
}
