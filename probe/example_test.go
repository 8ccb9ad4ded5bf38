package probe_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"gonum.org/v1/gonum/blas/blas32"
)

func Example() {
	ctx := context.Background()
	held := dataset.Digits().Split(dataset.SplitOptions{}).Test

	// Any *model.MLP works as a white-box teacher; a freshly initialised
	// one keeps the example short.
	teacher := model.NewMLP([]int{64, 32, 10}, model.ActReLU, held.Labels, rand.New(rand.NewPCG(1, 2)))
	teacher.Norm.Mean, teacher.Norm.Std = dataset.Standardizer(held)

	opts := probe.BuildOptions{Name: "digits-pool", Seed: 7, Data: 50, Noise: 20, Boundary: 30, Adversarial: 30}
	s, err := probe.Build(ctx, teacher, held, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	again, _ := probe.Build(ctx, teacher, held, opts)
	counts := s.Counts()
	fmt.Println("data:", counts[probe.Data], "noise:", counts[probe.Noise])
	var kinds []probe.Kind
	for _, g := range s.Generators {
		kinds = append(kinds, g.Kind)
	}
	fmt.Println(kinds)
	fmt.Println("valid:", probe.Validate(s) == nil)
	fmt.Println("same seed, same hash:", again.Hash == s.Hash)
	// Output:
	// data: 50 noise: 20
	// [data noise boundary adversarial mistake]
	// valid: true
	// same seed, same hash: true
}

func ExampleSelect() {
	// Four candidate probes over two classes. Students of the teacher
	// agree with it on probes 1 and 3; the independent model only on 0
	// and 1. Probe 3 separates best, then probe 1.
	m := func(top ...int) blas32.General {
		g := blas32.General{Rows: len(top), Cols: 2, Stride: 2, Data: make([]float32, 2*len(top))}
		for i, c := range top {
			g.Data[2*i+c], g.Data[2*i+1-c] = 0.8, 0.2
		}
		return g
	}
	x := blas32.General{Rows: 4, Cols: 1, Stride: 1, Data: []float32{0, 1, 2, 3}}
	kinds := []probe.Kind{probe.Data, probe.Data, probe.Boundary, probe.Boundary}
	labels := []string{"no", "yes"}
	cand := &probe.Suite{Labels: labels, X: x, Kinds: kinds, Hash: probe.CanonicalHash(x, kinds, labels)}

	teacher := m(0, 1, 0, 1)
	student := m(1, 1, 1, 1)
	independent := m(0, 1, 1, 0)
	s, idx, err := probe.Select(cand, teacher, []blas32.General{student}, []blas32.General{independent}, 2, probe.SelectOptions{MinShare: -1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(idx, s.Kinds)
	// Output:
	// [1 3] [data boundary]
}
