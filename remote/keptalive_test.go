package remote

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"sync"
	"testing"

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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	inferences, reuses := 0, 0
	respond := func(w io.Writer, body string) error {
		_, err := fmt.Fprintf(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		return err
	}
	serveConn := func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		tainted := false
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
				mu.Lock()
				inferences++
				wrong := inferences == 3
				if tainted {
					reuses++
				}
				mu.Unlock()
				out := []float32{}
				for i := range in.X.Rows {
					s := float32(1 / (1 + math.Exp(-float64(in.X.Data[i*in.X.Stride]))))
					if tainted || (wrong && misbehave == "noid") {
						s = wrongValue
					}
					out = append(out, s, 1-s)
				}
				id := fmt.Sprintf(`"id":%q,`, in.ID)
				if wrong && misbehave == "noid" {
					id = ""
				}
				ans := fmt.Sprintf(`{%s"outputs":[{"name":"probabilities","datatype":"FP32","shape":[%d,2],"data":%s}]}`,
					id, in.X.Rows, serve.AppendFloats(nil, out))
				if wrong && misbehave == "malformed" {
					ans = ans[:len(ans)/2]
				}
				tainted = tainted || wrong
				err = respond(c, ans)
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
	return "http://" + ln.Addr().String(), func() int {
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
			for i := range x.Rows {
				want := float32(1 / (1 + math.Exp(-float64(x.Data[i*x.Stride]))))
				if g := got.Data[i*got.Stride]; math.Abs(float64(g-want)) > 1e-6 {
					t.Errorf("row %d: got p0 %v, want %v (a wrong answer taken)", i, g, want)
				}
			}
			if n := reused(); n != 0 {
				t.Errorf("requests sent on the connection that carried the wrong answer: %d, want 0", n)
			}
		})
	}
}
