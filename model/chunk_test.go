package model

import (
	"context"
	"math"
	"runtime"
	"testing"
)

func TestChunkRows(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		act   Activation
		want  int
	}{
		{[]int{64, 128, 10}, ActReLU, predictChunk},
		{[]int{784, 4096, 4096, 10}, ActGELU, predictChunk},
		// 16 + 32751 + 1 = 2^15 values a row: 512 rows fit exactly.
		{[]int{16, 32751, 1}, ActReLU, predictChunk},
		{[]int{16, 32752, 1}, ActReLU, predictChunk - 1},
		{[]int{2, 1, 1 << 17, 2}, ActReLU, predictTapeBudget / (2 + 1 + 1<<17 + 2)},
		{[]int{2, 1, 1 << 17, 2}, ActGELU, predictTapeBudget / (2 + 2 + 2<<17 + 2)},
		{[]int{64, 1, 1 << 22, 1, 10}, ActReLU, 3},
		{[]int{1, 1 << 25, 1}, ActTanh, 1},
	} {
		if got := chunkRows(tc.sizes, tc.act); got != tc.want {
			t.Errorf("chunkRows(%v, %s) = %d, want %d", tc.sizes, tc.act, got, tc.want)
		}
	}
}

// TestPredictWideModelMemory checks that Predict on a model with a very
// wide hidden layer, fed by one unit, holds a bounded part of the batch's
// activations at a time: 512 rows at once took 256 MiB here for a model
// of 0.5 M parameters (2 MB), and a crafted 25 MB file made an audit
// crash out of memory. The answers are those of each row alone.
func TestPredictWideModelMemory(t *testing.T) {
	const width = 1 << 17
	rng := testRNG(7)
	m := NewMLP([]int{2, 1, width, 2}, ActReLU, nil, rng)
	randomize(m, rng)
	for i := range m.Theta {
		m.Theta[i] *= 0.01 // keep the logits of 2^17 summed units moderate
	}
	x := randMatrix(rng, predictChunk, 2, 1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	limit := uint64(2 * 4 * predictTapeBudget) // bytes; one chunk's tape is at most half
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("Predict of %d rows allocated %d MiB, want at most %d MiB", x.Rows, got>>20, limit>>20)
	}
	for _, i := range []int{0, 1, 200, predictChunk - 1} {
		one, err := m.Predict(context.Background(), rowsView(x, i, 1))
		if err != nil {
			t.Fatal(err)
		}
		for j := range 2 {
			if got, want := p.Data[2*i+j], one.Data[j]; math.Abs(float64(got-want)) > 1e-5 {
				t.Errorf("row %d: p[%d] = %v in the batch, %v alone", i, j, got, want)
			}
		}
	}
}
