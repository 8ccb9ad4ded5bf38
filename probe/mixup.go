package probe

import (
	"math/rand/v2"

	"github.com/lineage-audit/lineage/dataset"
	"gonum.org/v1/gonum/blas/blas32"
)

// MixupProbes returns n random convex combinations λ·a + (1−λ)·b of two
// rows a, b of d drawn uniformly (with replacement), λ ~ Uniform(0, 1).
// Such inputs lie between the data and are where a model extracted through
// mixup queries copies its teacher's decision boundaries. Deterministic
// for a seed.
func MixupProbes(d *dataset.Dataset, n int, seed uint64) Batch {
	dim := d.Dim()
	x := blas32.General{Rows: n, Cols: dim, Stride: dim, Data: make([]float32, n*dim)}
	src := make([]int, n)
	if d.Len() == 0 {
		n = 0
		x.Rows = 0
	}
	r := rand.New(rand.NewPCG(seed, 0x6d6978))
	for i := 0; i < n; i++ {
		ia, ib := r.IntN(d.Len()), r.IntN(d.Len())
		a, b := d.Row(ia), d.Row(ib)
		l := float32(r.Float64())
		out := x.Data[i*dim : (i+1)*dim]
		for j := range out {
			out[j] = l*a[j] + (1-l)*b[j]
		}
		src[i] = ia
	}
	return Batch{X: x, Source: src[:n], Gen: Generator{Kind: Mixup, Count: n, Seed: seed}}
}
