package eval_test

import (
	"fmt"

	"github.com/lineage-audit/lineage/eval"
	"gonum.org/v1/gonum/blas/blas32"
)

func Example() {
	p := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{0.9, 0.1, 0.4, 0.6}}
	q := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{0.8, 0.2, 0.7, 0.3}}
	y := []int{0, 0}
	fmt.Printf("accuracy %.2f, agreement %.2f, ECE %.2f\n", eval.Accuracy(p, y), eval.Agreement(p, q), eval.ECE(p, y))
	// Output: accuracy 0.50, agreement 0.50, ECE 0.35
}
