package bench_test

import (
	"fmt"

	"github.com/lineage-audit/lineage/bench"
)

// ExampleComputeRates summarises three audited suspects: two derived, one
// independent.
func ExampleComputeRates() {
	fams := []bench.Family{{Name: "kd-t4", Kind: bench.Positive}, {Name: "independent-seed", Kind: bench.Negative}}
	res := []bench.SuspectResult{
		{Family: "kd-t4", Kind: bench.Positive, P: 0.0004, MinP: 0.0001},
		{Family: "kd-t4", Kind: bench.Positive, P: 0.03, MinP: 0.01},
		{Family: "independent-seed", Kind: bench.Negative, P: 0.6, MinP: 0.2},
	}
	r := bench.ComputeRates(fams, res, func(s bench.SuspectResult) (p, minP float64) { return s.P, s.MinP })
	fmt.Printf("AUC %.2f, TPR %.2f at α=0.01, %.2f at α=0.05, FPR %.2f\n", r.AUC, r.TPR01, r.TPR05, r.FPR05)
	for _, f := range r.Families {
		fmt.Printf("%s (%s): %d/%d flagged at α=0.01\n", f.Name, f.Kind, f.Flagged01, f.N)
	}
	// Output:
	// AUC 1.00, TPR 0.50 at α=0.01, 1.00 at α=0.05, FPR 0.00
	// kd-t4 (positive): 1/2 flagged at α=0.01
	// independent-seed (negative): 0/1 flagged at α=0.01
}
