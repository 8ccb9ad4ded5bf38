// Package eval measures classifiers: accuracy, negative log-likelihood,
// expected calibration error, top-1 agreement between two models, and
// throughput, and bundles them for one model on a test split in Evaluate.
//
// All metric kernels take probability matrices (one row per example, as
// model.Model.Predict returns) and break argmax ties to the lowest index.
package eval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// ECEBins is the number of equal-width confidence bins of ECE.
const ECEBins = 15

// NLLFloor is the smallest probability NLL takes the logarithm of, so one
// confidently wrong row costs at most −log(1e-12) ≈ 27.6.
const NLLFloor = 1e-12

// ErrShape is wrapped by errors about mismatched matrix shapes.
var ErrShape = errors.New("shape mismatch")

func row(p blas32.General, i int) []float32 { return p.Data[i*p.Stride : i*p.Stride+p.Cols] }

func checkLabels(p blas32.General, y []int) {
	if len(y) != p.Rows {
		panic(fmt.Sprintf("eval: %d labels for %d rows", len(y), p.Rows))
	}
}

// Accuracy returns the fraction of rows of p whose argmax equals y (0 for
// no rows). It panics if len(y) != p.Rows.
func Accuracy(p blas32.General, y []int) float64 {
	checkLabels(p, y)
	if p.Rows == 0 {
		return 0
	}
	c := 0
	for i := 0; i < p.Rows; i++ {
		if model.Argmax(row(p, i)) == y[i] {
			c++
		}
	}
	return float64(c) / float64(p.Rows)
}

// NLL returns the mean negative log-likelihood (1/N)Σ −log max(p_i[y_i],
// NLLFloor) (0 for no rows). It panics if len(y) != p.Rows or a label is
// out of range.
func NLL(p blas32.General, y []int) float64 {
	checkLabels(p, y)
	if p.Rows == 0 {
		return 0
	}
	var s float64
	for i := 0; i < p.Rows; i++ {
		s -= math.Log(math.Max(float64(row(p, i)[y[i]]), NLLFloor))
	}
	return s / float64(p.Rows)
}

// ECE returns the expected calibration error with ECEBins equal-width bins
// over the confidence c = max_k p_k: bin b holds c in [b/15, (b+1)/15) (the
// last bin includes 1), and ECE = Σ_b (n_b/N)·|acc_b − conf_b| with acc_b
// the accuracy and conf_b the mean confidence of the bin's rows (0 for no
// rows). It panics if len(y) != p.Rows.
func ECE(p blas32.General, y []int) float64 {
	checkLabels(p, y)
	if p.Rows == 0 {
		return 0
	}
	var n, correct [ECEBins]int
	var conf [ECEBins]float64
	for i := 0; i < p.Rows; i++ {
		r := row(p, i)
		k := model.Argmax(r)
		c := float64(r[k])
		b := min(max(int(c*ECEBins), 0), ECEBins-1)
		n[b]++
		conf[b] += c
		if k == y[i] {
			correct[b]++
		}
	}
	var e float64
	for b := range n {
		if n[b] > 0 {
			e += math.Abs(float64(correct[b])-conf[b]) / float64(p.Rows)
		}
	}
	return e
}

// Agreement returns the fraction of rows on which p and q have the same
// argmax (0 for no rows). It panics if their shapes differ.
func Agreement(p, q blas32.General) float64 {
	if p.Rows != q.Rows || p.Cols != q.Cols {
		panic(fmt.Sprintf("eval: Agreement of %d×%d and %d×%d matrices", p.Rows, p.Cols, q.Rows, q.Cols))
	}
	if p.Rows == 0 {
		return 0
	}
	c := 0
	for i := 0; i < p.Rows; i++ {
		if model.Argmax(row(p, i)) == model.Argmax(row(q, i)) {
			c++
		}
	}
	return float64(c) / float64(p.Rows)
}

// Throughput runs m.Predict over x once, in batches of batch rows (≤ 0:
// all rows in one call), and returns rows per second of wall-clock time.
func Throughput(ctx context.Context, m model.Model, x blas32.General, batch int) (float64, error) {
	if batch <= 0 || batch > x.Rows {
		batch = x.Rows
	}
	start := time.Now()
	for r := 0; r < x.Rows; r += batch {
		n := min(batch, x.Rows-r)
		in := blas32.General{Rows: n, Cols: x.Cols, Stride: x.Stride, Data: x.Data[r*x.Stride : (r+n-1)*x.Stride+x.Cols]}
		if _, err := m.Predict(ctx, in); err != nil {
			return 0, fmt.Errorf("throughput: %w", err)
		}
	}
	el := time.Since(start).Seconds()
	if el <= 0 {
		el = 1e-9
	}
	return float64(x.Rows) / el, nil
}
