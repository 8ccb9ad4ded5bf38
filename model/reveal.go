package model

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/blas/blas32"
)

// RevealMode says how much of its output distribution a served model
// reveals. The zero RevealMode is RevealFull.
type RevealMode int

// The reveal modes.
const (
	RevealFull  RevealMode = iota // the whole distribution
	RevealTopK                    // the K largest probabilities, the rest spread evenly
	RevealLabel                   // only the predicted label, as a one-hot vector
)

// Reveal is a serving-time output policy. The zero Reveal reveals the full
// distribution; K is used only by RevealTopK.
type Reveal struct {
	Mode RevealMode
	K    int
}

// ParseReveal parses "full", "topk:K" (K ≥ 1) or "label"; the empty
// string means "full".
func ParseReveal(s string) (Reveal, error) {
	switch s {
	case "", "full":
		return Reveal{Mode: RevealFull}, nil
	case "label":
		return Reveal{Mode: RevealLabel}, nil
	}
	if rest, ok := strings.CutPrefix(s, "topk:"); ok {
		k, err := strconv.Atoi(rest)
		if err != nil {
			return Reveal{}, fmt.Errorf("reveal %q: K must be an integer", s)
		}
		if k < 1 {
			return Reveal{}, fmt.Errorf("reveal %q: K must be at least 1", s)
		}
		return Reveal{Mode: RevealTopK, K: k}, nil
	}
	return Reveal{}, fmt.Errorf("reveal %q: want full, topk:K or label", s)
}

// String returns r in the form ParseReveal accepts.
func (r Reveal) String() string {
	switch r.Mode {
	case RevealFull:
		return "full"
	case RevealTopK:
		return "topk:" + strconv.Itoa(r.K)
	case RevealLabel:
		return "label"
	}
	return fmt.Sprintf("RevealMode(%d)", int(r.Mode))
}

// Apply writes to dst what r reveals of the distribution p (same length;
// dst may alias p). Full copies p. TopK keeps the K largest entries (ties
// to the lowest index) and spreads the remaining mass Σp - Σkept evenly
// over the other entries, each of which is then at most the K-th kept
// one; K ≥ len(p) copies. Label writes a one-hot vector on the argmax
// (ties to the lowest index). It panics if the lengths differ or the mode
// is unknown.
func (r Reveal) Apply(dst, p []float32) {
	if len(dst) != len(p) {
		panic(fmt.Sprintf("model: Reveal.Apply: dst has length %d, p %d", len(dst), len(p)))
	}
	n := len(p)
	switch r.Mode {
	case RevealFull:
		copy(dst, p)
	case RevealLabel:
		if n == 0 {
			return
		}
		best := Argmax(p)
		for i := range dst {
			dst[i] = 0
		}
		dst[best] = 1
	case RevealTopK:
		if r.K < 1 {
			panic(fmt.Sprintf("model: Reveal.Apply: topk with K = %d", r.K))
		}
		if r.K >= n {
			copy(dst, p)
			return
		}
		r.applyTopK(dst, p)
	default:
		panic(fmt.Sprintf("model: Reveal.Apply: unknown mode %d", int(r.Mode)))
	}
}

// applyTopK implements TopK for K < len(p) by partial selection sort of
// an index permutation (O(nK)); it allocates only when len(p) > 64.
func (r Reveal) applyTopK(dst, p []float32) {
	n := len(p)
	var buf [64]int
	idx := buf[:0]
	if n > len(buf) {
		idx = make([]int, 0, n)
	}
	total := 0.0
	for i, v := range p {
		idx = append(idx, i)
		total += float64(v)
	}
	kept := 0.0
	for k := 0; k < r.K; k++ {
		best := k
		for j := k + 1; j < n; j++ {
			a, b := p[idx[j]], p[idx[best]]
			if a > b || (a == b && idx[j] < idx[best]) {
				best = j
			}
		}
		idx[k], idx[best] = idx[best], idx[k]
		kept += float64(p[idx[k]])
	}
	rest := float32(math.Max(total-kept, 0) / float64(n-r.K))
	for _, i := range idx[r.K:] {
		dst[i] = rest
	}
	for _, i := range idx[:r.K] {
		dst[i] = p[i]
	}
}

// Argmax returns the index of the largest element of p, the lowest on
// ties (0 for an empty p).
func Argmax(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

// revealModel is the Model returned by WithReveal.
type revealModel struct {
	m Model
	r Reveal
}

// WithReveal returns a Model that predicts like m and then applies r to
// every output row. Its Info is m's with " [reveal topk:K]" (etc.)
// appended to the Name. A full Reveal returns m itself.
func WithReveal(m Model, r Reveal) Model {
	if r.Mode == RevealFull {
		return m
	}
	if r.Mode == RevealTopK && r.K < 1 || r.Mode < RevealFull || r.Mode > RevealLabel {
		panic(fmt.Sprintf("model: WithReveal: invalid reveal %v", r))
	}
	return &revealModel{m: m, r: r}
}

func (w *revealModel) Info() Info {
	info := w.m.Info()
	info.Name += " [reveal " + w.r.String() + "]"
	return info
}

// Unwrap returns the wrapped model.
func (w *revealModel) Unwrap() Model { return w.m }

func (w *revealModel) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	p, err := w.m.Predict(ctx, x)
	if err != nil {
		return p, err
	}
	for i := 0; i < p.Rows; i++ {
		row := p.Data[i*p.Stride : i*p.Stride+p.Cols]
		w.r.Apply(row, row)
	}
	return p, nil
}

// temperatureModel is the Model returned by WithTemperature.
type temperatureModel struct {
	m Model
	t float64
}

// WithTemperature returns a Model whose outputs are m's re-tempered:
// p' ∝ p^(1/T), i.e. softmax(log p / T), computed in float64; zero
// probabilities stay zero. Its Info is m's with " [T=…]" appended to the
// Name. T == 1 returns m itself; it panics unless T is positive and finite.
func WithTemperature(m Model, T float64) Model {
	if !(T > 0) || math.IsInf(T, 0) {
		panic(fmt.Sprintf("model: WithTemperature: temperature %v, want a positive number", T))
	}
	if T == 1 {
		return m
	}
	return &temperatureModel{m: m, t: T}
}

func (w *temperatureModel) Info() Info {
	info := w.m.Info()
	info.Name += " [T=" + strconv.FormatFloat(w.t, 'g', -1, 64) + "]"
	return info
}

// Unwrap returns the wrapped model.
func (w *temperatureModel) Unwrap() Model { return w.m }

func (w *temperatureModel) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	p, err := w.m.Predict(ctx, x)
	if err != nil {
		return p, err
	}
	for i := 0; i < p.Rows; i++ {
		row := p.Data[i*p.Stride : i*p.Stride+p.Cols]
		Retemper(row, row, w.t)
	}
	return p, nil
}

// Retemper sets dst to p re-tempered at temperature T: dst[i] ∝ p[i]^(1/T),
// i.e. softmax(log p / T), with the maximum subtracted and the sum in
// float64. Zero entries stay zero; a row without a positive entry is
// copied unchanged. dst may alias p. It panics if the lengths differ or T
// is not positive.
func Retemper(dst, p []float32, T float64) {
	checkLen("Retemper", dst, p)
	if !(T > 0) {
		panic(fmt.Sprintf("model: Retemper: temperature %v, want > 0", T))
	}
	m := math.Inf(-1)
	for _, v := range p {
		if v > 0 {
			m = math.Max(m, math.Log(float64(v)))
		}
	}
	if math.IsInf(m, -1) {
		copy(dst, p)
		return
	}
	s := 0.0
	for i, v := range p {
		e := 0.0
		if v > 0 {
			e = math.Exp((math.Log(float64(v)) - m) / T)
		}
		dst[i] = float32(e)
		s += e
	}
	for i, v := range dst {
		dst[i] = float32(float64(v) / s)
	}
}
