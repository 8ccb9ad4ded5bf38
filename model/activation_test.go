package model

import (
	"math"
	"testing"
)

func TestReLU(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	tests := []struct {
		z, wantA float32
		g, wantG float32
	}{
		{2.5, 2.5, 3, 3},
		{-1, 0, 3, 0},
		{0, 0, 3, 0},
		{negZero, 0, 3, 0},
		{math.MaxFloat32, math.MaxFloat32, -2, -2},
		{-math.MaxFloat32, 0, -2, 0},
		{1e-45, 1e-45, 5, 5}, // smallest subnormal is positive
	}
	for _, tc := range tests {
		a := []float32{tc.z}
		reluForward(a)
		if a[0] != tc.wantA || math.Signbit(float64(a[0])) {
			t.Errorf("relu(%v) = %v, want +%v", tc.z, a[0], tc.wantA)
		}
		g := []float32{tc.g}
		reluBackward(g, a)
		if g[0] != tc.wantG {
			t.Errorf("relu'(%v)·%v = %v, want %v", tc.z, tc.g, g[0], tc.wantG)
		}
	}
}

func BenchmarkReLU(b *testing.B) {
	z := randMatrix(testRNG(1), 128, 512, 1).Data
	g := make([]float32, len(z))
	b.ReportAllocs()
	for b.Loop() {
		reluForward(z)
		reluBackward(g, z)
	}
}
