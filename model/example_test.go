package model_test

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/lineage-audit/lineage/model"
)

func Example() {
	// A 2-2-3 network with hand-set weights: the hidden layer passes
	// the inputs through ReLU, the output layer scores three classes;
	// for x = (1, 0) the logits are (2, 1.5, 0).
	m := &model.MLP{
		Name:   "tiny",
		Sizes:  []int{2, 2, 3},
		Act:    model.ActReLU,
		Labels: []string{"left", "middle", "right"},
		Theta: []float32{
			1, 0, 0, 1, // W0 (2×2)
			0, 0, // B0
			2, 0, 1, 1, 0, 2, // W1 (3×2)
			0, 0.5, 0, // B1
		},
	}
	x := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{
		1, 0,
		0, 1,
	}}
	p, err := m.Predict(context.Background(), x)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := 0; i < p.Rows; i++ {
		fmt.Printf("%.3f\n", p.Data[i*p.Stride:(i+1)*p.Stride])
	}
	top := model.WithReveal(m, model.Reveal{Mode: model.RevealLabel})
	q, _ := top.Predict(context.Background(), x)
	fmt.Println(top.Info().Name, q.Data)
	// Output:
	// [0.574 0.348 0.078]
	// [0.078 0.348 0.574]
	// tiny [reveal label] [1 0 0 0 0 1]
}

func ExampleParseReveal() {
	for _, s := range []string{"topk:3", "topk:0"} {
		r, err := model.ParseReveal(s)
		fmt.Println(r, err)
	}
	// Output:
	// topk:3 <nil>
	// full reveal "topk:0": K must be at least 1
}
