package model

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// benchTrainStep times one softmax-cross-entropy training step (forward,
// dlogits = p - onehot, backward without dX) and reports samples/s and
// GFLOP/s counted as 2·MACs forward + 4·MACs backward.
func benchTrainStep(b *testing.B, sizes []int, batch int) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewMLP(sizes, ActReLU, nil, rng)
	x := blas32.General{Rows: batch, Cols: sizes[0], Stride: sizes[0], Data: make([]float32, batch*sizes[0])}
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	k := sizes[len(sizes)-1]
	y := make([]int, batch)
	for i := range y {
		y[i] = rng.IntN(k)
	}
	dTheta := make([]float32, len(m.Theta))
	dLogits := blas32.General{Rows: batch, Cols: k, Stride: k, Data: make([]float32, batch*k)}
	var t Tape
	step := func() {
		logits := m.Forward(&t, x)
		SoftmaxRows(dLogits, logits)
		for i, c := range y {
			dLogits.Data[i*k+c]--
		}
		m.Backward(&t, dLogits, dTheta, blas32.General{})
	}
	step()
	macs := 0
	for l := 0; l+1 < len(sizes); l++ {
		macs += sizes[l] * sizes[l+1]
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
	}
	secs := b.Elapsed().Seconds()
	samples := float64(b.N * batch)
	b.ReportMetric(samples/secs, "samples/s")
	b.ReportMetric(samples*6*float64(macs)/secs/1e9, "GFLOP/s")
}

func BenchmarkTrainStep784x512x512x10B128(b *testing.B) {
	benchTrainStep(b, []int{784, 512, 512, 10}, 128)
}

func BenchmarkTrainStep64x256x256x10B64(b *testing.B) {
	benchTrainStep(b, []int{64, 256, 256, 10}, 64)
}

func BenchmarkPredict64x256x256x10B64(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewMLP([]int{64, 256, 256, 10}, ActReLU, nil, rng)
	x := blas32.General{Rows: 64, Cols: 64, Stride: 64, Data: make([]float32, 64*64)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Predict(b.Context(), x); err != nil {
			b.Fatal(err)
		}
	}
}

// The demo's and enrolment's controls: digits (64 features), batches of 32.
func BenchmarkTrainStep64x64x10B32(b *testing.B) {
	benchTrainStep(b, []int{64, 64, 10}, 32)
}

func BenchmarkTrainStep64x128x10B32(b *testing.B) {
	benchTrainStep(b, []int{64, 128, 10}, 32)
}

// BenchmarkGemmBackward times the two products of a backward pass
// through a 64→128 layer on a batch of 32 (dW += gᵀ·A, dA = g·W), which
// gemm computes with its axpy kernels where it has them.
func BenchmarkGemmBackward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := randGeneral(rng, 32, 128, 0, false)
	a := randGeneral(rng, 32, 64, 0, false)
	w := randGeneral(rng, 128, 64, 0, false)
	dW := randGeneral(rng, 128, 64, 0, false)
	dA := randGeneral(rng, 32, 64, 0, false)
	b.ReportAllocs()
	for b.Loop() {
		gemm(blas.Trans, blas.NoTrans, 1, g, a, 1, dW)
		gemm(blas.NoTrans, blas.NoTrans, 1, g, w, 0, dA)
	}
}
