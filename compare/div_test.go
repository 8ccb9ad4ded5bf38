package compare

import "testing"

func TestDivExplore(t *testing.T) {
	for _, d := range []float64{2, 2.5, 3} {
		robustDFDivisor = d
		for k, g := range []nullGen{gaussianGen(1, 0), agreementGen(0.7, 4, 0.5, 4), betaBinomialGen(300, 18, 2), betaBinomialGen(300, 9, 1)} {
			comb, per := rejectionRates(g, Options{}, uint64(500+k))
			t.Logf("div=%v gen=%d comb=%.4f per=%.4f", d, k, comb, per)
		}
	}
}
