package model

// This file reads a model's answers in another order of its labels.

import (
	"context"
	"fmt"
	"slices"

	"gonum.org/v1/gonum/blas/blas32"
)

// LabelColumns returns, for each of a model's labels got, the column of
// the labels want with the same name, or nil when the two lists are
// equal; ok is false unless got lists want's labels, each once, in some
// order.
func LabelColumns(got, want []string) (cols []int, ok bool) {
	if slices.Equal(got, want) {
		return nil, true
	}
	if len(got) != len(want) {
		return nil, false
	}
	at := make(map[string]int, len(want))
	for j, l := range want {
		if _, dup := at[l]; dup {
			return nil, false
		}
		at[l] = j
	}
	cols = make([]int, len(got))
	for j, l := range got {
		k, found := at[l]
		if !found {
			return nil, false
		}
		delete(at, l) // a label listed twice is not found the second time
		cols[j] = k
	}
	return cols, true
}

// InLabelOrder returns a Model answering as m does with its columns in the
// order of the labels want, matched by name, and Info listing want: for a
// model (an API that sorts its class names, say) that lists a dataset's
// labels in another order. It returns m itself when m lists want in that
// order, and ok false (and a nil Model) when m's labels are not want's,
// each once, in some order.
func InLabelOrder(m Model, want []string) (_ Model, ok bool) {
	cols, ok := LabelColumns(m.Info().Labels, want)
	switch {
	case !ok:
		return nil, false
	case cols == nil:
		return m, true
	}
	return &orderedModel{m: m, cols: cols, labels: slices.Clone(want)}, true
}

// orderedModel is InLabelOrder's model: column j of m's answers is column
// cols[j] of its own.
type orderedModel struct {
	m      Model
	cols   []int
	labels []string
}

func (o *orderedModel) Info() Info {
	info := o.m.Info()
	info.Labels = slices.Clone(o.labels)
	return info
}

// Unwrap returns the wrapped model.
func (o *orderedModel) Unwrap() Model { return o.m }

func (o *orderedModel) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	p, err := o.m.Predict(ctx, x)
	if err != nil {
		return p, err
	}
	k := len(o.cols)
	if p.Cols != k || p.Rows != x.Rows || p.Stride < p.Cols || p.Rows > 0 && len(p.Data) < (p.Rows-1)*p.Stride+p.Cols {
		return p, fmt.Errorf("model %q: answer is %d×%d for %d rows of %d labels", o.m.Info().Name, p.Rows, p.Cols, x.Rows, k)
	}
	out := blas32.General{Rows: p.Rows, Cols: k, Stride: k, Data: make([]float32, p.Rows*k)}
	for i := 0; i < p.Rows; i++ {
		src, dst := p.Data[i*p.Stride:i*p.Stride+k], out.Data[i*k:(i+1)*k]
		for j, v := range src {
			dst[o.cols[j]] = v
		}
	}
	return out, nil
}
