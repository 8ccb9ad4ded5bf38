package compare

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Rate is the measured detection performance at one significance level.
// A control counts as flagged when its combined p-value is ≤ Alpha. TPR is
// the fraction of positive controls flagged, FPR the fraction of negative
// controls flagged, and FPRUpper a one-sided 95 % Clopper–Pearson upper
// bound on the true false-positive rate given that count (with 20
// negatives and none flagged it is still about 0.14).
type Rate struct {
	Alpha    float64 `json:"alpha"`
	TPR      float64 `json:"tpr"`
	FPR      float64 `json:"fpr"`
	FPRUpper float64 `json:"fpr_upper95"`
}

// Calibration is what Calibrate measured for one teacher. PosP and NegP are
// the combined p-values of the positive and negative controls (in input
// order), Rates one Rate per requested alpha, and AUC the ROC AUC of the
// score −log10(Result.MinP) separating positives from negatives.
type Calibration struct {
	PosP  []float64 `json:"pos_p"`
	NegP  []float64 `json:"neg_p"`
	Rates []Rate    `json:"rates"`
	AUC   float64   `json:"auc"`
}

// Calibrate measures how well Test separates a teacher's positive controls
// (models distilled or copied from it) from its negative controls
// (independent models) on held-out calibration data. Each positive is
// tested against all negatives as the null; each negative is tested
// leave-one-out against the other negatives, which is exactly what an
// independent suspect faces, so its FPR estimates the real false-positive
// rate. pos and neg are similarity vectors as passed to Test.
//
// It returns Test's error (wrapped, naming the control) if any test fails,
// for example ErrInsufficientNull when there are fewer than
// MinNull+1 negatives.
func Calibrate(pos, neg [][]float64, alphas []float64, opts Options) (Calibration, error) {
	c := Calibration{PosP: make([]float64, len(pos)), NegP: make([]float64, len(neg))}
	posScore := make([]float64, len(pos))
	negScore := make([]float64, len(neg))
	for i, x := range pos {
		r, err := Test(neg, x, opts)
		if err != nil {
			return Calibration{}, fmt.Errorf("compare: positive control %d: %w", i, err)
		}
		c.PosP[i], posScore[i] = r.P, score(r)
	}
	rest := make([][]float64, 0, len(neg))
	for i, x := range neg {
		rest = append(rest[:0], neg[:i]...)
		rest = append(rest, neg[i+1:]...)
		r, err := Test(rest, x, opts)
		if err != nil {
			return Calibration{}, fmt.Errorf("compare: negative control %d (leave-one-out): %w", i, err)
		}
		c.NegP[i], negScore[i] = r.P, score(r)
	}
	for _, a := range alphas {
		tp, fp := countLE(c.PosP, a), countLE(c.NegP, a)
		r := Rate{Alpha: a, TPR: frac(tp, len(pos)), FPR: frac(fp, len(neg)), FPRUpper: clopperUpper(fp, len(neg), 0.95)}
		c.Rates = append(c.Rates, r)
	}
	c.AUC = AUC(posScore, negScore)
	return c, nil
}

func score(r Result) float64 { return -math.Log10(math.Max(r.MinP, 1e-300)) }

func countLE(p []float64, a float64) int {
	n := 0
	for _, v := range p {
		if v <= a {
			n++
		}
	}
	return n
}

// frac returns k/n, or NaN when n is 0. NaN is not JSON-encodable, so
// callers with no controls of a kind should not report the rate.
func frac(k, n int) float64 {
	if n == 0 {
		return math.NaN()
	}
	return float64(k) / float64(n)
}

// clopperUpper is the one-sided exact upper confidence bound at level conf
// for a binomial proportion with k successes in n trials (1 when n = 0).
func clopperUpper(k, n int, conf float64) float64 {
	if n == 0 || k >= n {
		return 1
	}
	return distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(conf)
}

// AUC returns the ROC area under the curve of a score that should be higher
// for pos than for neg, computed as the Mann–Whitney statistic
//
//	AUC = (1/(|pos|·|neg|)) Σ_{i,j} [pos_i > neg_j] + ½[pos_i = neg_j],
//
// so ties count one half. It runs in O((|pos|+|neg|) log(|pos|+|neg|)) using
// mid-ranks. It returns NaN if either slice is empty or contains NaN.
func AUC(pos, neg []float64) float64 {
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN()
	}
	all := append(append(make([]float64, 0, len(pos)+len(neg)), pos...), neg...)
	for _, v := range all {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	ranks := make([]float64, len(all))
	MidRanks(ranks, all)
	var rankSum float64 // sum of 1-based mid-ranks of the positives
	for _, r := range ranks[:len(pos)] {
		rankSum += r + 1
	}
	np, nn := float64(len(pos)), float64(len(neg))
	return (rankSum - np*(np+1)/2) / (np * nn)
}

// RatesOf returns the Rate at each alpha for given combined p-values of
// positive and negative controls (a control is flagged when p ≤ alpha), as
// Calibrate computes them; for callers that compute p-values their own way.
func RatesOf(posP, negP, alphas []float64) []Rate {
	out := make([]Rate, 0, len(alphas))
	for _, a := range alphas {
		tp, fp := countLE(posP, a), countLE(negP, a)
		out = append(out, Rate{Alpha: a, TPR: frac(tp, len(posP)), FPR: frac(fp, len(negP)), FPRUpper: clopperUpper(fp, len(negP), 0.95)})
	}
	return out
}
