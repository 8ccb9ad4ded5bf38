package audit

import (
	"errors"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// shrunkCov sets dst to the Ledoit–Wolf estimate of the covariance of the
// rows x (n vectors of length p, n ≥ 2) and returns its shrinkage λ:
//
//	Σ* = λ·m·I + (1−λ)·S,  S = (1/n) Σₖ (xₖ−x̄)(xₖ−x̄)ᵀ,  m = tr(S)/p,
//	λ = min(1, max(minShrink, b²/d²)),  d² = ‖S − m·I‖²_F,
//	b² = (1/n²) Σₖ ‖(xₖ−x̄)(xₖ−x̄)ᵀ − S‖²_F
//
// (Ledoit and Wolf, J. Multivariate Anal. 88, 2004, with λ held at least
// minShrink so that coordinates on which the rows do not vary get a
// finite weight), which is positive definite whenever m > 0, however few
// rows there are. dst must be p×p. It returns −1, leaving dst untouched,
// when m = 0 (every row the same).
func shrunkCov(dst *mat.SymDense, x [][]float64) float64 {
	n, p := len(x), dst.SymmetricDim()
	mean := make([]float64, p)
	for _, r := range x {
		floats.Add(mean, r)
	}
	floats.Scale(1/float64(n), mean)
	c := make([][]float64, n)
	s := make([]float64, p*p)
	for k, r := range x {
		c[k] = make([]float64, p)
		floats.SubTo(c[k], r, mean)
		for i, a := range c[k] {
			if a == 0 {
				continue
			}
			floats.AddScaled(s[i*p:(i+1)*p], a/float64(n), c[k])
		}
	}
	var m float64
	for i := range p {
		m += s[i*p+i]
	}
	m /= float64(p)
	if m <= 0 {
		return -1
	}
	var d2, s2 float64
	for i := range p {
		for j := range p {
			v := s[i*p+j]
			s2 += v * v
			if i == j {
				v -= m
			}
			d2 += v * v
		}
	}
	// ‖ccᵀ − S‖²_F = ‖c‖⁴ − 2 cᵀSc + ‖S‖²_F.
	var b2 float64
	sc := make([]float64, p)
	for _, r := range c {
		for i := range p {
			sc[i] = floats.Dot(s[i*p:(i+1)*p], r)
		}
		cc := floats.Dot(r, r)
		b2 += cc*cc - 2*floats.Dot(r, sc) + s2
	}
	b2 /= float64(n) * float64(n)
	lambda := 1.0
	if d2 > 0 {
		lambda = min(1, max(minShrink, b2/d2))
	}
	for i := range p {
		for j := i; j < p; j++ {
			v := (1 - lambda) * s[i*p+j]
			if i == j {
				v += lambda * m
			}
			dst.SetSym(i, j, v)
		}
	}
	return lambda
}

// whitener weighs a centred lean y by the inverse of a covariance, Σ⁻¹y:
// the statistic Σᵢ (Σ⁻¹y)ᵢ dᵢ is then the generalised least-squares
// matched filter for a trace along d in noise of covariance Σ, which
// counts less what independent models vary on together. The zero value
// is not usable; see newWhitener.
type whitener struct {
	chol mat.Cholesky
}

// newWhitener returns the whitener of the Ledoit–Wolf covariance
// (shrunkCov) of the leans x, or nil when there are fewer than minWhiten
// of them or they do not vary (then a lean is tested as it is).
func newWhitener(x [][]float64) *whitener {
	if len(x) < minWhiten {
		return nil
	}
	cov := mat.NewSymDense(len(x[0]), nil)
	if shrunkCov(cov, x) < 0 {
		return nil
	}
	w := &whitener{}
	if !w.chol.Factorize(cov) {
		return nil
	}
	return w
}

// minShrink is the least shrinkage shrunkCov applies.
const minShrink = 0.1

// minWhiten is the fewest leans a whitener is estimated from.
const minWhiten = 8

// Weigh sets dst to Σ⁻¹y.
func (w *whitener) Weigh(dst, y []float64) {
	out := mat.NewVecDense(len(dst), dst)
	err := w.chol.SolveVecTo(out, mat.NewVecDense(len(y), y))
	var cond mat.Condition
	if err != nil && !errors.As(err, &cond) {
		// A successful factorisation solves any right-hand side of its
		// size; a mere ill-conditioning warning still gives the solution.
		panic("audit: whitener: " + err.Error())
	}
}
