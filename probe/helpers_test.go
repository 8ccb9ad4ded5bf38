package probe

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// blobs returns n rows of k Gaussian blobs in dim dimensions, centres on
// a scaled simplex-like grid so neighbouring classes overlap a little.
func blobs(t testing.TB, n, k, dim int, seed uint64) *dataset.Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 99))
	centres := make([][]float64, k)
	for c := range centres {
		centres[c] = make([]float64, dim)
		for j := range centres[c] {
			centres[c][j] = 3 * rng.NormFloat64()
		}
	}
	x := newMatrix(n, dim)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		c := i % k
		y[i] = c
		for j := range dim {
			row(x, i)[j] = float32(centres[c][j] + 2.5*rng.NormFloat64())
		}
	}
	d, err := dataset.New("blobs", x, y, model.DefaultLabels(k))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// train fits a one-hidden-layer MLP to d with full-batch gradient descent
// on the cross-entropy; it is small and quick, for tests only.
func train(t testing.TB, d *dataset.Dataset, hidden, steps int, seed uint64) *model.MLP {
	t.Helper()
	k := len(d.Labels)
	m := model.NewMLP([]int{d.Dim(), hidden, k}, model.ActReLU, d.Labels, rand.New(rand.NewPCG(seed, 7)))
	m.Norm.Mean, m.Norm.Std = dataset.Standardizer(d)
	var tape model.Tape
	grad := make([]float32, len(m.Theta))
	dl := newMatrix(d.Len(), k)
	lr := float32(0.5)
	for s := 0; s < steps; s++ {
		logits := m.Forward(&tape, d.X)
		for i := 0; i < d.Len(); i++ {
			g := row(dl, i)
			softmaxInto(g, row(logits, i))
			g[d.Y[i]] -= 1
			for j := range g {
				g[j] /= float32(d.Len())
			}
		}
		clear(grad)
		m.Backward(&tape, dl, grad, blas32.General{})
		for j, g := range grad {
			m.Theta[j] -= lr * g
		}
	}
	return m
}

// blackBox hides an MLP behind the model.Model interface only.
type blackBox struct{ m *model.MLP }

func (b blackBox) Info() model.Info { return b.m.Info() }
func (b blackBox) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	return b.m.Predict(ctx, x)
}

// predict runs m on x or fails the test.
func predict(t testing.TB, m model.Model, x blas32.General) blas32.General {
	t.Helper()
	p, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ce returns −log p[y].
func ce(p []float32, y int) float64 { return -math.Log(math.Max(float64(p[y]), 1e-30)) }

// fixture is a held-out split and a teacher trained on the training split,
// shared by the tests of this package.
type fixture struct {
	train, test *dataset.Dataset
	teacher     *model.MLP
}

var shared *fixture

func getFixture(t testing.TB) *fixture {
	t.Helper()
	if shared == nil {
		d := blobs(t, 600, 4, 6, 1)
		s := d.Split(dataset.SplitOptions{Train: 0.5, Test: 0.5})
		shared = &fixture{train: s.Train, test: s.Test, teacher: train(t, s.Train, 16, 300, 2)}
	}
	return shared
}
