package probe

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// digitsTeacher returns the digits test split and a 64-32-10 teacher
// briefly trained on the training split.
func digitsTeacher(b *testing.B) (*dataset.Dataset, *model.MLP) {
	b.Helper()
	s := dataset.Digits().Split(dataset.SplitOptions{})
	return s.Test, train(b, s.Train, 32, 60, 1)
}

func BenchmarkBuildDigits(b *testing.B) {
	held, teacher := digitsTeacher(b)
	ctx := context.Background()
	b.ReportAllocs()
	var n int
	for b.Loop() {
		s, err := Build(ctx, teacher, held, BuildOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		n = s.Len()
	}
	b.ReportMetric(float64(n), "probes")
}

func BenchmarkAdversarialDigits(b *testing.B) {
	held, teacher := digitsTeacher(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AdversarialProbes(ctx, teacher, held, 100, 1, AdversarialOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelect(b *testing.B) {
	const n, k = 450, 10
	rng := rand.New(rand.NewPCG(1, 1))
	x := newMatrix(n, 64)
	kinds := make([]Kind, n)
	for i := range kinds {
		kinds[i] = kindOrder[i%len(kindOrder)]
	}
	labels := model.DefaultLabels(k)
	cand := &Suite{Labels: labels, X: x, Kinds: kinds, Hash: CanonicalHash(x, kinds, labels)}
	out := func() blas32.General {
		m := newMatrix(n, k)
		for i := 0; i < n; i++ {
			oneHotish(row(m, i), rng.IntN(k))
		}
		return m
	}
	teacher := out()
	var pos, neg []blas32.General
	for range 4 {
		pos, neg = append(pos, out()), append(neg, out())
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Select(cand, teacher, pos, neg, 100, SelectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
