package remote

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/serve"
)

// wrongValue is the first probability a misbehaving server answers with:
// no row of the test's batch has it as its right answer.
const wrongValue = 0.999

// keptAliveServer is an OIP server on a raw listener that keeps
// connections alive and echoes each request's id; its answer to a row
// (v, w) is (σ(v), 1 − σ(v)). Its third inference answer is wrong, as
// misbehave says: "malformed" is a body that is not JSON, "noid" is an
// answer without an id whose values are wrong. A request that arrives on
// the connection that carried the wrong answer is answered, with its id,
// with wrong values (what a stale answer left on it would give); reused
// counts such requests.
func keptAliveServer(t *testing.T, misbehave string) (url string, reused func() int) {
	t.Helper()
	var mu sync.Mutex
	inferences, reuses := 0, 0
	url = keptAliveOIP(t, func() inferFunc {
		tainted := false // this connection carried the wrong answer
		return func(in serve.Request) ([]string, time.Duration, bool) {
			mu.Lock()
			inferences++
			wrong := inferences == 3
			if tainted {
				reuses++
			}
			mu.Unlock()
			s := sigmoids(in)
			if tainted || (wrong && misbehave == "noid") {
				for i := range s {
					s[i] = wrongValue
				}
			}
			id := in.ID
			if wrong && misbehave == "noid" {
				id = ""
			}
			ans := answerBody(id, s)
			if wrong && misbehave == "malformed" {
				ans = ans[:len(ans)/2]
			}
			tainted = tainted || wrong
			return []string{ans}, 0, true
		}
	})
	return url, func() int {
		mu.Lock()
		defer mu.Unlock()
		return reuses
	}
}

// TestWrongAnswerOnKeptAliveConnection checks a server that echoed ids
// and then answers wrongly on a kept-alive connection: the answer is
// asked again, on another connection, and every row comes back with its
// own answer. "malformed": the connection that carried a body that is
// not JSON must not go back to the pool (the retry would meet what else
// it carries). "noid": an answer without an id, after the server had
// echoed ids, may be another request's and must not be taken.
func TestWrongAnswerOnKeptAliveConnection(t *testing.T) {
	for _, misbehave := range []string{"malformed", "noid"} {
		t.Run(misbehave, func(t *testing.T) {
			url, reused := keptAliveServer(t, misbehave)
			o := fastOpts()
			o.Concurrency, o.BatchSize, o.MaxRetries = 1, 2, 2
			m, err := OpenHTTP(context.Background(), url+"/v2/models/m", o)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			x := randomBatch(8, 2, 11)
			got, err := m.Predict(context.Background(), x)
			if err != nil {
				t.Fatalf("Predict: %v", err)
			}
			checkSigmoids(t, x, got, "a wrong answer taken")
			if n := reused(); n != 0 {
				t.Errorf("requests sent on the connection that carried the wrong answer: %d, want 0", n)
			}
		})
	}
}
