package remote

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// TestWrongAnswerNotRetried checks that an answer that is well-formed but
// wrong (an output of another shape, as a server for another model gives
// every time) is asked once, not retried: only a malformed answer (cut
// short, undecodable) is worth asking again. A mutant retrying every
// refused answer passed every test, asking MaxRetries more times for
// the same refusal.
func TestWrongAnswerNotRetried(t *testing.T) {
	var posts atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, hostileMeta)
			return
		}
		posts.Add(1)
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,3],"data":[0.25,0.25,0.5]}]}`)
	}))
	defer ts.Close()
	opts := fastOpts()
	opts.MaxRetries = 3
	m, err := Open(context.Background(), ts.URL+"/v2/models/m", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	_, err = m.Predict(context.Background(), blas32.General{Rows: 1, Cols: 2, Stride: 2, Data: []float32{1, 2}})
	if err == nil {
		t.Fatal("Predict accepted an answer of 3 labels for 2")
	}
	if n := posts.Load(); n != 1 {
		t.Errorf("the server was asked %d times, want once (error: %v)", n, err)
	}
}
