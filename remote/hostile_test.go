package remote

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hostileMeta is the metadata of the hostile servers' model: 2 inputs, 2
// labels.
const hostileMeta = `{"name":"m","platform":"x","inputs":[{"name":"input","datatype":"FP32","shape":[-1,2]}],"outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,2]}]}`

// goodAnswer is a valid JSON answer to a 1-row request.
const goodAnswer = `{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]}]}`

// f32le lays out v as float32 little-endian bytes.
func f32le(v ...float32) string {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return string(b)
}

// rawAnswer writes s verbatim on the hijacked connection and closes it.
func rawAnswer(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		c, bw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		bw.WriteString(s)
		bw.Flush()
		c.Close()
	}
}

// binaryAnswer answers with the JSON header hdr followed by binary data.
func binaryAnswer(hdr, bin string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Inference-Header-Content-Length", fmt.Sprint(len(hdr)))
		io.WriteString(w, hdr+bin)
	}
}

// headerLengthAnswer answers with the JSON header and binary data of a
// 1-row answer under the Inference-Header-Content-Length hl.
func headerLengthAnswer(hl string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Inference-Header-Content-Length", hl)
		io.WriteString(w, binaryHeader(8)+f32le(0.25, 0.75))
	}
}

func binaryHeader(size int) string {
	return fmt.Sprintf(`{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":%d}}]}`, size)
}

func textAnswer(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, s)
	}
}

// TestHostileAnswers sends a 1-row batch to servers answering in every
// wrong way (and a few unusual right ones), through the direct client and
// net/http: Predict succeeds exactly on the valid answers, and its errors
// are one line naming the endpoint.
func TestHostileAnswers(t *testing.T) {
	tests := []struct {
		name  string
		infer http.HandlerFunc
		ok    bool
	}{
		{"json", textAnswer(goodAnswer), true},
		{"binary", binaryAnswer(binaryHeader(8), f32le(0.25, 0.75)), true},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, goodAnswer[:30])
			w.(http.Flusher).Flush()
			io.WriteString(w, goodAnswer[30:])
		}, true},
		{"100 Continue first", rawAnswer("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 89\r\n\r\n" + goodAnswer), true},
		{"HTTP/1.0 without length", rawAnswer("HTTP/1.0 200 OK\r\n\r\n" + goodAnswer), true},
		{"extra fields", textAnswer(`{"zzz":[1,{"a":2}],"outputs":[{"name":"probabilities","foo":"bar","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]}]}`), true},
		{"wrong shape", binaryAnswer(`{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[2,1],"parameters":{"binary_data_size":8}}]}`, f32le(0.25, 0.75)), false},
		{"NaN", binaryAnswer(binaryHeader(8), f32le(float32(math.NaN()), 1)), false},
		{"negative", binaryAnswer(binaryHeader(8), f32le(-0.5, 1.5)), false},
		{"not normalised", binaryAnswer(binaryHeader(8), f32le(0.5, 0.6)), false},
		{"truncated binary", binaryAnswer(binaryHeader(8), f32le(0.25)), false},
		{"fractional binary size", binaryAnswer(`{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8.5}}]}`, f32le(0.25, 0.75)), false},
		{"FP64 binary", binaryAnswer(`{"outputs":[{"name":"probabilities","datatype":"FP64","shape":[1,2],"parameters":{"binary_data_size":8}}]}`, f32le(0.25, 0.75)), false},
		{"INT32 json", textAnswer(`{"outputs":[{"name":"probabilities","datatype":"INT32","shape":[1,2],"data":[0,1]}]}`), false},
		{"header length past the body", headerLengthAnswer("100000"), false},
		{"negative header length", headerLengthAnswer("-5"), false},
		{"Content-Length past the body", rawAnswer("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"outputs\":[]}"), false},
		{"connection reset", rawAnswer(""), false},
		{"500 text", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) }, false},
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // so that the server notices the client hanging up
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, false},
		{"20 MB header", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("X-Big", strings.Repeat("a", 20<<20))
			io.WriteString(w, goodAnswer)
		}, false},
		// The shape and the count of values must each match the request:
		// a shape of two rows carrying one row's values, and a value past
		// the shape, were taken (each check removed alone passed).
		{"shape of two rows", textAnswer(`{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[2,2],"data":[0.25,0.75]}]}`), false},
		{"a value past the shape", textAnswer(`{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2],"data":[0.25,0.75,0.5]}]}`), false},
		{"no outputs", textAnswer(`{"outputs":[]}`), false},
		{"data missing", textAnswer(`{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,2]}]}`), false},
		{"html 200", textAnswer("<html>\n<body>oops</body>\n</html>"), false},
	}
	for _, via := range []string{"direct", "net/http"} {
		for _, tt := range tests {
			t.Run(via+"/"+tt.name, func(t *testing.T) {
				mux := http.NewServeMux()
				mux.HandleFunc("GET /v2/models/m", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, hostileMeta) })
				mux.HandleFunc("GET /v2", func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, `{"name":"x","version":"1","extensions":["binary_tensor_data"]}`)
				})
				mux.HandleFunc("POST /v2/models/m/infer", tt.infer)
				ts := httptest.NewServer(mux)
				defer ts.Close()
				o := fastOpts()
				o.Timeout, o.MaxRetries = 300*time.Millisecond, 1
				if via == "net/http" {
					o.Client = &http.Client{}
				}
				m, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/m", o)
				if err != nil {
					t.Fatal(err)
				}
				defer m.Close()
				p, err := m.Predict(context.Background(), randomBatch(1, 2, 1))
				if tt.ok != (err == nil) {
					t.Fatalf("Predict = %v, %v; want success %v", p.Data, err, tt.ok)
				}
				if err != nil {
					if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.Contains(msg, ts.URL) || len(msg) > 500 {
						t.Errorf("error %q, want one line of at most 500 bytes naming %s", msg[:min(len(msg), 600)], ts.URL)
					}
				}
			})
		}
	}
}

// TestLongMetadataName checks that a model name or label of megabytes in a
// server's metadata is refused, not stored and printed in every table.
func TestLongMetadataName(t *testing.T) {
	long := strings.Repeat("n", 2000)
	tests := []struct{ meta, want string }{
		{strings.Replace(hostileMeta, `"name":"m"`, `"name":"`+long+`"`, 1), "metadata: model name is 2000 bytes long, at most 1024 allowed"},
		{strings.Replace(hostileMeta, `"platform":"x",`, `"platform":"x","parameters":{"labels":["a","`+long+`"]},`, 1), "metadata: label 1 is 2000 bytes long"},
		// Output and input sizes a server claims are checked before
		// anything of that size is made (2^62 default labels panicked,
		// 2^40 ran out of memory).
		{strings.Replace(hostileMeta, `"shape":[-1,2]}]}`, `"shape":[-1,4611686018427387904]}]}`, 1), "4611686018427387904 labels, at most 65536 allowed"},
		{strings.Replace(hostileMeta, `"shape":[-1,2]}]}`, `"shape":[-1,1099511627776]}]}`, 1), "1099511627776 labels, at most 65536 allowed"},
		{strings.Replace(hostileMeta, `"shape":[-1,2]}],"outputs"`, `"shape":[-1,1099511627776]}],"outputs"`, 1), "1099511627776 inputs, at most 16777216 allowed"},
	}
	for _, tt := range tests {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, tt.meta) }))
		_, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/m", fastOpts())
		ts.Close()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("OpenHTTP error %v, want %q", err, tt.want)
		}
	}
}

// TestRedirectNotFollowed checks that a redirect is reported, naming
// where it points, through both clients, and not retried.
func TestRedirectNotFollowed(t *testing.T) {
	for _, via := range []string{"direct", "net/http"} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://elsewhere.example/v2/models/m", http.StatusFound)
		}))
		o := fastOpts()
		if via == "net/http" {
			o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
		_, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/m", o)
		ts.Close()
		var re *Error
		if err == nil || !strings.Contains(err.Error(), "redirects are not followed; the server points to http://elsewhere.example/v2/models/m") ||
			!errors.As(err, &re) || re.Attempts != 1 {
			t.Errorf("%s: error %v, want one naming the redirect after 1 attempt", via, err)
		}
	}
}
