package compare

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// These tests check that the p-values are valid: for suspects drawn from
// the same distribution as the null models, the fraction with p ≤ α must
// not exceed α beyond binomial noise.

var validityAlphas = []float64{0.001, 0.01, 0.05, 0.1}

const (
	validityNull = 20   // null models per replicate
	validityReps = 3000 // replicates per scenario
	// The product tests against about 64 null models, where the robust
	// predictive's degrees of freedom would otherwise outgrow what its
	// fitted transform can vouch for (see robustMaxDF); enough replicates
	// that the old (n−1)/3 rule's measured excess (1.45 % at α = 0.01 for
	// agreement-skewed, 6.6 % at 0.05 for betabinomial-4-1-n50) exceeds the
	// slack.
	validityNull64 = 64
	validityReps64 = 8000
)

// nullGen draws the similarity vector of one independent model.
type nullGen func(rng *rand.Rand) []float64

func binomial(rng *rand.Rand, n int, p float64) int {
	return int(distuv.Binomial{N: float64(n), P: p, Src: rng}.Rand())
}

func betaDraw(rng *rand.Rand, a, b float64) float64 {
	return distuv.Beta{Alpha: a, Beta: b, Src: rng}.Rand()
}

func agreeSim(k, n int) float64 {
	return Similarity(StatAgreement, Value{Value: float64(k) / float64(n), N: n})
}

// gaussianGen: m correlated Gaussian similarities (correlation rho).
func gaussianGen(m int, rho float64) nullGen {
	return func(rng *rand.Rand) []float64 {
		z0 := rng.NormFloat64()
		v := make([]float64, m)
		for j := range v {
			v[j] = math.Sqrt(rho)*z0 + math.Sqrt(1-rho)*rng.NormFloat64() + float64(j)
		}
		return v
	}
}

// agreementGen: realistic statistics of independent models. Each model has
// a latent quality u ~ Beta(a, b); its agreement with the teacher on 300
// probes is Binomial(300, 0.6+0.35u), its mistake agreement on 40 probes
// Binomial(40, ½u + ½Beta(ma, mb)), and its mean JS a skewed function of u
// plus Gamma noise. All three are right-skewed and strongly correlated.
func agreementGen(a, b, ma, mb float64) nullGen {
	return func(rng *rand.Rand) []float64 {
		u := betaDraw(rng, a, b)
		js := 0.02 + 0.1*(1-u) + 0.05*distuv.Gamma{Alpha: 2, Beta: 4, Src: rng}.Rand()
		return []float64{
			agreeSim(binomial(rng, 300, 0.6+0.35*u), 300),
			agreeSim(binomial(rng, 40, 0.5*u+0.5*betaDraw(rng, ma, mb)), 40),
			Similarity(StatJS, Value{Value: js, N: 300}),
		}
	}
}

// betaBinomialGen: a single agreement statistic, Binomial(n, Beta(a, b)).
func betaBinomialGen(n int, a, b float64) nullGen {
	return func(rng *rand.Rand) []float64 {
		return []float64{agreeSim(binomial(rng, n, betaDraw(rng, a, b)), n)}
	}
}

// pointMassGen: a statistic most independent models score exactly 0 on
// (a share frac of them), the others lognormal(0, 1).
func pointMassGen(frac float64) nullGen {
	return func(rng *rand.Rand) []float64 {
		if rng.Float64() < frac {
			return []float64{0}
		}
		return []float64{math.Exp(rng.NormFloat64())}
	}
}

// rejectionRates returns, per alpha, the fraction of replicates where an
// independent suspect got combined p ≤ alpha, and the same per statistic.
func rejectionRates(gen nullGen, opts Options, seed uint64) (comb []float64, per [][]float64) {
	return rejectionRatesN(gen, opts, seed, validityNull, validityReps)
}

// rejectionRatesN is rejectionRates with n null models per replicate and
// reps replicates.
func rejectionRatesN(gen nullGen, opts Options, seed uint64, n, reps int) (comb []float64, per [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	comb = make([]float64, len(validityAlphas))
	per = make([][]float64, len(validityAlphas))
	null := make([][]float64, n)
	for r := 0; r < reps; r++ {
		for i := range null {
			null[i] = gen(rng)
		}
		x := gen(rng)
		res, err := Test(null, x, opts)
		if err != nil {
			panic(err)
		}
		for a, alpha := range validityAlphas {
			if per[a] == nil {
				per[a] = make([]float64, len(x))
			}
			if res.P <= alpha {
				comb[a]++
			}
			for j, s := range res.Stats {
				if s.P <= alpha {
					per[a][j]++
				}
			}
		}
	}
	for a := range comb {
		comb[a] /= float64(reps)
		for j := range per[a] {
			per[a][j] /= float64(reps)
		}
	}
	return comb, per
}

// upper is the largest rejection rate compatible with a valid test at
// level alpha: alpha plus three binomial standard errors.
func upper(alpha float64, reps int) float64 {
	return alpha + 3*math.Sqrt(alpha*(1-alpha)/float64(reps))
}

// TestValidity checks the rejection rates of independent suspects at
// validityNull (20) null models and at validityNull64 (64, what the product
// uses). The scenarios run in parallel, each with its own fixed seed.
func TestValidity(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	scenarios := []struct {
		name string
		gen  nullGen
		opts Options
	}{
		{"gaussian/robust", gaussianGen(3, 0.5), Options{}},
		{"gaussian/gaussian", gaussianGen(3, 0.5), Options{Predictive: PredictiveGaussian}},
		{"agreement-mid", agreementGen(2, 5, 1, 6), Options{}},
		{"agreement-skewed", agreementGen(0.7, 4, 0.5, 4), Options{}},
		{"betabinomial-18-2", betaBinomialGen(300, 18, 2), Options{}},
		{"betabinomial-9-1", betaBinomialGen(300, 9, 1), Options{}},
		{"betabinomial-4-1-n50", betaBinomialGen(50, 4, 1), Options{}},
		{"point-mass-95", pointMassGen(0.95), Options{}},
		{"point-mass-80", pointMassGen(0.8), Options{}},
	}
	for _, size := range []struct{ n, reps int }{{validityNull, validityReps}, {validityNull64, validityReps64}} {
		for k, sc := range scenarios {
			t.Run(fmt.Sprintf("n=%d/%s", size.n, sc.name), func(t *testing.T) {
				t.Parallel()
				comb, per := rejectionRatesN(sc.gen, sc.opts, uint64(100+k), size.n, size.reps)
				t.Logf("combined %.4f  per-stat %.4f (α = %v)", comb, per, validityAlphas)
				for a, alpha := range validityAlphas {
					hi := upper(alpha, size.reps)
					if comb[a] > hi {
						t.Errorf("combined rejection rate at α=%v is %.4f, want ≤ %.4f", alpha, comb[a], hi)
					}
					for j, r := range per[a] {
						if r > hi {
							t.Errorf("statistic %d rejection rate at α=%v is %.4f, want ≤ %.4f", j, alpha, r, hi)
						}
					}
				}
			})
		}
	}
}

// TestGaussianPredictiveExact checks that the plain Student-t predictive
// is exact (not merely conservative) for Gaussian nulls, and that it is
// anti-conservative for a skewed agreement null — the reason
// PredictiveRobust is the default.
func TestGaussianPredictiveExact(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	_, per := rejectionRates(gaussianGen(1, 0), Options{Predictive: PredictiveGaussian}, 7)
	for a, alpha := range validityAlphas {
		se := math.Sqrt(alpha * (1 - alpha) / validityReps)
		if r := per[a][0]; math.Abs(r-alpha) > 3*se {
			t.Errorf("gaussian null: rejection rate at α=%v is %.4f, want %v ± %.4f", alpha, r, alpha, 3*se)
		}
	}
	_, per = rejectionRates(betaBinomialGen(300, 9, 1), Options{Predictive: PredictiveGaussian}, 8)
	t.Logf("betabinomial-9-1 with PredictiveGaussian: %v", per)
	if r := per[1][0]; r <= 0.015 {
		t.Errorf("skewed null with PredictiveGaussian: rate at α=0.01 is %.4f; expected anti-conservative (> 0.015)", r)
	}
}

// TestValidityLeaveOneOut tests each model of a null set against the rest,
// as Calibrate does for negative controls.
func TestValidityLeaveOneOut(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation")
	}
	const sets, size = 150, 21
	for k, gen := range []nullGen{gaussianGen(3, 0.5), agreementGen(0.7, 4, 0.5, 4)} {
		rng := rand.New(rand.NewPCG(uint64(200+k), 1))
		counts := make([]float64, len(validityAlphas))
		set := make([][]float64, size)
		for s := 0; s < sets; s++ {
			for i := range set {
				set[i] = gen(rng)
			}
			c, err := Calibrate(nil, set, validityAlphas, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for a := range validityAlphas {
				counts[a] += c.Rates[a].FPR
			}
		}
		for a, alpha := range validityAlphas {
			rate := counts[a] / sets
			// LOO p-values within a set are dependent; use the number of
			// sets, not of tests, for the slack (conservative).
			t.Logf("leave-one-out scenario %d: FPR at α=%v = %.4f", k, alpha, rate)
			if hi := upper(alpha, sets); rate > hi {
				t.Errorf("leave-one-out scenario %d: FPR at α=%v is %.4f, want ≤ %.4f", k, alpha, rate, hi)
			}
		}
	}
}
