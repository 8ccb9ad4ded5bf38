package probe

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// Batch is the output of one generator: probe rows of a single kind and
// the Generator record that made them.
type Batch struct {
	// X holds one probe per row (Stride == Cols); zero rows when the
	// generator found nothing or was skipped.
	X blas32.General
	// Source is, per row, the index of the held-out dataset row the probe
	// was derived from (for boundary probes the first endpoint), or -1 when
	// there is none (noise). Nil means no sources were recorded.
	Source []int
	// Gen records the generator; Gen.Count == X.Rows.
	Gen Generator
}

// Finalize concatenates batches, in order, into a new Suite named name whose
// probes are answered over labels (the teacher's output vocabulary), with
// one Kind per row taken from each batch's Gen.Kind and Hash set by
// CanonicalHash. Batches with no rows still contribute their Generator
// record. It returns an error wrapping ErrShape if the batches disagree on
// the number of features, and one wrapping ErrInvalid if the result fails
// Validate (for example no probes at all, or non-finite values).
func Finalize(name string, labels []string, batches ...Batch) (*Suite, error) {
	cols, rows := 0, 0
	for _, b := range batches {
		if b.X.Rows == 0 {
			continue
		}
		if cols != 0 && b.X.Cols != cols {
			return nil, fmt.Errorf("probe: batch %q has %d features, want %d: %w", b.Gen.Kind, b.X.Cols, cols, ErrShape)
		}
		cols = b.X.Cols
		rows += b.X.Rows
	}
	s := &Suite{
		Name:   name,
		Labels: append([]string(nil), labels...),
		X:      blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)},
		Kinds:  make([]Kind, 0, rows),
	}
	r := 0
	for _, b := range batches {
		for i := 0; i < b.X.Rows; i++ {
			copy(s.X.Data[r*cols:(r+1)*cols], b.X.Data[i*b.X.Stride:i*b.X.Stride+cols])
			s.Kinds = append(s.Kinds, b.Gen.Kind)
			r++
		}
		g := cloneGenerator(b.Gen)
		g.Count = b.X.Rows
		s.Generators = append(s.Generators, g)
	}
	s.Hash = CanonicalHash(s.X, s.Kinds, s.Labels)
	if err := Validate(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Subset returns a new Suite holding copies of the probes idx of s, in that
// order, with the same name and labels, per-kind generator counts
// recomputed (a kind's selected probes are attributed to its generators in
// order, each up to its original count) and a recomputed Hash. It panics
// on an index out of range.
func Subset(s *Suite, idx []int) *Suite {
	cols := s.X.Cols
	out := &Suite{
		Name:   s.Name,
		Labels: append([]string(nil), s.Labels...),
		X:      blas32.General{Rows: len(idx), Cols: cols, Stride: cols, Data: make([]float32, len(idx)*cols)},
		Kinds:  make([]Kind, len(idx)),
	}
	left := map[Kind]int{}
	for k, i := range idx {
		if i < 0 || i >= s.X.Rows {
			panic(fmt.Sprintf("probe: Subset index %d out of range [0, %d)", i, s.X.Rows))
		}
		copy(out.X.Data[k*cols:(k+1)*cols], s.X.Data[i*s.X.Stride:i*s.X.Stride+cols])
		out.Kinds[k] = s.Kinds[i]
		left[s.Kinds[i]]++
	}
	for _, g := range s.Generators {
		g = cloneGenerator(g)
		n := min(g.Count, left[g.Kind])
		left[g.Kind] -= n
		g.Count = n
		out.Generators = append(out.Generators, g)
	}
	out.Hash = CanonicalHash(out.X, out.Kinds, out.Labels)
	return out
}

// Counts returns the number of probes of each kind in s.
func (s *Suite) Counts() map[Kind]int {
	n := map[Kind]int{}
	for _, k := range s.Kinds {
		n[k]++
	}
	return n
}

// Row returns probe i as a slice aliasing the suite's storage; callers must
// not modify it.
func (s *Suite) Row(i int) []float32 {
	return s.X.Data[i*s.X.Stride : i*s.X.Stride+s.X.Cols]
}

func cloneGenerator(g Generator) Generator {
	if g.Settings != nil {
		m := make(map[string]float64, len(g.Settings))
		for k, v := range g.Settings {
			m[k] = v
		}
		g.Settings = m
	}
	return g
}

// newMatrix returns a zeroed rows×cols matrix with Stride == Cols.
func newMatrix(rows, cols int) blas32.General {
	return blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)}
}

// row returns row i of m.
func row(m blas32.General, i int) []float32 {
	return m.Data[i*m.Stride : i*m.Stride+m.Cols]
}

// top2 returns the arg-max of p (ties to the lowest index), the largest
// value and the second largest value (p1 ≥ p2). A one-element p has p2 0.
func top2(p []float32) (i1 int, p1, p2 float32) {
	p1, p2 = float32(math.Inf(-1)), float32(math.Inf(-1))
	for j, v := range p {
		switch {
		case v > p1:
			p2 = p1
			i1, p1 = j, v
		case v > p2:
			p2 = v
		}
	}
	if len(p) < 2 {
		p2 = 0
	}
	return i1, p1, p2
}

// argmaxRows returns the arg-max of every row of p.
func argmaxRows(p blas32.General) []int {
	out := make([]int, p.Rows)
	for i := range out {
		out[i], _, _ = top2(row(p, i))
	}
	return out
}

// softmaxInto writes softmax(z) into dst, stably, summing in float64.
func softmaxInto(dst, z []float32) {
	m := float32(math.Inf(-1))
	for _, v := range z {
		m = max(m, v)
	}
	var sum float64
	for j, v := range z {
		e := math.Exp(float64(v - m))
		dst[j] = float32(e)
		sum += e
	}
	for j := range dst[:len(z)] {
		dst[j] = float32(float64(dst[j]) / sum)
	}
}

// splitmix returns a well-mixed 64-bit value derived from seed and k, used
// to give every generator of a build its own recorded seed.
func splitmix(seed, k uint64) uint64 {
	z := seed + (k+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
