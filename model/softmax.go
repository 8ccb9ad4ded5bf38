package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// minLogProb is the floor of LogSoftmax outputs: the most negative finite
// float32, so that log-probabilities of (numerically) zero probabilities
// stay finite and 0·log p is 0, not NaN.
const minLogProb = -math.MaxFloat32

func checkLen(op string, dst, src []float32) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("model: %s: dst has length %d, logits %d", op, len(dst), len(src)))
	}
}

// maxOf returns the largest element of x (float64), NaN if any is NaN.
func maxOf(x []float32) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		f := float64(v)
		if f > m {
			m = f
		}
		if f != f {
			return f
		}
	}
	return m
}

// softmaxSpecial handles a maximum that is ±Inf: the mass is shared by the
// +Inf entries, or spread uniformly when every entry is -Inf. It writes
// probabilities (log=false) or log-probabilities and reports whether m
// was special.
func softmaxSpecial(dst, logits []float32, m float64, log bool) bool {
	if !math.IsInf(m, 0) {
		return false
	}
	cnt := 0
	for _, v := range logits {
		if float64(v) == m {
			cnt++
		}
	}
	p := 1 / float64(cnt)
	for i, v := range logits {
		q := 0.0
		if float64(v) == m {
			q = p
		}
		if log {
			dst[i] = clampLog(math.Log(q))
		} else {
			dst[i] = float32(q)
		}
	}
	return true
}

func clampLog(v float64) float32 {
	if v < minLogProb {
		return minLogProb
	}
	return float32(v)
}

// LogSoftmax sets dst[i] = logits[i] - log Σ_j exp(logits[j]), computed
// stably as (x_i - m) - log Σ_j exp(x_j - m) with m = max_j x_j and the sum
// in float64. Results are floored at -math.MaxFloat32, so huge or infinite
// logits give finite outputs; +Inf logits share all the mass, all -Inf
// gives the uniform distribution, and NaN logits give NaN. dst may alias
// logits; it panics if the lengths differ.
func LogSoftmax(dst, logits []float32) {
	checkLen("LogSoftmax", dst, logits)
	if len(logits) == 0 {
		return
	}
	m := maxOf(logits)
	if softmaxSpecial(dst, logits, m, true) {
		return
	}
	s := 0.0
	for _, v := range logits {
		s += math.Exp(float64(v) - m)
	}
	lse := m + math.Log(s)
	for i, v := range logits {
		dst[i] = clampLog(float64(v) - lse)
	}
}

// Softmax sets dst[i] = exp(logits[i]) / Σ_j exp(logits[j]), computed
// stably with the maximum subtracted and the sum in float64. Huge or
// infinite logits give finite outputs (see LogSoftmax). dst may alias
// logits; it panics if the lengths differ.
func Softmax(dst, logits []float32) {
	softmaxScaled("Softmax", dst, logits, 1)
}

// SoftmaxT sets dst to softmax(logits/T): dst[i] ∝ exp(logits[i]/T). T
// above 1 flattens the distribution, below 1 sharpens it. It panics if T is
// not positive or the lengths differ.
func SoftmaxT(dst, logits []float32, T float64) {
	if !(T > 0) {
		panic(fmt.Sprintf("model: SoftmaxT: temperature %v, want > 0", T))
	}
	softmaxScaled("SoftmaxT", dst, logits, 1/T)
}

func softmaxScaled(op string, dst, logits []float32, invT float64) {
	checkLen(op, dst, logits)
	if len(logits) == 0 {
		return
	}
	m := maxOf(logits)
	if softmaxSpecial(dst, logits, m, false) {
		return
	}
	s := 0.0
	for i, v := range logits {
		e := math.Exp((float64(v) - m) * invT)
		dst[i] = float32(e)
		s += e
	}
	inv := 1 / s
	for i, v := range dst {
		dst[i] = float32(float64(v) * inv)
	}
}

// SoftmaxRows applies Softmax to each row of logits, writing dst, which
// must have the same shape and may alias logits. It panics on mismatched
// shapes.
func SoftmaxRows(dst, logits blas32.General) {
	if dst.Rows != logits.Rows || dst.Cols != logits.Cols {
		panic(fmt.Sprintf("model: SoftmaxRows: dst is %d×%d, logits %d×%d", dst.Rows, dst.Cols, logits.Rows, logits.Cols))
	}
	c := logits.Cols
	for i := 0; i < logits.Rows; i++ {
		Softmax(dst.Data[i*dst.Stride:i*dst.Stride+c], logits.Data[i*logits.Stride:i*logits.Stride+c])
	}
}
