package remote

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/serve"
)

// unsolicitedServer is an OIP server on a raw listener that keeps
// connections alive and, after each inference answer, sends the same
// answer again unasked, after delay: read as the next request's answer,
// it would put one batch's outputs in another's place. Its answer to a
// row (v, w) is (σ(v), 1 − σ(v)), so a misplaced answer shows. With echo
// it echoes each request's id.
func unsolicitedServer(t *testing.T, echo bool, delay time.Duration) string {
	t.Helper()
	return keptAliveOIP(t, func() inferFunc {
		return func(in serve.Request) ([]string, time.Duration, bool) {
			id := ""
			if echo {
				id = in.ID
			}
			ans := answerBody(id, sigmoids(in))
			return []string{ans, ans}, delay, true
		}
	})
}

// TestUnsolicitedAnswers checks that an answer a server sends unasked on a
// kept-alive connection is never taken for the next request's: a server
// that does not echo ids gets a connection per request, and one that
// does has a stale answer caught by its id. Every row must come back with
// its own answer (a helper's black-box test stored a fingerprint whose
// batches held the previous batch's answers, exit 0), and none may fail:
// with two workers a connection that had carried a stale answer went
// back to the pool and failed most retries too ("giving up after 4
// attempts: response id "13" for request "8"").
func TestUnsolicitedAnswers(t *testing.T) {
	for _, via := range []string{"direct", "net/http"} {
		for _, echo := range []bool{false, true} {
			for _, tc := range []struct {
				workers int
				delay   time.Duration
			}{{1, 0}, {1, 20 * time.Millisecond}, {2, 0}, {2, 2 * time.Millisecond}, {2, 20 * time.Millisecond}, {4, time.Millisecond}, {4, 5 * time.Millisecond}} {
				delay := tc.delay
				t.Run(fmt.Sprintf("%s/echo=%v/workers=%d/delay=%v", via, echo, tc.workers, delay), func(t *testing.T) {
					o := fastOpts()
					o.Concurrency, o.BatchSize, o.MaxRetries = tc.workers, 2, 3
					if via == "net/http" {
						o.Client = &http.Client{}
					}
					m, err := OpenHTTP(context.Background(), unsolicitedServer(t, echo, delay)+"/v2/models/m", o)
					if err != nil {
						t.Fatal(err)
					}
					defer m.Close()
					x := randomBatch(60, 2, 7)
					got, err := m.Predict(context.Background(), x)
					if err != nil {
						t.Fatalf("Predict: %v", err)
					}
					checkSigmoids(t, x, got, "another batch's answer")
				})
			}
		}
	}
}
