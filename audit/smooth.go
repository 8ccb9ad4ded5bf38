package audit

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// smoothedLabels is a model.Model that answers every training row with its
// true label smoothed by eps: (1−eps) on the label plus eps/K everywhere.
// Distilling from it at T = 1, α = 1 is training with label smoothing.
type smoothedLabels struct {
	info  model.Info
	eps   float64
	seed  maphash.Seed
	label map[uint64]int
}

func newSmoothedLabels(d *dataset.Dataset, eps float64) *smoothedLabels {
	s := &smoothedLabels{
		info: model.Info{Name: "label-smoothing", Kind: model.Classifier, InputSize: d.Dim(), Labels: d.Labels},
		eps:  eps, seed: maphash.MakeSeed(), label: make(map[uint64]int, d.Len()),
	}
	for i := range d.Len() {
		s.label[s.key(d.Row(i))] = d.Y[i]
	}
	return s
}

func (s *smoothedLabels) key(row []float32) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	var b [4]byte
	for _, v := range row {
		u := math.Float32bits(v)
		b[0], b[1], b[2], b[3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
		h.Write(b[:])
	}
	return h.Sum64()
}

func (s *smoothedLabels) Info() model.Info { return s.info }

func (s *smoothedLabels) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	k := len(s.info.Labels)
	out := blas32.General{Rows: x.Rows, Cols: k, Stride: k, Data: make([]float32, x.Rows*k)}
	for i := range x.Rows {
		y, ok := s.label[s.key(x.Data[i*x.Stride:i*x.Stride+x.Cols])]
		if !ok {
			return blas32.General{}, fmt.Errorf("audit: label smoothing: row %d is not a training row", i)
		}
		row := out.Data[i*k : (i+1)*k]
		for j := range row {
			row[j] = float32(s.eps / float64(k))
		}
		row[y] += float32(1 - s.eps)
	}
	return out, nil
}
