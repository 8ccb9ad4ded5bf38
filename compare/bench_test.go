package compare

import (
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/probe"
)

func BenchmarkCompute(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	teacher := randMatrix(rng, 300, 10, 3)
	suspect := randMatrix(rng, 300, 10, 3)
	kinds := make([]probe.Kind, 300)
	all := []probe.Kind{probe.Data, probe.Noise, probe.Boundary, probe.Adversarial, probe.Mistake}
	for i := range kinds {
		kinds[i] = all[i%len(all)]
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(teacher, suspect, kinds); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTest(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	gen := gaussianGen(4, 0.5)
	null := make([][]float64, 20)
	for i := range null {
		null[i] = gen(rng)
	}
	x := gen(rng)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Test(null, x, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSDivergence(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	p, q := randDist(rng, 10), randDist(rng, 10)
	b.ReportAllocs()
	for b.Loop() {
		JSDivergence(p, q)
	}
}
