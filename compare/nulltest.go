package compare

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultMinNull is the smallest number of null models Test accepts for a
// statistic when Options.MinNull is zero. With fewer than three the
// Student-t predictive has at most one degree of freedom and is useless.
const DefaultMinNull = 3

// ErrInsufficientNull is wrapped by the error Test returns when no statistic
// has a usable null (too few null models, or every null similarity equal).
var ErrInsufficientNull = errors.New("insufficient null")

// ErrNonFinite is wrapped when a similarity passed to Test is ±Inf (NaN is
// allowed and means "not measured").
var ErrNonFinite = errors.New("non-finite similarity")

// Options configures Test. The zero value means the defaults.
type Options struct {
	// MinNull is the minimum number of (non-NaN) null similarities a
	// statistic needs; 0 means DefaultMinNull. Values below 3 are raised to 3.
	MinNull int
}

// Method says how a StatResult's P was obtained.
type Method string

// The ways Test turns a statistic into a p-value.
const (
	// MethodT is the Student-t predictive p-value (the normal case).
	MethodT Method = "t-predictive"
	// MethodEmpirical is used when every null similarity is equal (sd = 0):
	// P is then the empirical p-value, valid under exchangeability alone.
	MethodEmpirical Method = "empirical"
	// MethodInsufficient marks a statistic with fewer than MinNull null
	// values or a NaN suspect value; its P is 1 (no evidence), never 0.
	MethodInsufficient Method = "insufficient"
)

// StatResult is Test's verdict on one statistic. X is the suspect's
// similarity; Mean, SD and N describe the null similarities; Z = (X−Mean)/SD
// is the effect size (0 when SD is 0); P is the p-value (see Test) and
// PEmpirical = (1 + #{null ≥ X})/(N + 1) the rank-based p-value beside it.
type StatResult struct {
	X          float64 `json:"x"`
	Mean       float64 `json:"mean"`
	SD         float64 `json:"sd"`
	N          int     `json:"n"`
	Z          float64 `json:"z"`
	P          float64 `json:"p"`
	PEmpirical float64 `json:"p_empirical"`
	Method     Method  `json:"method"`
}

// Result is Test's verdict on one suspect against one teacher's null.
// P is the combined p-value min(1, m·min_j P_j) over the m statistics
// (Bonferroni), MinP = min_j P_j before the correction (a score for ranking
// suspects, as in AUC), and Best the index of the statistic achieving it.
type Result struct {
	Stats []StatResult `json:"stats"`
	P     float64      `json:"p"`
	MinP  float64      `json:"min_p"`
	Best  int          `json:"best"`
}

// Test computes calibrated p-values for the hypothesis "the suspect is
// independent of the teacher, like the null models". null[i] is the
// similarity vector of null model i (an independent model such as a
// negative control or reference, compared to the same teacher on the same
// suite; see Stats.Vector), and suspect the suspect's vector over the same
// statistics in the same order. NaN entries of null are ignored.
//
// For each statistic j, with null similarities y_1…y_n of mean ȳ and sample
// standard deviation s,
//
//	P_j = 1 − F_{t, n−1}((x − ȳ) / (s·√(1 + 1/n))),
//
// the upper tail of the Student-t predictive distribution of a new draw
// from the null. If the null similarities are i.i.d. Gaussian this is exact
// (P(P_j ≤ α) = α for an independent suspect), and unlike a rank test it
// can go below 1/(n+1), so a clear clone gets a small p-value from a few
// dozen null models. When s = 0 the empirical p-value is used instead;
// when n < MinNull or x is NaN the statistic gives P_j = 1.
//
// The combined p-value is Bonferroni's m·min_j P_j (capped at 1). It is
// valid under any dependence between the statistics, which matters because
// agreement, JS and mistake agreement of one suspect are strongly
// correlated; Fisher's or Stouffer's combinations would assume
// independence and overstate the evidence.
//
// Test returns an error wrapping ErrShape for ragged input, ErrNonFinite for
// an infinite similarity, and an error
// wrapping ErrInsufficientNull (together with the Result, whose P is 1)
// when no statistic has a usable null.
func Test(null [][]float64, suspect []float64, opts Options) (Result, error) {
	m := len(suspect)
	for i, v := range null {
		if len(v) != m {
			return Result{}, fmt.Errorf("compare: null model %d has %d statistics, suspect %d: %w", i, len(v), m, ErrShape)
		}
		for j, y := range v {
			if math.IsInf(y, 0) {
				return Result{}, fmt.Errorf("compare: null model %d statistic %d is infinite: %w", i, j, ErrNonFinite)
			}
		}
	}
	for j, x := range suspect {
		if math.IsInf(x, 0) {
			return Result{}, fmt.Errorf("compare: suspect statistic %d is infinite: %w", j, ErrNonFinite)
		}
	}
	if m == 0 {
		return Result{}, fmt.Errorf("compare: no statistics: %w", ErrShape)
	}
	minNull := max(opts.MinNull, DefaultMinNull)
	res := Result{Stats: make([]StatResult, m), P: 1}
	col := make([]float64, 0, len(null))
	usable := 0
	minP := math.Inf(1)
	for j := 0; j < m; j++ {
		col = col[:0]
		for _, v := range null {
			if !math.IsNaN(v[j]) {
				col = append(col, v[j])
			}
		}
		r := testOne(col, suspect[j], minNull)
		res.Stats[j] = r
		if r.Method != MethodInsufficient {
			usable++
		}
		if r.P < minP {
			minP, res.Best = r.P, j
		}
	}
	res.MinP = minP
	res.P = math.Min(1, float64(m)*minP)
	if usable == 0 {
		res.P = 1
		return res, fmt.Errorf("compare: fewer than %d distinct null similarities for every statistic: %w", minNull, ErrInsufficientNull)
	}
	return res, nil
}

// testOne computes one StatResult from the null similarities y.
func testOne(y []float64, x float64, minNull int) StatResult {
	n := len(y)
	r := StatResult{X: x, N: n, P: 1, PEmpirical: 1, Method: MethodInsufficient}
	if n == 0 {
		return r
	}
	r.Mean, r.SD = stat.MeanStdDev(y, nil)
	if n == 1 {
		r.SD = 0
	}
	if math.IsNaN(x) {
		return r
	}
	ge := 0
	for _, v := range y {
		if v >= x {
			ge++
		}
	}
	r.PEmpirical = float64(1+ge) / float64(n+1)
	if n < minNull {
		return r
	}
	// A spread below rounding noise of the mean counts as zero.
	if !(r.SD > 1e-12*math.Max(1, math.Abs(r.Mean))) {
		r.SD = 0
		r.Method = MethodEmpirical
		r.P = r.PEmpirical
		return r
	}
	r.Z = (x - r.Mean) / r.SD
	scale := r.SD
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	if simUpper {
		t.Nu = simNu(n)
		z := make([]float64, n)
		for i, v := range y {
			z[i] = (v - r.Mean) / r.SD
		}
		lam := 1.0
		if !simRaw {
			lam = fitYJ(z, simLo, simHi)
		}
		for i := range z {
			z[i] = yeoJohnson(z[i], lam)
		}
		m2, s2 := stat.MeanStdDev(z, nil)
		xt := yeoJohnson(r.Z, lam)
		r.P = t.Survival((xt - m2) / (s2 * math.Sqrt(1+1/float64(n))))
		if simMax {
			r.P = math.Max(r.P, t.Survival(r.Z/math.Sqrt(1+1/float64(n))))
		}
		r.Method = MethodT
		return r
	}
	r.P = t.Survival((x - r.Mean) / (scale * math.Sqrt(1+1/float64(n))))
	r.Method = MethodT
	return r
}

var simUpper = false
var simLo = 0.0
var simHi = 2.0
var simMax = false
var simNu = func(n int) float64 { return float64(n - 1) }
var simRaw = false

// upperSD returns the upper semi-deviation of y about mean,
// sqrt(2·Σ_{y_i>mean}(y_i−mean)²/(n−1)), which estimates the standard
// deviation for a symmetric distribution and exceeds it for a right-skewed one.
func upperSD(y []float64, mean float64) float64 {
	var ss float64
	for _, v := range y {
		if d := v - mean; d > 0 {
			ss += d * d
		}
	}
	return math.Sqrt(2 * ss / float64(len(y)-1))
}
