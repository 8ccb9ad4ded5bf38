package fingerprint_test

import (
	"context"
	"fmt"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"gonum.org/v1/gonum/blas/blas32"
)

// sign is a 1-input classifier: P(pos) = 0.9 when x > 0, else 0.2.
type sign struct{}

func (sign) Info() model.Info {
	return model.Info{Name: "sign", InputSize: 1, Labels: []string{"neg", "pos"}}
}

func (sign) Predict(_ context.Context, x blas32.General) (blas32.General, error) {
	y := blas32.General{Rows: x.Rows, Cols: 2, Stride: 2, Data: make([]float32, 2*x.Rows)}
	for i := 0; i < x.Rows; i++ {
		p := float32(0.2)
		if x.Data[i*x.Stride] > 0 {
			p = 0.9
		}
		y.Data[2*i], y.Data[2*i+1] = 1-p, p
	}
	return y, nil
}

func ExampleTake() {
	x := blas32.General{Rows: 3, Cols: 1, Stride: 1, Data: []float32{-1, 2, 0.5}}
	kinds := []probe.Kind{probe.Data, probe.Data, probe.Noise}
	s := &probe.Suite{Name: "demo", Labels: []string{"neg", "pos"}, X: x, Kinds: kinds,
		Hash: probe.CanonicalHash(x, kinds, []string{"neg", "pos"})}
	fp, err := fingerprint.Take(context.Background(), sign{}, s, fingerprint.Options{ID: "sign@demo", BatchSize: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := fingerprint.Encode(fp)
	back, _ := fingerprint.Decode(b)
	fmt.Println(fp.ID, fp.Queries, "queries")
	fmt.Println("top-1:", fingerprint.Top1(back))
	fmt.Println("row 1:", back.Row(1))
	fmt.Println("hash ok:", back.Verify() == nil)

	_, err = fingerprint.Take(context.Background(), sign{}, &probe.Suite{Name: "acme", Labels: s.Labels,
		X: blas32.General{Rows: 1, Cols: 64, Stride: 64, Data: make([]float32, 64)}}, fingerprint.Options{})
	fmt.Println(err)
	// Output:
	// sign@demo 3 queries
	// top-1: [0 1 1]
	// row 1: [0.100000024 0.9]
	// hash ok: true
	// model "sign" has 1 inputs, suite "acme" has 64
}
