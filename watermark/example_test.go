package watermark_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/watermark"
	"gonum.org/v1/gonum/blas/blas32"
)

// A suspect that answers with the marked labels on probes where the
// teacher hesitates is caught; one that answers with the teacher's own
// argmax is not.
func Example() {
	const d = 16
	mk := watermark.New(watermark.Key{42}, d, 2, model.Normalization{})
	rng := rand.New(rand.NewPCG(1, 2))
	var x, p []float32
	for range 200 {
		for range d {
			x = append(x, float32(rng.NormFloat64()))
		}
		p = append(p, 0.501, 0.499) // a near tie
	}
	X := blas32.General{Rows: 200, Cols: d, Stride: d, Data: x}
	P := blas32.General{Rows: 200, Cols: 2, Stride: 2, Data: p}
	pan, _ := watermark.NewPanel(mk, X, P, 999)
	marked := blas32.General{Rows: 200, Cols: 2, Stride: 2, Data: make([]float32, 400)}
	for i := range 200 {
		marked.Data[2*i+mk.Label(x[d*i:d*i+d], p[2*i:2*i+2], watermark.DefaultEpsilon)] = 1
	}
	r, _ := pan.Test(marked, nil)
	fmt.Printf("marked student: p = %.3f\n", r.P)
	r, _ = pan.Test(P, nil) // the teacher's own outputs
	fmt.Printf("teacher's own labels: p > 0.01: %v\n", r.P > 0.01)
	// Output:
	// marked student: p = 0.001
	// teacher's own labels: p > 0.01: true
}
