package remote

import (
	"context"
	"fmt"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"math/rand/v2"
)

// BenchmarkLoopback measures probes per second through HTTPModel against
// a serve.Server on loopback (64→64→10 MLP, batches of 64, 1024 probes
// per Predict) at several concurrencies.
func BenchmarkLoopback(b *testing.B) {
	m := model.NewMLP([]int{64, 64, 10}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	ts := serveMLP(b, m, serve.Options{})
	x := randomBatch(1024, 64, 7)
	for _, c := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", c), func(b *testing.B) {
			rm, err := Open(context.Background(), ts.URL+"/v2/models/model", Options{Concurrency: c, BatchSize: 64})
			if err != nil {
				b.Fatal(err)
			}
			defer rm.Close()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rm.Predict(context.Background(), x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*x.Rows)/b.Elapsed().Seconds(), "probes/s")
		})
	}
}
