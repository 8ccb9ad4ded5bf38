package audit

import (
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/compare"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/stat"
)

// A suspect is outside the null when its top-1 agreement with the teacher
// over the suite's probes is below every independent model's in the null
// by more than their standard deviation: it is then unlike the population
// the lineage test is calibrated on, and the test is not applied (see
// outsideNull).
//
// Why: the features of the lineage score are relative to the teacher's
// replicas, and most probes of a suite are where the teacher departs from
// models like it, so independent models (which side with the replicas)
// score below zero there. A model that sides with nobody — untrained,
// trained far too little, or copied through uniform noise — scores near
// zero, which is above that null. A review found randomly initialised
// networks (10 % accuracy) DERIVED against a teacher they never saw (3 of
// 16 at α = 0.01, p down to 0.0007), and students of one teacher through
// noise queries DERIVED against another (p = 0.0008–0.004) while their
// own teacher's audit stayed INCONCLUSIVE. Their agreement with the
// teacher was 5–37 % where the independent controls' was 45–71 %. A rule
// on a tail p-value (p < 0.001 below the null's robust predictive) left
// the cross-teacher students DERIVED: the teacher whose null spread widest
// put them inside it. The null's minimum alone put 8 of the zoo's 160
// independent models outside (46–48 % against a null of 48–63 %: a
// family's spread is wider than the few of it in the null); with the
// margin of one standard deviation none, and still the zoo's noise-query
// students (31–39 %) and every model of the review. The label watermark's
// test, exact for any model, still applies.

// agreementSimilarity returns the top-1 agreement of p with the teacher's
// outputs t over all probes, on compare.Similarity's scale.
func agreementSimilarity(t, p blas32.General) float64 {
	k := 0
	for i := 0; i < t.Rows; i++ {
		if compare.Top1(t.Data[i*t.Stride:i*t.Stride+t.Cols]) == compare.Top1(p.Data[i*p.Stride:i*p.Stride+p.Cols]) {
			k++
		}
	}
	return compare.Similarity(compare.StatAgreement, compare.Value{Value: float64(k) / float64(max(t.Rows, 1)), N: t.Rows})
}

// outsideNull reports whether a model whose top-1 agreement with the
// teacher (agreementSimilarity) is x lies below every one of the null
// models' (null) by more than their standard deviation, and if so a
// sentence saying so. It needs at least two null models (a spread), so it
// applies wherever the lineage test does: an audit's Options.MinNull may
// be below DefaultMinNull, and a calibration's leave-one-out null of an
// enrolment with few controls is (it once needed DefaultMinNull, and a
// calibration half of 5 negatives never applied it to them).
func outsideNull(null []float64, x float64) (string, bool) {
	if math.IsNaN(x) || len(null) < 2 {
		return "", false
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range null {
		lo, hi = math.Min(lo, y), math.Max(hi, y)
	}
	if !(x < lo-stat.StdDev(null, nil)) {
		return "", false
	}
	return fmt.Sprintf("the suspect agrees with the teacher's top answer on %.0f%% of the probes, far less than any of the %d independent models of the null (%.0f–%.0f%%): the lineage test is calibrated on models like those and says nothing about this one, so only the label watermark's test (exact over the draw of the key, for any model) applies",
		100*agreementFraction(x), len(null), 100*agreementFraction(lo), 100*agreementFraction(hi)), true
}

// agreementFraction inverts compare.Similarity's agreement scale,
// log(q/(1−q)), back to a fraction (the continuity correction aside).
func agreementFraction(s float64) float64 {
	return 1 / (1 + math.Exp(-s))
}
