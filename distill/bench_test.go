package distill

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// BenchmarkKDStep measures one distillation step: student forward, KD loss
// (KL at T = 4 against fixed teacher rows), backward and an Adam update.
// GFLOP/s counts 6·batch·Σ(in·out) floating-point operations per step
// (2 for the forward product, 4 for the two backward products).
func BenchmarkKDStep(b *testing.B) {
	for _, bc := range []struct {
		sizes []int
		batch int
	}{
		{[]int{784, 512, 512, 10}, 128},
		{[]int{64, 256, 256, 10}, 64},
	} {
		b.Run(fmt.Sprintf("%v/batch=%d", bc.sizes, bc.batch), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			m := model.NewMLP(bc.sizes, model.ActReLU, nil, rng)
			d, c, n := bc.sizes[0], bc.sizes[len(bc.sizes)-1], bc.batch
			x := blas32.General{Rows: n, Cols: d, Stride: d, Data: make([]float32, n*d)}
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			tg := blas32.General{Rows: n, Cols: c, Stride: c, Data: make([]float32, n*c)}
			for r := 0; r < n; r++ {
				copy(tg.Data[r*c:(r+1)*c], softmaxRow(randRow(rng, c, 2)))
			}
			dl := blas32.General{Rows: n, Cols: c, Stride: c, Data: make([]float32, n*c)}
			grad := make([]float32, len(m.Theta))
			opt := NewOptimizer(OptimizerConfig{Kind: Adam}, len(m.Theta))
			obj := Objective{Loss: Loss{Kind: KL}, Temperature: 4, Alpha: 0.9}
			var tape model.Tape
			var ws Workspace
			macs := 0
			for l := 0; l+1 < len(bc.sizes); l++ {
				macs += bc.sizes[l] * bc.sizes[l+1]
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				logits := m.Forward(&tape, x)
				obj.Batch(dl, logits, tg, nil, &ws)
				clear(grad)
				m.Backward(&tape, dl, grad, blas32.General{})
				opt.Step(m.Theta, grad, 1e-3)
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(n*b.N)/sec, "samples/s")
			b.ReportMetric(float64(6*n*macs)*float64(b.N)/sec/1e9, "GFLOP/s")
		})
	}
}
