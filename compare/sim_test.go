package compare

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// nullGen draws one similarity vector of an independent model.
type nullGen func(rng *rand.Rand) []float64

func logitSim(k, n int) float64 {
	return Similarity(StatAgreement, Value{float64(k) / float64(n), n})
}

func binom(rng *rand.Rand, n int, p float64) int {
	k := 0
	for i := 0; i < n; i++ {
		if rng.Float64() < p {
			k++
		}
	}
	return k
}

func betaRand(rng *rand.Rand, a, b float64) float64 {
	return distuv.Beta{Alpha: a, Beta: b, Src: rng}.Rand()
}

func gaussGen(m int, rho float64) nullGen {
	return func(rng *rand.Rand) []float64 {
		z0 := rng.NormFloat64()
		v := make([]float64, m)
		for j := range v {
			v[j] = math.Sqrt(rho)*z0 + math.Sqrt(1-rho)*rng.NormFloat64() + float64(j)
		}
		return v
	}
}

// betaBinomGen: agreement statistics of independent models: per model a
// latent Beta quality u; agreement on nAll probes at rate lo+span*u,
// mistake agreement on nMis probes at a skewed Beta rate.
func betaBinomGen(a, b float64, nAll int, ma, mb float64, nMis int) nullGen {
	return func(rng *rand.Rand) []float64 {
		u := betaRand(rng, a, b)
		r2 := 0.5*u + 0.5*betaRand(rng, ma, mb)
		js := 0.02 + 0.1*(1-u) + 0.05*distuv.Gamma{Alpha: 2, Beta: 4, Src: rng}.Rand()
		return []float64{
			logitSim(binom(rng, nAll, 0.6+0.35*u), nAll),
			logitSim(binom(rng, nMis, r2), nMis),
			Similarity(StatJS, Value{js, nAll}),
		}
	}
}

type rates struct{ comb, per [3][]int } // [alpha][stat]

func simulate(gen nullGen, n, reps int, seed uint64, alphas []float64) (comb []float64, per [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	comb = make([]float64, len(alphas))
	var m int
	null := make([][]float64, n)
	for r := 0; r < reps; r++ {
		for i := range null {
			null[i] = gen(rng)
		}
		x := gen(rng)
		m = len(x)
		if per == nil {
			per = make([][]float64, len(alphas))
			for a := range per {
				per[a] = make([]float64, m)
			}
		}
		res, err := Test(null, x, Options{})
		if err != nil {
			panic(err)
		}
		for a, al := range alphas {
			if res.P <= al {
				comb[a]++
			}
			for j := range res.Stats {
				if res.Stats[j].P <= al {
					per[a][j]++
				}
			}
		}
	}
	for a := range alphas {
		comb[a] /= float64(reps)
		for j := 0; j < m; j++ {
			per[a][j] /= float64(reps)
		}
	}
	return comb, per
}

func TestSimExplore(t *testing.T) {
	alphas := []float64{0.01, 0.05, 0.1}
	gens := map[string]nullGen{
		"bb-skew":     betaBinomGen(0.7, 4, 300, 0.5, 4, 40),
		"exp": func(rng *rand.Rand) []float64 { return []float64{rng.ExpFloat64()} },
		"lognorm": func(rng *rand.Rand) []float64 { return []float64{math.Exp(0.5*rng.NormFloat64())} },
		"gauss1":    gaussGen(1, 0.5),
		"bbpure-18-2": func(rng *rand.Rand) []float64 { return []float64{logitSim(binom(rng, 300, betaRand(rng, 18, 2)), 300)} },
		"bbpure-9-1": func(rng *rand.Rand) []float64 { return []float64{logitSim(binom(rng, 300, betaRand(rng, 9, 1)), 300)} },
		"bbpure-4-1": func(rng *rand.Rand) []float64 { return []float64{logitSim(binom(rng, 300, betaRand(rng, 4, 1)), 300)} },
		"bbpure-9-1-100": func(rng *rand.Rand) []float64 { return []float64{logitSim(binom(rng, 100, betaRand(rng, 9, 1)), 100)} },
		"bbpure-30-1": func(rng *rand.Rand) []float64 { return []float64{logitSim(binom(rng, 300, betaRand(rng, 30, 1)), 300)} },
	}
	simUpper = true
	simHi = 1
	for _, cfg := range []struct{raw bool; div float64}{{false, 2}, {false, 3}} {
		simRaw = cfg.raw
		d := cfg.div
		simNu = func(n int) float64 { return float64(n-1)/d }
		for _, n := range []int{10, 40} {
		for name, g := range gens {
			comb, _ := simulate(g, n, 10000, 1, alphas)
			t.Logf("cfg=%v n=%d %-10s comb=%v", cfg, n, name, comb)
		}
		}
	}
}
