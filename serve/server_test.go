package serve

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/watermark"
	"gonum.org/v1/gonum/blas/blas32"
)

const testKey = "s3cret-key-value"

func testModel() *model.MLP {
	m := model.NewMLP([]int{4, 8, 3}, model.ActTanh, []string{"cat", "dog", "eel"}, rand.New(rand.NewPCG(1, 2)))
	m.Name = "tiny"
	return m
}

func newTestServer(t *testing.T, opts Options) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	var log bytes.Buffer
	opts.Log = &log
	s, err := New(testModel(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, &log
}

func do(t *testing.T, method, url, key, body string) (int, http.Header, []byte) {
	t.Helper()
	h := map[string]string{}
	if key != "" {
		h["Authorization"] = "Bearer " + key
	}
	return doWith(t, method, url, h, []byte(body))
}

// doWith sends body with the headers h and returns the answer.
func doWith(t *testing.T, method, url string, h map[string]string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func inferBody(rows [][]float32, datatype string) string {
	var flat []float32
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return fmt.Sprintf(`{"id":"req-1","inputs":[{"name":"input","datatype":%q,"shape":[%d,4],"data":%s}]}`,
		datatype, len(rows), AppendFloats(nil, flat))
}

func TestStatusCodes(t *testing.T) {
	ts, log := newTestServer(t, Options{APIKey: testKey, MaxBatch: 2, MaxBodyBytes: 4096})
	ok := inferBody([][]float32{{1, 2, 3, 4}}, "FP32")
	tests := []struct {
		name, method, path, key, body string
		want                          int
		wantErr                       string // substring of the {"error"} body
	}{
		{"live without key", "GET", "/v2/health/live", "", "", 200, ""},
		{"ready", "GET", "/v2/health/ready", "", "", 200, ""},
		{"server metadata", "GET", "/v2", testKey, "", 200, ""},
		{"metadata", "GET", "/v2/models/tiny", testKey, "", 200, ""},
		{"model ready", "GET", "/v2/models/tiny/ready", testKey, "", 200, ""},
		{"versioned metadata", "GET", "/v2/models/tiny/versions/1", testKey, "", 200, ""},
		{"infer", "POST", "/v2/models/tiny/infer", testKey, ok, 200, ""},
		{"infer FP64", "POST", "/v2/models/tiny/infer", testKey, inferBody([][]float32{{1, 2, 3, 4}}, "FP64"), 200, ""},
		{"nested data", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[2,4],"data":[[1,2,3,4],[5,6,7,8]]}]}`, 200, ""},
		{"no key", "POST", "/v2/models/tiny/infer", "", ok, 401, "API key"},
		{"wrong key", "POST", "/v2/models/tiny/infer", "s3cret-key-valuf", ok, 401, "API key"},
		{"metadata without key", "GET", "/v2/models/tiny", "", "", 401, "API key"},
		{"unknown model", "POST", "/v2/models/other/infer", testKey, ok, 404, "unknown model"},
		{"versioned infer", "POST", "/v2/models/tiny/versions/1/infer", testKey, ok, 200, ""},
		{"unknown version infer", "POST", "/v2/models/tiny/versions/7/infer", testKey, ok, 404, "unknown version \"7\""},
		{"unknown version metadata", "GET", "/v2/models/tiny/versions/2", testKey, "", 404, "unknown version"},
		{"unknown version ready", "GET", "/v2/models/tiny/versions/01/ready", testKey, "", 404, "unknown version"},
		{"unknown path", "GET", "/v3/x", testKey, "", 404, "no such endpoint"},
		{"malformed JSON", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[`, 400, "malformed"},
		{"wrong datatype", "POST", "/v2/models/tiny/infer", testKey, inferBody([][]float32{{1, 2, 3, 4}}, "INT32"), 400, "datatype"},
		{"wrong shape", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`, 400, "shape"},
		{"count mismatch", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[2,4],"data":[1,2,3,4]}]}`, 400, "values"},
		{"NaN", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,NaN,3,4]}]}`, 400, "non-finite"},
		{"overflow", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,1e39,3,4]}]}`, 400, `tensor "input": value 1: 1e39 is out of float32 range`},
		{"no inputs", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[]}`, 400, "request has 0 inputs, want 1"},
		{"two inputs", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]},{"name":"extra","datatype":"FP32","shape":[1,4],"data":[5,6,7,8]}]}`, 400, "request has 2 inputs, want 1"},
		{"unknown output", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"outputs":[{"name":"logits"}]}`, 400, `unknown output "logits"`},
		{"batch too large", "POST", "/v2/models/tiny/infer", testKey, inferBody([][]float32{{1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}}, "FP32"), 413, "batch of 3"},
		// The shape is checked before the data is read: a body just under
		// the limit could hold millions of values.
		{"batch too large, data unread", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1000000,4],"data":[1,"x"]}]}`, 413, "batch of 1000000 exceeds the limit of 2"},
		{"infer by GET", "GET", "/v2/models/tiny/infer", testKey, "", 405, "inference takes POST"},
		{"versioned infer by PUT", "PUT", "/v2/models/tiny/versions/1/infer", testKey, ok, 405, "inference takes POST"},
		// Refused on the length it announces, before it is read.
		{"body too large", "POST", "/v2/models/tiny/infer", testKey, `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4` + strings.Repeat(" ", 5000) + `]}]}`, 413, "bytes exceeds the limit of 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, body := do(t, tt.method, ts.URL+tt.path, tt.key, tt.body)
			if got != tt.want {
				t.Fatalf("%s %s: status %d, want %d (body %s)", tt.method, tt.path, got, tt.want, body)
			}
			if tt.want != 200 {
				var e ErrorResponse
				if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, tt.wantErr) {
					t.Errorf("error body %s: want JSON {\"error\"} containing %q", body, tt.wantErr)
				}
			}
		})
	}
	if strings.Contains(log.String(), testKey) {
		t.Errorf("access log contains the API key")
	}
}

// TestRequestContentEncoding checks that a compressed request body (as
// Triton's clients send with request compression on) is refused with
// 415 naming the encoding, not read as malformed JSON.
func TestRequestContentEncoding(t *testing.T) {
	ts, _ := newTestServer(t, Options{})
	body := inferBody([][]float32{{1, 2, 3, 4}}, "FP32")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(body))
	zw.Close()
	code, _, b := doWith(t, "POST", ts.URL+"/v2/models/tiny/infer", map[string]string{"Content-Encoding": "gzip"}, gz.Bytes())
	var e ErrorResponse
	if code != http.StatusUnsupportedMediaType || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, `Content-Encoding "gzip" is not supported`) {
		t.Errorf("gzip body: status %d, body %s; want 415 naming the encoding", code, b)
	}
	if code, _, b := doWith(t, "POST", ts.URL+"/v2/models/tiny/infer", map[string]string{"Content-Encoding": "identity"}, []byte(body)); code != 200 {
		t.Errorf("identity body: status %d, body %s; want 200", code, b)
	}
}

func TestInferMatchesModel(t *testing.T) {
	m := testModel()
	tests := []struct {
		name   string
		reveal string
		temp   float64
		mark   bool
	}{
		{"full", "full", 0, false},
		{"topk", "topk:1", 0, false},
		{"label", "label", 0, false},
		{"temperature", "full", 2, false},
		{"label watermarked", "label", 0, true},
		{"watermark ignored when revealing everything", "full", 0, true},
	}
	x := blas32.General{Rows: 3, Cols: 4, Stride: 4, Data: []float32{0.1, -2, 3.5, 1e-3, 0, 0, 0, 0, 7, 8, -9, 10}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := model.ParseReveal(tt.reveal)
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Reveal: r, Temperature: tt.temp}
			var ref model.Model = m
			if tt.temp != 0 {
				ref = model.WithTemperature(ref, tt.temp)
			}
			if tt.mark {
				opts.Watermark, opts.WatermarkEpsilon = watermark.ForModel(m), 3
				if r.Mode == model.RevealLabel {
					ref = watermark.Serve(ref, opts.Watermark, 3)
				}
			}
			ts, _ := newTestServer(t, opts)
			want, err := model.WithReveal(ref, r).Predict(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			rows := [][]float32{x.Data[0:4], x.Data[4:8], x.Data[8:12]}
			status, _, body := do(t, "POST", ts.URL+"/v2/models/tiny/infer", "", inferBody(rows, "FP32"))
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			var resp InferenceResponse
			if err := json.Unmarshal(body, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.ID != "req-1" || resp.ModelName != "tiny" {
				t.Errorf("id %q model %q, want req-1 tiny", resp.ID, resp.ModelName)
			}
			out := resp.Outputs[0]
			if out.Name != OutputName || out.Datatype != FP32 || fmt.Sprint(out.Shape) != "[3 3]" {
				t.Fatalf("output %s %s %v, want probabilities FP32 [3 3]", out.Name, out.Datatype, out.Shape)
			}
			got, err := out.Float32s()
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != want.Data[i] {
					t.Fatalf("value %d: got %v, want %v (bit-exact)", i, got[i], want.Data[i])
				}
			}
		})
	}
}

// TestWatermarkChangesSomeLabels checks that a marked label API answers
// with the marked label, which differs from the argmax on some inputs
// (the near-ties) and not on most, and that it does not announce itself.
func TestWatermarkChangesSomeLabels(t *testing.T) {
	m := testModel()
	mk := watermark.ForModel(m)
	s, err := New(m, Options{Reveal: model.Reveal{Mode: model.RevealLabel}, Watermark: mk, WatermarkEpsilon: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	x := blas32.General{Rows: 500, Cols: 4, Stride: 4, Data: make([]float32, 2000)}
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	got, err := s.m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := m.Predict(context.Background(), x)
	changed := 0
	for i := 0; i < x.Rows; i++ {
		row, p := got.Data[i*3:(i+1)*3], plain.Data[i*3:(i+1)*3]
		want := mk.Label(x.Data[i*4:(i+1)*4], p, 1)
		if row[want] != 1 {
			t.Fatalf("row %d: served %v, want one-hot of the marked label %d", i, row, want)
		}
		if want != model.Argmax(p) {
			changed++
		}
	}
	if changed == 0 || changed > x.Rows/4 {
		t.Errorf("the mark changed %d of %d labels, want a few", changed, x.Rows)
	}
	if md := fmt.Sprint(s.Metadata()); strings.Contains(md, "watermark") {
		t.Errorf("metadata announces the watermark: %s", md)
	}
	if _, err := New(m, Options{Reveal: model.Reveal{Mode: model.RevealLabel}, Watermark: watermark.New(watermark.Key{}, 5, 3, model.Normalization{})}); err == nil {
		t.Errorf("New with a watermark of another shape: got nil error")
	}
}

func TestMetadata(t *testing.T) {
	ts, _ := newTestServer(t, Options{Reveal: model.Reveal{Mode: model.RevealTopK, K: 2}})
	_, _, body := do(t, "GET", ts.URL+"/v2/models/tiny", "", "")
	var md ModelMetadata
	if err := json.Unmarshal(body, &md); err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("%s %s %s %s %v %s %s %v %v %v", md.Name, md.Platform, md.Inputs[0].Name, md.Inputs[0].Datatype,
		md.Inputs[0].Shape, md.Outputs[0].Name, md.Outputs[0].Datatype, md.Outputs[0].Shape, md.Parameters["labels"], md.Parameters["reveal"])
	want := "tiny lineage input FP32 [-1 4] probabilities FP32 [-1 3] [cat dog eel] topk:2"
	if got != want {
		t.Errorf("metadata:\n got %s\nwant %s", got, want)
	}
}

func TestRateLimit(t *testing.T) {
	ts, _ := newTestServer(t, Options{RateLimit: 2})
	body := inferBody([][]float32{{1, 2, 3, 4}}, "FP32")
	var codes []int
	var retryAfter string
	for range 4 {
		code, h, _ := do(t, "POST", ts.URL+"/v2/models/tiny/infer", "", body)
		codes = append(codes, code)
		if code == 429 {
			retryAfter = h.Get("Retry-After")
		}
	}
	if fmt.Sprint(codes[:2]) != "[200 200]" || codes[3] != 429 {
		t.Errorf("statuses %v, want [200 200 … 429] (burst 2)", codes)
	}
	if s, err := strconv.Atoi(retryAfter); err != nil || s < 1 {
		t.Errorf("Retry-After %q, want a positive integer", retryAfter)
	}
}

func TestAccessLog(t *testing.T) {
	ts, log := newTestServer(t, Options{APIKey: testKey})
	do(t, "POST", ts.URL+"/v2/models/tiny/infer", testKey, inferBody([][]float32{{1, 2, 3, 4}, {4, 3, 2, 1}}, "FP32"))
	do(t, "POST", ts.URL+"/v2/models/tiny/infer", "wrong", "{}")
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), log)
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	got := fmt.Sprint(first["method"], first["path"], first["status"], first["batch"], second["status"])
	if want := "POST/v2/models/tiny/infer200 2 401"; got != want {
		t.Errorf("log fields %q, want %q", got, want)
	}
	if _, ok := first["duration"]; !ok {
		t.Errorf("log line has no duration: %s", lines[0])
	}
	if strings.Contains(log.String(), testKey) {
		t.Errorf("access log contains the API key")
	}
}

func TestServeShutdown(t *testing.T) {
	s, err := New(testModel(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	if code, _, _ := do(t, "GET", "http://"+ln.Addr().String()+"/v2/health/live", "", ""); code != 200 {
		t.Fatalf("live: %d", code)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

// serveOn runs s.Serve on a new loopback listener until the test ends
// or the returned cancel is called; Serve's result arrives on the channel.
func serveOn(t *testing.T, s *Server) (addr string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		errc <- s.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return ln.Addr().String(), cancel, errc
}

// TestServeSlowBody: a client that stops sending its body is cut off at
// ReadTimeout rather than holding its connection, and shutdown is then
// clean.
func TestServeSlowBody(t *testing.T) {
	s, err := New(testModel(), Options{ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, done := serveOn(t, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /v2/models/tiny/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\":")
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // against a hang only
	answer, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answer: %v (after %q), want the server to close the connection", err, answer)
	}
	if !bytes.HasPrefix(answer, []byte("HTTP/1.1 400 ")) {
		t.Errorf("answer %q, want 400", answer)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v, want nil", err)
	}
}

// blocking is a model whose Predict never returns until released,
// whatever its ctx says.
type blocking struct {
	model.Model
	entered chan struct{}
	release chan struct{}
}

func (b *blocking) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	b.entered <- struct{}{}
	<-b.release
	return b.Model.Predict(context.Background(), x)
}

// TestServeShutdownTimeout: a request still in flight at
// ShutdownTimeout has its connection closed and Serve says so.
func TestServeShutdownTimeout(t *testing.T) {
	m := &blocking{Model: testModel(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(m.release)
	s, err := New(m, Options{ShutdownTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr, cancel, done := serveOn(t, s)
	reqErr := make(chan error, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/v2/models/tiny/infer", "application/json", strings.NewReader(inferBody([][]float32{{1, 2, 3, 4}}, "FP32")))
		if err == nil {
			resp.Body.Close()
		}
		reqErr <- err
	}()
	<-m.entered
	cancel()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "in flight") {
		t.Errorf("Serve after cancel: %v, want an error naming the requests in flight", err)
	}
	if err := <-reqErr; err == nil {
		t.Error("the request in flight got an answer, want its connection closed")
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string // "": any error
	}{
		{"bad name", Options{Name: "a b"}, ""},
		{"negative temperature", Options{Temperature: -1}, "serve: temperature -1: want a finite number of at least 0.001 (0: unchanged)"},
		// 1e-320 was served: one-hot answers under a full reveal.
		{"tiny temperature", Options{Temperature: 1e-320}, "serve: temperature 1e-320: want a finite number of at least 0.001 (0: unchanged)"},
		{"NaN temperature", Options{Temperature: math.NaN()}, "serve: temperature NaN: want a finite number of at least 0.001 (0: unchanged)"},
		{"topk 0", Options{Reveal: model.Reveal{Mode: model.RevealTopK}}, ""},
		{"negative rate limit", Options{RateLimit: -5}, "serve: rate limit -5: want a finite number ≥ 0 (0: unlimited)"},
		{"NaN rate limit", Options{RateLimit: math.NaN()}, "serve: rate limit NaN: want a finite number ≥ 0 (0: unlimited)"},
		{"Inf rate limit", Options{RateLimit: math.Inf(1)}, "serve: rate limit +Inf: want a finite number ≥ 0 (0: unlimited)"},
		{"negative max batch", Options{MaxBatch: -1}, "serve: max batch -1: want at least 1 (0: 1024)"},
		// With these keys every request was refused (401).
		{"key with a line break", Options{APIKey: "k1\nk2"}, "serve: the API key holds a line break or another control character, which an HTTP header cannot carry: every request would be refused"},
		{"key ending in a space", Options{APIKey: "s3cret "}, "serve: the API key starts or ends with white space, which HTTP drops from a header's value: every request would be refused"},
		{"key starting with a tab", Options{APIKey: "\ts3cret"}, "serve: the API key starts or ends with white space, which HTTP drops from a header's value: every request would be refused"},
	}
	for _, k := range []string{"s3cret", "s3 cr\tet"} {
		if _, err := New(testModel(), Options{APIKey: k}); err != nil {
			t.Errorf("key %q: %v", k, err)
		}
	}
	for _, tt := range tests {
		_, err := New(testModel(), tt.opts)
		if err == nil || (tt.want != "" && err.Error() != tt.want) {
			t.Errorf("%s: got %v, want an error %q", tt.name, err, tt.want)
		}
	}
}
