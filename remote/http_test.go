package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"gonum.org/v1/gonum/blas/blas32"
)

const testKey = "tk-0123456789abcdef"

func testMLP() *model.MLP {
	m := model.NewMLP([]int{6, 12, 4}, model.ActGELU, []string{"n", "e", "s", "w"}, rand.New(rand.NewPCG(3, 4)))
	m.Name = "tiny"
	return m
}

func randomBatch(rows, cols int, seed uint64) blas32.General {
	rng := rand.New(rand.NewPCG(seed, 9))
	x := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)}
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64() * 3)
	}
	return x
}

func serveMLP(t testing.TB, m model.Model, opts serve.Options) *httptest.Server {
	t.Helper()
	s, err := serve.New(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts
}

func fastOpts() Options {
	return Options{Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: 2 * time.Second}
}

func assertSame(t *testing.T, got, want blas32.General) {
	t.Helper()
	if got.Rows != want.Rows || got.Cols != want.Cols {
		t.Fatalf("got %dx%d, want %dx%d", got.Rows, got.Cols, want.Rows, want.Cols)
	}
	for i := range want.Rows {
		for j := range want.Cols {
			if g, w := got.Data[i*got.Stride+j], want.Data[i*want.Stride+j]; !near(g, w) {
				t.Fatalf("probe %d label %d: got %v, want %v (relative tolerance %g)", i, j, g, w, predictTol)
			}
		}
	}
}

// near reports whether got is want, or within predictTol of it relative
// to want's magnitude.
func near(got, want float32) bool {
	if got == want {
		return true
	}
	return math.Abs(float64(got)-float64(want)) <= predictTol*math.Abs(float64(want))
}

func TestRoundTrip(t *testing.T) {
	m := testMLP()
	x := randomBatch(23, 6, 1)
	want, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		sopts serve.Options
		copts Options
	}{
		{"defaults", serve.Options{}, Options{}},
		{"small batches concurrent", serve.Options{}, Options{BatchSize: 5, Concurrency: 3}},
		{"with key", serve.Options{APIKey: testKey}, Options{APIKey: testKey, BatchSize: 7}},
		{"server batch limit splits", serve.Options{MaxBatch: 3}, Options{BatchSize: 10}},
		{"json only", serve.Options{}, Options{JSONOnly: true, BatchSize: 6}},
		{"json only with key", serve.Options{APIKey: testKey}, Options{JSONOnly: true, APIKey: testKey}},
		// A client of the caller's takes the net/http path, not direct.
		{"net/http client", serve.Options{APIKey: testKey}, Options{Client: &http.Client{}, APIKey: testKey, BatchSize: 5, Concurrency: 2}},
		{"net/http client json", serve.Options{}, Options{Client: &http.Client{}, JSONOnly: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := serveMLP(t, m, tt.sopts)
			rm, err := Open(context.Background(), ts.URL+"/v2/models/tiny", tt.copts)
			if err != nil {
				t.Fatal(err)
			}
			defer rm.Close()
			if got, want := rm.(*HTTPModel).Binary(), !tt.copts.JSONOnly; got != want {
				t.Errorf("Binary() = %v, want %v (lineage serve lists %s)", got, want, serve.BinaryExtension)
			}
			info := rm.Info()
			if info.InputSize != 6 || fmt.Sprint(info.Labels) != "[n e s w]" || info.Name != "tiny" {
				t.Errorf("info %+v, want tiny with 6 inputs and labels [n e s w]", info)
			}
			got, err := rm.Predict(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			assertSame(t, got, want)
			if st := rm.Stats(); st.Retries != 0 || st.Requests < 2 || st.BytesReceived == 0 {
				t.Errorf("stats %+v, want requests>=2, retries 0, bytes>0", st)
			}
		})
	}
}

// faultSchedule decides the fate of request k deterministically.
func faultSchedule(seed uint64, k int64) string {
	u := rand.New(rand.NewPCG(seed, uint64(k))).Float64()
	switch {
	case u < 0.20:
		return "500"
	case u < 0.30:
		return "slow"
	case u < 0.35:
		return "malformed"
	}
	return "ok"
}

func TestFaultyServer(t *testing.T) {
	for _, jsonOnly := range []bool{false, true} {
		t.Run(fmt.Sprintf("json-only=%v", jsonOnly), func(t *testing.T) { testFaultyServer(t, jsonOnly) })
	}
}

func testFaultyServer(t *testing.T, jsonOnly bool) {
	m := testMLP()
	s, err := serve.New(m, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n, faults atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			s.ServeHTTP(w, r)
			return
		}
		fate := faultSchedule(42, n.Add(1))
		if fate != "ok" {
			faults.Add(1)
		}
		switch fate {
		case "500":
			http.Error(w, `{"error":"injected"}`, 500)
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		case "malformed":
			w.Write([]byte(`{"model_name":"tiny","outputs":[{"name":"probab`))
		default:
			s.ServeHTTP(w, r)
		}
	}))
	defer ts.Close()
	x := randomBatch(400, 6, 2)
	want, _ := m.Predict(context.Background(), x)
	opts := fastOpts()
	opts.Timeout, opts.BatchSize, opts.Concurrency, opts.MaxRetries = 150*time.Millisecond, 10, 4, 12
	opts.JSONOnly = jsonOnly
	rm, err := Open(context.Background(), ts.URL+"/v2/models/tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rm.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	assertSame(t, got, want)
	st := rm.Stats()
	if st.Retries != faults.Load() || st.Retries == 0 {
		t.Errorf("stats %+v: retries %d, want the %d injected faults", st, st.Retries, faults.Load())
	}
	t.Logf("%d requests, %d retries", st.Requests, st.Retries)
}

func TestAlwaysFailing(t *testing.T) {
	m := testMLP()
	s, _ := serve.New(m, serve.Options{})
	var logBuf bytes.Buffer
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			s.ServeHTTP(w, r)
			return
		}
		w.WriteHeader(503)
		fmt.Fprintf(w, `{"error":"overloaded; you sent %s"}`, r.Header.Get("Authorization"))
	}))
	defer ts.Close()
	opts := fastOpts()
	opts.MaxRetries, opts.APIKey = 3, testKey
	opts.Log = slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	url := strings.Replace(ts.URL, "http://", "http://alice:pw@", 1) + "/v2/models/tiny"
	rm, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = rm.Predict(context.Background(), randomBatch(3, 6, 3))
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v, want a quick failure", elapsed)
	}
	var re *Error
	if !errors.As(err, &re) || re.Attempts != 4 || re.Status != 503 {
		t.Fatalf("error %v, want *Error after 4 attempts with status 503", err)
	}
	msg := err.Error()
	for _, want := range []string{ts.URL + "/v2/models/tiny/infer", "503", "overloaded", "4 attempts"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
	for _, secret := range []string{testKey, "alice", ":pw"} {
		if strings.Contains(msg, secret) || strings.Contains(logBuf.String(), secret) {
			t.Errorf("secret %q leaked:\nerror %s\nlog %s", secret, msg, logBuf.String())
		}
	}
	if st := rm.Stats(); st.Retries != 3 || st.Failures != 4 {
		t.Errorf("stats %+v, want 3 retries and 4 failures", st)
	}
}

// TestEarlyTooLargeSplits: serve answers 413 to a body over its limit
// before reading it and closes the connection, which fails the rest of
// the client's write; the client still reads the 413 and splits the batch.
func TestEarlyTooLargeSplits(t *testing.T) {
	m := model.NewMLP([]int{20000, 4}, model.ActGELU, []string{"n", "e", "s", "w"}, rand.New(rand.NewPCG(1, 2)))
	m.Name = "tiny"
	x := randomBatch(64, 20000, 1) // 5 MB a request, 1.25 MB for 16 rows
	// The server answers 8 rows at a time; BLAS kernels (OpenBLAS) may
	// round differently for other batch shapes, so the reference is made
	// 8 rows at a time too.
	want := blas32.General{Rows: 64, Cols: 4, Stride: 4, Data: make([]float32, 0, 64*4)}
	for r := 0; r < 64; r += 8 {
		part := blas32.General{Rows: 8, Cols: x.Cols, Stride: x.Stride, Data: x.Data[r*x.Stride : (r+8)*x.Stride]}
		p, err := m.Predict(context.Background(), part)
		if err != nil {
			t.Fatal(err)
		}
		for i := range p.Rows {
			want.Data = append(want.Data, p.Data[i*p.Stride:i*p.Stride+p.Cols]...)
		}
	}
	ts := serveMLP(t, m, serve.Options{MaxBodyBytes: 1 << 20})
	for _, via := range []string{"direct", "net/http"} {
		t.Run(via, func(t *testing.T) {
			o := fastOpts()
			o.Concurrency = 1
			if via == "net/http" {
				o.Client = &http.Client{}
			}
			rm, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/tiny", o)
			if err != nil {
				t.Fatal(err)
			}
			defer rm.Close()
			got, err := rm.Predict(context.Background(), x)
			if err != nil {
				t.Fatalf("Predict: %v, want the batch split until it fits", err)
			}
			assertSame(t, got, want)
			// 64 → 2×32 → 4×16 → 8×8 rows: 7 refusals, 8 answers.
			if st := rm.Stats(); st.Failures != 7 || st.Retries != 0 {
				t.Errorf("stats %+v, want 7 failures (the 413s) and no retries", st)
			}
		})
	}
}

// TestOpenFailureReleases: an OpenHTTP that fails leaves no connection to
// the server open.
func TestOpenFailureReleases(t *testing.T) {
	tests := []struct {
		name string
		meta http.HandlerFunc
	}{
		{"metadata refused", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"no"}`, http.StatusBadRequest)
		}},
		{"metadata unusable", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"name":"m","inputs":[],"outputs":[]}`)
		}},
	}
	for _, via := range []string{"direct", "net/http"} {
		for _, tt := range tests {
			t.Run(via+"/"+tt.name, func(t *testing.T) {
				var open atomic.Int64
				ts, _ := serveCounting(t, tt.meta, func(hs *http.Server) {
					hs.ConnState = func(_ net.Conn, st http.ConnState) {
						switch st {
						case http.StateNew:
							open.Add(1)
						case http.StateClosed, http.StateHijacked:
							open.Add(-1)
						}
					}
				})
				o := fastOpts()
				o.MaxRetries = -1
				if via == "net/http" {
					o.Client = &http.Client{Transport: &http.Transport{}}
				}
				if _, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/m", o); err == nil {
					t.Fatal("OpenHTTP succeeded, want an error")
				}
				// The server sees the close after a moment; the deadline
				// only guards against a hang.
				for deadline := time.Now().Add(10 * time.Second); open.Load() != 0; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("%d connections still open after OpenHTTP failed", open.Load())
					}
				}
			})
		}
	}
}

// TestPredictCancelledNamesEndpoint: a Predict call whose ctx is done
// before its batches are sent fails with an *Error naming the endpoint.
func TestPredictCancelledNamesEndpoint(t *testing.T) {
	ts := serveMLP(t, testMLP(), serve.Options{})
	rm, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/tiny", fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = rm.Predict(ctx, randomBatch(3, 6, 1))
	var re *Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &re) || !strings.Contains(err.Error(), ts.URL) {
		t.Errorf("Predict with a cancelled ctx: %v, want an *Error naming %s and wrapping context.Canceled", err, ts.URL)
	}
}

// rewrittenAnswers predicts x through a server whose inference answers
// are lineage serve's rewritten by rewrite (given the recorded answer), and
// checks the outcome: the model's own answer when wantErr is empty, else an
// error containing wantErr after exactly one request (not retried).
func rewrittenAnswers(t *testing.T, name string, opts Options, wantErr string, rewrite func(w http.ResponseWriter, rec *httptest.ResponseRecorder)) {
	t.Helper()
	m := testMLP()
	s, err := serve.New(m, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var posts atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			s.ServeHTTP(w, r)
			return
		}
		posts.Add(1)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		rewrite(w, rec)
	}))
	defer ts.Close()
	rm, err := Open(context.Background(), ts.URL+"/v2/models/tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	x := randomBatch(3, 6, 7)
	got, err := rm.Predict(context.Background(), x)
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("%s: Predict: %v", name, err)
	case wantErr == "":
		want, _ := m.Predict(context.Background(), x)
		assertSame(t, got, want)
	case err == nil || !strings.Contains(err.Error(), wantErr):
		t.Errorf("%s: Predict error %v, want one containing %q", name, err, wantErr)
	case posts.Load() != 1:
		t.Errorf("%s: %d requests, want 1 (not retried)", name, posts.Load())
	}
}

// TestAnswerLimit checks that an inference answer is capped by what was
// asked (answerLimit), not only by Options.MaxResponseBytes: a server
// sending tens of megabytes for a small batch made every worker hold up
// to 64 MiB. The padded answer is refused once, naming the cap; an answer
// within it, however indented, is read.
func TestAnswerLimit(t *testing.T) {
	limit := answerLimit(3, len(testMLP().Info().Labels))
	opts := fastOpts()
	opts.JSONOnly = true // padding goes before the JSON
	for _, tt := range []struct {
		name    string
		pad     int64
		wantErr string
	}{
		{"indented", limit / 2, ""},
		{"padded", limit + 1, fmt.Sprintf("response exceeds %d bytes", limit)},
	} {
		rewrittenAnswers(t, tt.name, opts, tt.wantErr, func(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(bytes.Repeat([]byte(" "), int(tt.pad))) // chunked: no length announced
			w.Write(rec.Body.Bytes())
		})
	}
}

// logitModel answers with log-probabilities shifted by a constant per
// row (logits, as many served classifiers give), for Options.Logits.
type logitModel struct{ model.Model }

func (l logitModel) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	p, err := l.Model.Predict(ctx, x)
	if err != nil {
		return p, err
	}
	for i := range p.Rows {
		for j := range p.Cols {
			v := &p.Data[i*p.Stride+j]
			*v = float32(math.Log(float64(*v)) + float64(i%5) - 2)
		}
	}
	return p, nil
}

// TestLogits checks that a server answering with logits is read through
// their softmax with Options.Logits (the model's own probabilities,
// within float32 rounding), and refused without it.
func TestLogits(t *testing.T) {
	m := testMLP()
	ts := serveMLP(t, logitModel{m}, serve.Options{})
	x := randomBatch(23, 6, 1)
	want, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	opts := fastOpts()
	opts.Logits = true
	c, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/tiny", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range want.Data {
		if d := math.Abs(float64(got.Data[i] - v)); d > 1e-6 {
			t.Fatalf("entry %d: %v from the logits, the model's probability %v", i, got.Data[i], v)
		}
	}
	c2, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/tiny", fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if _, err := c2.Predict(context.Background(), x); err == nil || !strings.Contains(err.Error(), "negative probability") {
		t.Errorf("logits read as probabilities: error %v, want a negative probability", err)
	}
}
