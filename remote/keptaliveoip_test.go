package remote

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/serve"
	"gonum.org/v1/gonum/blas/blas32"
)

// inferFunc answers one inference request of a keptAliveOIP connection: the
// bodies to write for it, one after the other, gap apart, and ok false to
// close the connection instead.
type inferFunc func(in serve.Request) (bodies []string, gap time.Duration, ok bool)

// keptAliveOIP starts an OIP server on a raw listener that keeps connections
// alive, which a test can make send what net/http's server never would
// (an answer nobody asked for, half a body). It answers the server's and
// the model's metadata itself (hostileMeta: two inputs, two labels) and
// each inference request with what the connection's inferFunc gives;
// newConn makes one per connection, so that it can keep what that
// connection carried. It returns the server's base URL.
func keptAliveOIP(t *testing.T, newConn func() inferFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	respond := func(w io.Writer, body string) error {
		_, err := fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return err
	}
	serveConn := func(c net.Conn) {
		defer c.Close()
		infer := newConn()
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(req.Body)
			switch {
			case req.Method == http.MethodGet && req.URL.Path == "/v2":
				err = respond(c, `{"name":"x","version":"1","extensions":[]}`)
			case req.Method == http.MethodGet:
				err = respond(c, hostileMeta)
			default:
				in, perr := serve.ParseRequest(body, -1, 2)
				if perr != nil {
					return
				}
				bodies, gap, ok := infer(in)
				if !ok {
					return
				}
				for i, b := range bodies {
					if i > 0 {
						time.Sleep(gap)
					}
					if err = respond(c, b); err != nil {
						break
					}
				}
			}
			if err != nil || req.Close {
				return
			}
		}
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveConn(c)
		}
	}()
	return "http://" + ln.Addr().String()
}

// sigmoids returns σ(v) for each row (v, w) of in's inputs, the first
// probability keptAliveOIP's tests answer the row with, so that an answer
// in the wrong place shows.
func sigmoids(in serve.Request) []float32 {
	s := make([]float32, in.X.Rows)
	for i := range s {
		s[i] = float32(1 / (1 + math.Exp(-float64(in.X.Data[i*in.X.Stride]))))
	}
	return s
}

// answerBody returns the OIP answer whose row i is (s[i], 1 − s[i]), with
// the id field id ("" for none).
func answerBody(id string, s []float32) string {
	out := make([]float32, 0, 2*len(s))
	for _, v := range s {
		out = append(out, v, 1-v)
	}
	idField := ""
	if id != "" {
		idField = fmt.Sprintf(`"id":%q,`, id)
	}
	return fmt.Sprintf(`{%s"outputs":[{"name":"probabilities","datatype":"FP32","shape":[%d,2],"data":%s}]}`,
		idField, len(s), serve.AppendFloats(nil, out))
}

// checkSigmoids fails the test for each row (v, w) of x whose answer in
// got does not start with σ(v), the answer the keptAliveOIP servers of
// these tests give it: why says what a wrong one would mean.
func checkSigmoids(t *testing.T, x, got blas32.General, why string) {
	t.Helper()
	for i := range x.Rows {
		want := float32(1 / (1 + math.Exp(-float64(x.Data[i*x.Stride]))))
		if g := got.Data[i*got.Stride]; math.Abs(float64(g-want)) > 1e-6 {
			t.Errorf("row %d: got p0 %v, want %v (%s)", i, g, want, why)
		}
	}
}
