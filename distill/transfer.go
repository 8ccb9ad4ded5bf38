package distill

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/lineage-audit/lineage/dataset"
	"gonum.org/v1/gonum/blas/blas32"
)

// TransferSource is one way of producing transfer-set inputs (the queries
// sent to the teacher).
type TransferSource string

// The transfer sources. Synthetic rows carry no dataset label.
const (
	// TransferData uses training inputs as they are (with their dataset
	// labels, when the dataset has labels). A share larger than the
	// training set cycles through further random permutations.
	TransferData TransferSource = "data"
	// TransferNoise draws every feature uniformly from the data's global
	// range [lo, hi] (dataset.Range), or from the feature's own range on
	// data whose features lie on different scales (dataset.InputBounds).
	TransferNoise TransferSource = "noise"
	// TransferJitter adds Gaussian noise N(0, (JitterScale·σ_j)²) to a random
	// training row, σ_j the feature's standard deviation (dataset.Standardizer),
	// and clamps to the same bounds as noise.
	TransferJitter TransferSource = "jitter"
	// TransferMixup blends two random training rows λx_a + (1−λ)x_b with
	// λ ~ Uniform(0, 1) and a ≠ b (when the set has two rows or more).
	TransferMixup TransferSource = "mixup"
)

// DefaultJitterScale is the jitter standard deviation in units of each
// feature's standard deviation.
const DefaultJitterScale = 0.25

// ErrTransfer is wrapped by ParseTransfer and Generate for bad transfer specs.
var ErrTransfer = errors.New("bad transfer set")

// Transfer says how the transfer set is built: a list of sources (possibly
// repeated, e.g. "data,mixup") that share the query budget evenly. The
// zero Transfer is "data".
type Transfer struct {
	Sources []TransferSource `json:"sources"`
	// JitterScale zero means DefaultJitterScale.
	JitterScale float64 `json:"jitter_scale,omitempty"`
}

// ParseTransfer parses a comma-separated list of data, noise, jitter and
// mixup ("data,mixup"); the empty string means "data".
func ParseTransfer(s string) (Transfer, error) {
	if strings.TrimSpace(s) == "" {
		return Transfer{Sources: []TransferSource{TransferData}}, nil
	}
	var t Transfer
	for _, part := range strings.Split(s, ",") {
		src := TransferSource(strings.TrimSpace(part))
		switch src {
		case TransferData, TransferNoise, TransferJitter, TransferMixup:
			t.Sources = append(t.Sources, src)
		case "":
			return Transfer{}, fmt.Errorf("transfer %q: empty source: %w", s, ErrTransfer)
		default:
			return Transfer{}, fmt.Errorf("transfer %q: unknown source %q (want data, noise, jitter or mixup): %w", s, part, ErrTransfer)
		}
	}
	return t, nil
}

// String returns t in the form ParseTransfer accepts.
func (t Transfer) String() string {
	if len(t.Sources) == 0 {
		return string(TransferData)
	}
	parts := make([]string, len(t.Sources))
	for i, s := range t.Sources {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

func (t Transfer) sources() []TransferSource {
	if len(t.Sources) == 0 {
		return []TransferSource{TransferData}
	}
	return t.Sources
}

// DefaultQueries returns the budget used when Queries is zero: the training
// set size once per source, so "data" queries every training row once and
// "data,mixup" twice as many rows.
func (t Transfer) DefaultQueries(trainLen int) int {
	return trainLen * len(t.sources())
}

// Generate builds a transfer set of exactly queries rows (0 means
// DefaultQueries) from the training set train, drawing randomness from rng.
// The budget is split evenly over the sources, in order, the first ones
// taking the remainder. It returns the inputs and, per row, the dataset
// label (rows from TransferData of a labelled set) or −1.
func (t Transfer) Generate(rng *rand.Rand, train *dataset.Dataset, queries int) (blas32.General, []int, error) {
	n, d := train.Len(), train.Dim()
	if n == 0 {
		return blas32.General{}, nil, fmt.Errorf("transfer %s: empty training set: %w", t, ErrTransfer)
	}
	if queries < 0 {
		return blas32.General{}, nil, fmt.Errorf("transfer %s: negative query budget %d: %w", t, queries, ErrTransfer)
	}
	if d < 1 {
		return blas32.General{}, nil, fmt.Errorf("transfer %s: training set has no features: %w", t, ErrTransfer)
	}
	if queries == 0 {
		queries = t.DefaultQueries(n)
	}
	if queries > MaxTransferValues/d {
		return blas32.General{}, nil, fmt.Errorf("transfer %s: %d queries of %d features exceed the limit of %d values: %w", t, queries, d, MaxTransferValues, ErrTransfer)
	}
	srcs := t.sources()
	x := blas32.General{Rows: queries, Cols: d, Stride: d, Data: make([]float32, queries*d)}
	labels := make([]int, queries)
	// The global range bounds noise and jitter, or each feature's own on
	// mixed-scale data (dataset.InputBounds), where the global range put
	// queries thousands of a small feature's standard deviations away.
	lo, hi := dataset.InputBounds(train)
	var std []float32
	scale := t.JitterScale
	if scale == 0 {
		scale = DefaultJitterScale
	}
	row := 0
	for si, src := range srcs {
		share := queries / len(srcs)
		if si < queries%len(srcs) {
			share++
		}
		if src == TransferData {
			// Whole random permutations, one after another.
			for k := 0; k < share; k += n {
				perm := rng.Perm(n)
				for j := 0; j < n && k+j < share; j++ {
					copy(x.Data[row*d:(row+1)*d], train.Row(perm[j]))
					labels[row] = -1
					if train.Y != nil {
						labels[row] = train.Y[perm[j]]
					}
					row++
				}
			}
			continue
		}
		for k := 0; k < share; k++ {
			dst := x.Data[row*d : (row+1)*d]
			labels[row] = -1
			switch src {
			case TransferNoise:
				for j := range dst {
					dst[j] = lo[j] + float32(rng.Float64())*(hi[j]-lo[j])
				}
			case TransferJitter:
				if std == nil {
					_, std = dataset.Standardizer(train)
				}
				src := train.Row(rng.IntN(n))
				for j := range dst {
					v := src[j] + float32(rng.NormFloat64()*scale)*std[j]
					dst[j] = float32(math.Min(math.Max(float64(v), float64(lo[j])), float64(hi[j])))
				}
			case TransferMixup:
				a := rng.IntN(n)
				b := a
				if n > 1 {
					b = rng.IntN(n - 1)
					if b >= a {
						b++
					}
				}
				lam := float32(rng.Float64())
				xa, xb := train.Row(a), train.Row(b)
				for j := range dst {
					dst[j] = lam*xa[j] + (1-lam)*xb[j]
				}
			}
			row++
		}
	}
	return x, labels, nil
}
