package compare

import "math"

// LogCorrFloor is added to probabilities before taking their logarithm in
// LogCorr, so that zeros stay finite.
const LogCorrFloor = 1e-7

// LogCorr returns the Pearson correlation of the log-probabilities of two
// distributions over the same labels,
//
//	r = Σ_j (a_j − ā)(b_j − b̄) / √(Σ_j (a_j − ā)² · Σ_j (b_j − b̄)²),
//	a_j = log(p_j + LogCorrFloor), b_j = log(q_j + LogCorrFloor),
//
// accumulated in float64. It measures whether two models rank and space
// all their classes alike — the "dark knowledge" a distilled student
// inherits — and is invariant to serving-time temperature: rescaling q to
// q^(1/T) multiplies b − b̄ by 1/T and leaves r unchanged (up to the floor).
// It returns 0 when either row is constant (a one-hot row after the floor
// is not constant, so label-only answers give a defined but uninformative
// value). It panics if the lengths differ.
func LogCorr(p, q []float32) float64 {
	if len(p) != len(q) {
		panic("compare: LogCorr length mismatch")
	}
	n := float64(len(p))
	if n == 0 {
		return 0
	}
	var ma, mb float64
	for j := range p {
		ma += math.Log(float64(p[j]) + LogCorrFloor)
		mb += math.Log(float64(q[j]) + LogCorrFloor)
	}
	ma /= n
	mb /= n
	var sab, saa, sbb float64
	for j := range p {
		a := math.Log(float64(p[j])+LogCorrFloor) - ma
		b := math.Log(float64(q[j])+LogCorrFloor) - mb
		sab += a * b
		saa += a * a
		sbb += b * b
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}
