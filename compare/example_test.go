package compare_test

import (
	"fmt"

	"github.com/lineage-audit/lineage/compare"
)

// A suspect's agreement with the teacher is compared with that of twelve
// independent models; the p-value is the chance that an independent model
// would agree at least this much.
func ExampleTest() {
	agree := func(k, n int) float64 {
		return compare.Similarity(compare.StatAgreement, compare.Value{Value: float64(k) / float64(n), N: n})
	}
	var null [][]float64
	for _, k := range []int{251, 262, 248, 255, 259, 244, 257, 250, 266, 253, 247, 260} {
		null = append(null, []float64{agree(k, 300)})
	}
	suspect := []float64{agree(294, 300)} // 98 % agreement
	res, err := compare.Test(null, suspect, compare.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Stats[0]
	fmt.Printf("z = %.1f, p = %.1e, empirical p = %.3f\n", s.Z, res.P, s.PEmpirical)

	// Holm across three teachers the suspect was audited against.
	adj := make([]float64, 3)
	compare.Holm(adj, []float64{res.P, 0.4, 0.03})
	fmt.Printf("Holm-adjusted: %.1e %.2f %.2f\n", adj[0], adj[1], adj[2])
	// Output:
	// z = 12.0, p = 1.3e-03, empirical p = 0.077
	// Holm-adjusted: 3.9e-03 0.40 0.06
}

// ExampleSpearman compares two models' centred log-probabilities on one
// answer: the rank correlation ignores a serving-time temperature.
func ExampleSpearman() {
	p := []float32{0.6, 0.25, 0.1, 0.05}
	q := make([]float32, len(p))
	compare.Rescale(q, p, 2) // the same model served flattened
	a, b := make([]float64, len(p)), make([]float64, len(q))
	compare.CentredLog(a, p)
	compare.CentredLog(b, q)
	fmt.Printf("%.2f\n", compare.Spearman(a, b))
	// Output: 1.00
}
