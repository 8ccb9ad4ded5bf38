package distill

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestAlphaMix checks that Alpha weighs the soft term and 1−Alpha the
// label's cross-entropy: a labelled row's loss and gradient are the mix of
// the soft term alone (no label) and the hard term alone (no teacher).
func TestAlphaMix(t *testing.T) {
	z := []float32{0.4, -1, 1.3, 0.2}
	teacher := []float32{0.1, 0.2, 0.6, 0.1}
	for _, alpha := range []float64{0.25, 0.9} {
		o := Objective{Temperature: 2, Alpha: alpha}
		gs, gh, g := make([]float32, 4), make([]float32, 4), make([]float32, 4)
		soft := o.Row(gs, z, teacher, -1, nil)
		hard := o.Row(gh, z, nil, 3, nil)
		if got, want := o.Row(g, z, teacher, 3, nil), alpha*soft+(1-alpha)*hard; math.Abs(got-want) > 1e-9 {
			t.Errorf("alpha %g: loss %.9g, want %.9g", alpha, got, want)
		}
		for i := range g {
			if want := alpha*float64(gs[i]) + (1-alpha)*float64(gh[i]); math.Abs(float64(g[i])-want) > 1e-6 {
				t.Errorf("alpha %g: gradient %v, want the mix of %v and %v", alpha, g, gs, gh)
				break
			}
		}
	}
}

// TestTransferSourcesShare checks a transfer set of three sources whose
// queries do not divide evenly: every row is filled (the first sources get
// the extra rows), noise and mixup rows lie within the data's range and
// carry no label, and mixup rows are mixtures, not copies of a row.
func TestTransferSourcesShare(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, dim = 12, 3
	x := blas32.General{Rows: n, Cols: dim, Stride: dim, Data: make([]float32, n*dim)}
	y := make([]int, n)
	for i := range x.Data {
		x.Data[i] = 2 + float32(rng.Float64()) // the range is within [2, 3]
	}
	for i := range y {
		y[i] = i % 2
	}
	d, err := dataset.New("shifted", x, y, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ParseTransfer("data,noise,mixup")
	if err != nil {
		t.Fatal(err)
	}
	got, labels, err := tr.Generate(rand.New(rand.NewPCG(1, 2)), d, 8) // 3 data, 3 noise, 2 mixup
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != 8 {
		t.Fatalf("got %d rows, want 8", got.Rows)
	}
	lo, hi := d.Range()
	for i := range got.Rows {
		r := got.Data[i*dim : (i+1)*dim]
		for j, v := range r {
			if v < lo || v > hi {
				t.Errorf("row %d feature %d = %v outside the data's range [%v, %v]", i, j, v, lo, hi)
			}
		}
		if wantLabel := i < 3; (labels[i] >= 0) != wantLabel {
			t.Errorf("row %d: label %d, want a label %v", i, labels[i], wantLabel)
		}
		if i >= 6 {
			for k := range n {
				if slices.Equal(r, d.Row(k)) {
					t.Errorf("mixup row %d is training row %d, want a mixture", i, k)
				}
			}
		}
	}
}

// TestEpochStatsAtRest trains at a learning rate too small to move the
// weights, so that every epoch's figures are those of the returned
// student: the training loss is the mean over rows though the last batch
// is short, the validation loss is the mean cross-entropy, and with the
// validation accuracy flat, a tie is no improvement: Patience 2 stops
// after the third epoch and the first stays the best.
func TestEpochStatsAtRest(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	mk := func(n int) *dataset.Dataset {
		x := blas32.General{Rows: n, Cols: 2, Stride: 2, Data: make([]float32, 2*n)}
		y := make([]int, n)
		for i := range n {
			y[i] = rng.IntN(3)
			x.Data[2*i] = float32(y[i]) + float32(rng.NormFloat64())
			x.Data[2*i+1] = float32(rng.NormFloat64())
		}
		d, err := dataset.New("rest", x, y, []string{"a", "b", "c"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	train, val := mk(10), mk(9)
	res, err := Train(context.Background(), Config{Train: train, Val: val, Hidden: []int{4}, Epochs: 5, BatchSize: 4,
		Optimizer: "sgd", LR: 1e-30, WeightDecay: -1, Schedule: "constant", Patience: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	meanCE := func(d *dataset.Dataset) float64 {
		var tape model.Tape
		logits := res.Student.Forward(&tape, d.X)
		dst := blas32.General{Rows: d.Len(), Cols: 3, Stride: 3, Data: make([]float32, 3*d.Len())}
		return Objective{}.Batch(dst, logits, blas32.General{}, d.Y, nil)
	}
	h := res.History
	if len(h) != 3 || !res.StoppedEarly || res.BestEpoch != 1 {
		t.Fatalf("ran %d epochs (stopped early %v), best epoch %d; want 3, true, 1", len(h), res.StoppedEarly, res.BestEpoch)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"training loss", h[0].TrainLoss, meanCE(train)},
		{"validation loss", h[0].ValLoss, meanCE(val)},
	} {
		if math.Abs(c.got-c.want) > 1e-5 {
			t.Errorf("%s %.7g, want %.7g", c.name, c.got, c.want)
		}
	}
}

// TestSeedShufflesBatches checks that the seed reaches the order of the
// mini-batches: hard-label training of a given student uses the seed for
// nothing else, and two seeds must train it differently.
func TestSeedShufflesBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := blas32.General{Rows: 12, Cols: 2, Stride: 2, Data: make([]float32, 24)}
	y := make([]int, 12)
	for i := range y {
		y[i] = i % 2
		x.Data[2*i], x.Data[2*i+1] = float32(y[i])+float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	d, err := dataset.New("shuffle", x, y, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	student := model.NewMLP([]int{2, 3, 2}, model.ActReLU, []string{"a", "b"}, rand.New(rand.NewPCG(1, 1)))
	theta := func(seed uint64) []float32 {
		res, err := Train(context.Background(), Config{Train: d, Student: student, Epochs: 2, BatchSize: 3, Optimizer: "sgd", Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return res.Student.Theta
	}
	if a, b := theta(1), theta(2); slices.Equal(a, b) {
		t.Errorf("seeds 1 and 2 trained the same weights; the batches were not shuffled by the seed")
	}
}
