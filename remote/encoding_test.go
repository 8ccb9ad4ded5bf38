package remote

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lineage-audit/lineage/serve"
)

// gzipped compresses b.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// bothClients are the two ways HTTPModel sends requests: its own direct
// client (Options.Client nil) and net/http's.
var bothClients = []struct {
	name   string
	client func() *http.Client
}{
	{"direct", func() *http.Client { return nil }},
	{"net/http", func() *http.Client { return &http.Client{Transport: &http.Transport{}} }},
}

// TestInvalidGzip checks that a 200 answer whose gzip body arrives whole
// but does not decode is reported as the malformed answer it is, naming
// the gzip body, and retried as malformed answers are; it was reported as
// "connection error: unexpected EOF". A body cut short by the connection
// stays a connection error. Both the direct client and net/http (which
// undid gzip itself) are checked.
func TestInvalidGzip(t *testing.T) {
	tests := []struct {
		name string
		body func(answer []byte) []byte
		// cut announces more bytes than are sent: the connection ends
		// in the body.
		cut  bool
		want string
	}{
		{"garbled header", func([]byte) []byte { return []byte("\x1f\x8b\x08garbage") }, false,
			"malformed response: invalid gzip body (Content-Encoding gzip): the gzip data ends early"},
		{"gzip data cut short", func(a []byte) []byte { z := gzipped(a); return z[:len(z)/2] }, false,
			"malformed response: invalid gzip body (Content-Encoding gzip): the gzip data ends early"},
		{"corrupt deflate data", func(a []byte) []byte {
			return append(gzipped(a)[:10], bytes.Repeat([]byte{0xff}, 64)...)
		}, false, "malformed response: invalid gzip body (Content-Encoding gzip): flate: corrupt input"},
		{"bad checksum", func(a []byte) []byte { z := gzipped(a); z[len(z)-8] ^= 0xff; return z }, false,
			"malformed response: invalid gzip body (Content-Encoding gzip): gzip: invalid checksum"},
		{"connection cut in the body", func(a []byte) []byte { z := gzipped(a); return z[:len(z)/2] }, true,
			"connection error: unexpected EOF"},
		{"empty body", func([]byte) []byte { return nil }, false,
			"malformed response: invalid gzip body (Content-Encoding gzip): the gzip data is empty"},
	}
	m := testMLP()
	s, err := serve.New(m, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := randomBatch(3, 6, 7)
	want, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range bothClients {
		for _, tt := range tests {
			for _, always := range []bool{true, false} {
				name := c.name + "/" + tt.name + "/once"
				if always {
					name = c.name + "/" + tt.name + "/always"
				}
				t.Run(name, func(t *testing.T) {
					var posts atomic.Int32
					ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						if r.Method != http.MethodPost {
							s.ServeHTTP(w, r)
							return
						}
						rec := httptest.NewRecorder()
						s.ServeHTTP(rec, r)
						for k, v := range rec.Header() {
							w.Header()[k] = v
						}
						if n := posts.Add(1); !always && n > 1 {
							w.WriteHeader(rec.Code)
							w.Write(rec.Body.Bytes())
							return
						}
						body := tt.body(rec.Body.Bytes())
						n := len(body)
						if tt.cut {
							n += 100
						}
						w.Header().Set("Content-Encoding", "gzip")
						w.Header().Set("Content-Length", strconv.Itoa(n))
						w.WriteHeader(rec.Code)
						w.Write(body)
					}))
					defer ts.Close()
					opts := fastOpts()
					opts.MaxRetries = 2
					opts.Client = c.client()
					rm, err := Open(context.Background(), ts.URL+"/v2/models/tiny", opts)
					if err != nil {
						t.Fatal(err)
					}
					defer rm.Close()
					got, err := rm.Predict(context.Background(), x)
					switch {
					case always && (err == nil || !strings.Contains(err.Error(), tt.want)):
						t.Errorf("Predict error %v, want one containing %q", err, tt.want)
					case always && strings.Count(err.Error(), "\n") > 0:
						t.Errorf("Predict error %q, want one line", err)
					case always && posts.Load() != 3:
						t.Errorf("%d requests, want 3 (retried twice)", posts.Load())
					case !always && err != nil:
						t.Errorf("Predict with one bad answer: %v, want it retried", err)
					case !always:
						assertSame(t, got, want)
					}
				})
			}
		}
	}
}

// TestGzipErrorPage checks that an error answer's gzipped body gives its
// message, through either client (lineage asks for gzip, so servers
// compress error pages too), and that one that does not decode gives the
// status alone rather than its bytes.
func TestGzipErrorPage(t *testing.T) {
	page := []byte(`{"error":"tensor input: bad shape"}`)
	tests := []struct {
		name string
		body []byte
		want string
	}{
		{"gzipped page", gzipped(page), "HTTP 400 Bad Request: tensor input: bad shape"},
		{"garbled page", []byte("\x1f\x8b\x08garbage"), "HTTP 400 Bad Request"},
	}
	s, err := serve.New(testMLP(), serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range bothClients {
		for _, tt := range tests {
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method != http.MethodPost {
						s.ServeHTTP(w, r)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Content-Encoding", "gzip")
					w.WriteHeader(http.StatusBadRequest)
					w.Write(tt.body)
				}))
				defer ts.Close()
				opts := fastOpts()
				opts.Client = c.client()
				rm, err := Open(context.Background(), ts.URL+"/v2/models/tiny", opts)
				if err != nil {
					t.Fatal(err)
				}
				defer rm.Close()
				_, err = rm.Predict(context.Background(), randomBatch(2, 6, 1))
				if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
					t.Errorf("Predict error %v, want one ending %q", err, tt.want)
				}
			})
		}
	}
}

// TestContentEncoding checks that an answer compressed with gzip, which a
// server may send to a client that names no Accept-Encoding (the direct
// client), is decoded as net/http decodes it, and that an encoding lineage
// cannot read fails once, naming it, instead of being retried as
// malformed JSON.
func TestContentEncoding(t *testing.T) {
	for _, tt := range []struct{ encoding, wantErr string }{
		{"gzip", ""},
		{"x-gzip", ""},
		{"br", `response has Content-Encoding "br", which lineage cannot decode`},
	} {
		rewrittenAnswers(t, tt.encoding, fastOpts(), tt.wantErr, func(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Del("Content-Length")
			w.Header().Set("Content-Encoding", tt.encoding)
			w.WriteHeader(rec.Code)
			zw := gzip.NewWriter(w)
			zw.Write(rec.Body.Bytes())
			zw.Close()
		})
	}
}

// TestEncodedErrorRetried checks that an error answer is judged by its
// status whatever its encoding: a 503 page in an encoding lineage cannot
// read is retried like any 503, and so is a 200 answer whose gzip body is
// cut short (both failed at once when decoding came first).
func TestEncodedErrorRetried(t *testing.T) {
	for _, tt := range []struct {
		name  string
		first func(w http.ResponseWriter)
	}{
		{"503 in br", func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "br")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte{0x8b, 0x02, 0x80})
		}},
		{"gzip cut short", func(w http.ResponseWriter) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte{0x1f, 0x8b}) // then the connection ends
		}},
	} {
		var n atomic.Int32
		rewrittenAnswers(t, tt.name, fastOpts(), "", func(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
			if n.Add(1) == 1 {
				tt.first(w)
				return
			}
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
		})
		if n.Load() != 2 {
			t.Errorf("%s: %d requests, want 2 (the first answer retried)", tt.name, n.Load())
		}
	}
}
