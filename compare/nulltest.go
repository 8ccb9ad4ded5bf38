package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultMinNull is the smallest number of null models Test accepts for a
// statistic when Options.MinNull is zero. With fewer than three the
// Student-t predictive has at most one degree of freedom and is useless.
const DefaultMinNull = 3

// ErrInsufficientNull is wrapped by the error Test returns when no statistic
// has a usable null (too few null models for every statistic).
var ErrInsufficientNull = errors.New("insufficient null")

// ErrNonFinite is wrapped when a similarity passed to Test is ±Inf (NaN is
// allowed and means "not measured").
var ErrNonFinite = errors.New("non-finite similarity")

// Options configures Test. The zero value means the defaults.
type Options struct {
	// MinNull is the minimum number of (non-NaN) null similarities a
	// statistic needs; 0 means DefaultMinNull. Values below 3 are raised to 3.
	MinNull int
	// Predictive chooses the null model; the zero value is PredictiveRobust.
	Predictive Predictive
}

// Predictive names the predictive distribution Test fits to the null
// similarities of one statistic.
type Predictive int

const (
	// PredictiveRobust (the default) first applies the Yeo–Johnson power
	// transform to the standardised null similarities, with λ ∈ [0, 1]
	// fitted by maximum likelihood — λ < 1 shortens a long upper tail, and
	// λ > 1 (which would lengthen it) is not allowed — and then uses the
	// Student-t predictive with min((n−1)/3, 8) degrees of freedom instead
	// of n−1 (see robustMaxDF). Both changes make p-values larger when the
	// null is Gaussian (measured rejection rate at α = 0.01: about 0.003
	// instead of 0.01 with n = 20, 0.002 with n = 64; a suspect needs
	// z ≳ 4.6 instead of 3.3 to reach p = 0.0033 with n = 20, and a median
	// z of 2.9 to reach p = 0.01 with n = 64) and keep the test valid when
	// the null is right-skewed, as agreement statistics of independent
	// models are (logit of a beta-binomial: about 0.006 at α = 0.01, against
	// 0.028 with PredictiveGaussian).
	PredictiveRobust Predictive = iota
	// PredictiveGaussian is the plain Student-t predictive with n−1 degrees
	// of freedom on the raw similarities: exact when the null similarities
	// are i.i.d. Gaussian, anti-conservative when they are right-skewed.
	PredictiveGaussian
)

// Method says how a StatResult's P was obtained.
type Method string

// The ways Test turns a statistic into a p-value.
const (
	// MethodT is the Student-t predictive p-value (the normal case).
	MethodT Method = "t-predictive"
	// MethodEmpirical is used when every null similarity is equal (sd = 0)
	// or at least half of them share one value (see TiedShare): P is then
	// the empirical p-value, valid under exchangeability alone and never
	// below 1/(n+1).
	MethodEmpirical Method = "empirical"
	// MethodInsufficient marks a statistic with fewer than MinNull null
	// values or a NaN suspect value; its P is 1 (no evidence), never 0.
	MethodInsufficient Method = "insufficient"
)

// StatResult is Test's verdict on one statistic. X is the suspect's
// similarity; Mean, SD and N describe the null similarities; Z = (X−Mean)/SD
// is the effect size (0 when SD is 0); P is the p-value (see Test) and
// PEmpirical = (1 + #{null ≥ X})/(N + 1) the rank-based p-value beside it.
// Lambda is the Yeo–Johnson parameter used (1 means no transform).
type StatResult struct {
	X          float64 `json:"x"`
	Mean       float64 `json:"mean"`
	SD         float64 `json:"sd"`
	N          int     `json:"n"`
	Z          float64 `json:"z"`
	P          float64 `json:"p"`
	PEmpirical float64 `json:"p_empirical"`
	Method     Method  `json:"method"`
	Lambda     float64 `json:"lambda"`
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
// standard deviation s, the Gaussian predictive p-value is
//
//	P_j = 1 − F_{t, n−1}((x − ȳ) / (s·√(1 + 1/n))),
//
// the upper tail of the Student-t predictive distribution of a new draw
// from the null. If the null similarities are i.i.d. Gaussian this is exact
// (P(P_j ≤ α) = α for an independent suspect), and unlike a rank test it
// can go below 1/(n+1), so a clear clone gets a small p-value from a few
// dozen null models. Real nulls are often right-skewed, which makes it
// anti-conservative, so by default Test uses the same formula after a
// skew-reducing transform and with min((n−1)/3, 8) degrees of freedom (see
// PredictiveRobust). When s = 0, or when at least TiedShare of the null
// similarities are one and the same value (a point mass no smooth
// predictive describes), the empirical p-value is used instead;
// when n < MinNull or x is NaN the statistic gives P_j = 1.
//
// The combined p-value is Bonferroni's m·min_j P_j (capped at 1). It is
// valid under any dependence between the statistics, which matters because
// agreement, JS and mistake agreement of one suspect are strongly
// correlated; Fisher's or Stouffer's combinations assume independence and
// would overstate the evidence. m counts every statistic passed, usable or
// not, so the correction cannot be gamed by dropping statistics after the
// fact.
//
// Test returns an error wrapping ErrShape for ragged input, ErrNonFinite for
// an infinite similarity, and an error wrapping ErrInsufficientNull
// (together with the Result, whose P is 1) when no statistic has a usable
// null.
func Test(null [][]float64, suspect []float64, opts Options) (Result, error) {
	m := len(suspect)
	if m == 0 {
		return Result{}, fmt.Errorf("compare: no statistics: %w", ErrShape)
	}
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
	minNull := max(opts.MinNull, DefaultMinNull)
	res := Result{Stats: make([]StatResult, m)}
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
		r := testOne(col, suspect[j], minNull, opts.Predictive)
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
		return res, fmt.Errorf("compare: fewer than %d null similarities for every statistic: %w", minNull, ErrInsufficientNull)
	}
	return res, nil
}

// robustDFDivisor divides the degrees of freedom of the robust predictive;
// 2 was measured to be slightly anti-conservative for strongly skewed nulls.
const robustDFDivisor = 3

// robustMaxDF caps the robust predictive's degrees of freedom, so that
// ν = min((n−1)/robustDFDivisor, robustMaxDF). A one-parameter transform
// fitted to n null values does not make a skewed null Gaussian however
// large n is, so the predictive's tails must not keep thinning as n grows.
// Measured per statistic, 20,000 replicates, on the scenarios of
// validity_test.go (Gaussian, agreement-mid, agreement-skewed, beta-binomial
// 300·(18,2), 300·(9,1), 50·(4,1), 50·(1,4)): without the cap, at n = 64
// (ν = 21) the worst rejection rates at α = 0.001/0.01/0.05/0.1 were
// 0.0027/0.0145/0.0659/0.1037 (agreement-skewed's JS statistic; beta-
// binomial 50·(4,1) at 0.05); with it they are 0.0009/0.0078/0.0462/0.0929.
// At n = 128 the cap gives 0.0004/0.0071/0.0527/0.0872 (0.0038/0.0148/
// 0.0746/0.1040 without it): beta-binomial 50·(4,1), a lumpy null of
// about 15 distinct values, stays slightly above 0.05. At n ≤ 25 the cap
// does not bind, so the figures at n = 20 are unchanged (worst
// 0.0010/0.0094/0.0428/0.0950). Caps of 10 and 15 left beta-binomial
// 50·(4,1) at 0.054 and 0.062 at α = 0.05 with n = 64; dividing by 4, 6
// or 8 instead costs power at n = 20 and does less at n = 128. The price on
// a Gaussian null at n = 64: rejection at α = 0.01 0.0023 instead of
// 0.0057, and a suspect needs z ≈ 2.9 instead of 2.5 (medians) to reach
// p ≤ 0.01. Nulls with heavier tails than these are not covered: lognormal
// (σ = 1.5) gives 0.023–0.025 at α = 0.01 with n = 20 (two runs of 8,000
// and 20,000 replicates) and 0.027 with n = 64. Point masses are
// handled apart (TiedShare). Tried for the lognormal and dropped: λ < 0
// (down to −1 or −2) and up to three Yeo–Johnson passes while λ stays at
// its bound both bring α = 0.01 within bounds but reject 12–13 % at
// α = 0.1; tail-adaptive degrees of freedom from the transformed null's
// kurtosis change nothing (the misfit after the transform is skew).
const robustMaxDF = 8

// TiedShare is the share of null similarities sharing one value at and
// above which Test uses the empirical p-value for a statistic instead of
// a predictive. A null that is mostly one value (a statistic most
// independent models score exactly 0 on, say) has a spread set by its few
// other values, and the fitted predictive then puts a suspect just above
// the tie far into the tail. Measured on 8,000 replicates: a 95 % point
// mass at zero (the rest lognormal) was rejected 1.7 % (n = 20) and 2.8 %
// (n = 64) of the time at α = 0.01 with the robust predictive, an 80 %
// point mass 4.0 % and 3.9 %; with the empirical p-value 0 % (it cannot
// go below 1/(n+1)) and at most 4.7 % at α = 0.05. No scenario of
// validity_test.go reaches the threshold: over 2,000 nulls each, the
// largest tie was 45 % of 20 null values and 31 % of 64 (agreement-
// skewed's mistake agreement on 40 probes), 7–16 % on average.
const TiedShare = 0.5

// modeShare returns the largest fraction of y sharing one value.
func modeShare(y []float64) float64 {
	s := slices.Clone(y)
	slices.Sort(s)
	best, run := 0, 0
	for i := range s {
		if i > 0 && s[i] == s[i-1] {
			run++
		} else {
			run = 1
		}
		best = max(best, run)
	}
	return float64(best) / float64(len(s))
}

// testOne computes one StatResult from the null similarities y.
func testOne(y []float64, x float64, minNull int, pred Predictive) StatResult {
	n := len(y)
	r := StatResult{X: x, N: n, P: 1, PEmpirical: 1, Method: MethodInsufficient, Lambda: 1}
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
	if modeShare(y) >= TiedShare {
		r.Method = MethodEmpirical
		r.P = r.PEmpirical
		return r
	}
	r.Method = MethodT
	inflate := math.Sqrt(1 + 1/float64(n))
	if pred == PredictiveGaussian {
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
		r.P = max(t.Survival(r.Z/inflate), MinP)
		return r
	}
	// Robust predictive: Yeo–Johnson on the standardised null with
	// λ ∈ [0, 1] (only ever shortening the upper tail), then a Student-t
	// predictive with a third of the degrees of freedom, at most
	// robustMaxDF.
	z := make([]float64, n)
	for i, v := range y {
		z[i] = (v - r.Mean) / r.SD
	}
	r.Lambda = fitYJ(z, 0, 1)
	for i := range z {
		z[i] = yeoJohnson(z[i], r.Lambda)
	}
	m2, s2 := stat.MeanStdDev(z, nil)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: robustDF(n)}
	r.P = max(t.Survival((yeoJohnson(r.Z, r.Lambda)-m2)/(s2*inflate)), MinP)
	return r
}

// MinP is the smallest p-value a parametric test reports: a suspect far
// beyond its null got exactly 0 from the Student-t tail, which readers of
// stored results take for a missing value.
const MinP = 1e-300

// robustDF is the robust predictive's degrees of freedom for n null values.
func robustDF(n int) float64 {
	return math.Min(float64(n-1)/robustDFDivisor, robustMaxDF)
}
