package remote

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
)

// BenchmarkLoopback measures probes per second through HTTPModel against
// a serve.Server on loopback (64→64→10 MLP, batches of 64, 1024 probes
// per Predict) at several concurrencies, through the package's direct
// HTTP/1.1 client (the default for plain http) and through net/http (a
// caller-supplied client), so that the two can be compared:
//
//	go test -run XXX -bench Loopback -count 5 ./remote
func BenchmarkLoopback(b *testing.B) {
	m := model.NewMLP([]int{64, 64, 10}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	ts := serveMLP(b, m, serve.Options{})
	x := randomBatch(1024, 64, 7)
	for _, client := range []string{"direct", "net-http"} {
		for _, c := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("client=%s/concurrency=%d", client, c), func(b *testing.B) {
				opts := Options{Concurrency: c, BatchSize: 64}
				if client == "net-http" {
					opts.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
				}
				rm, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/model", opts)
				if err != nil {
					b.Fatal(err)
				}
				defer rm.Close()
				if (rm.direct != nil) != (client == "direct") {
					b.Fatalf("direct client %v, want %v", rm.direct != nil, client == "direct")
				}
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
}
