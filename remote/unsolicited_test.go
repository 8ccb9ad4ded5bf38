package remote

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
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
				out := []float32{}
				for i := range in.X.Rows {
					s := float32(1 / (1 + math.Exp(-float64(in.X.Data[i*in.X.Stride]))))
					out = append(out, s, 1-s)
				}
				id := ""
				if echo {
					id = fmt.Sprintf(`"id":%q,`, in.ID)
				}
				ans := fmt.Sprintf(`{%s"outputs":[{"name":"probabilities","datatype":"FP32","shape":[%d,2],"data":%s}]}`,
					id, in.X.Rows, serve.AppendFloats(nil, out))
				if err = respond(c, ans); err == nil {
					time.Sleep(delay)
					err = respond(c, ans)
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
					for i := range x.Rows {
						want := float32(1 / (1 + math.Exp(-float64(x.Data[i*x.Stride]))))
						if g := got.Data[i*got.Stride]; math.Abs(float64(g-want)) > 1e-6 {
							t.Errorf("row %d: got p0 %v, want %v (another batch's answer)", i, g, want)
						}
					}
				})
			}
		}
	}
}
