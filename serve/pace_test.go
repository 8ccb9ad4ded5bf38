package serve

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// setPace sets bodyGrace and minBodyRate for one test.
func setPace(t *testing.T, grace time.Duration, rate int) {
	t.Helper()
	g, r := bodyGrace, minBodyRate
	bodyGrace, minBodyRate = grace, rate
	t.Cleanup(func() { bodyGrace, minBodyRate = g, r })
}

// postRaw sends the headers of an infer request announcing length bytes
// and the first part of its body on a new connection, and returns it.
func postRaw(t *testing.T, addr string, length int, part string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /v2/models/tiny/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", length, part)
	return c
}

// status reads the status code of the answer on c (0 if none came).
func status(c net.Conn) int {
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // against a hang only
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeStalledBodyReleased: clients that sent the first bytes of the
// largest bodies and stalled give their share of the budget back after
// bodyGrace, not at the read timeout (a minute), so a request waiting for
// room is answered.
func TestServeStalledBodyReleased(t *testing.T) {
	const limit = 1000
	setPace(t, 200*time.Millisecond, minBodyRate)
	defer func(w time.Duration) { busyWait = w }(busyWait)
	busyWait = 30 * time.Second // longer than the test may take
	s, err := New(testModel(), Options{MaxBodyBytes: limit})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := serveOn(t, s)
	var stalled []net.Conn
	for range bodyBudget {
		stalled = append(stalled, postRaw(t, addr, limit, `{"inputs":`))
	}
	time.Sleep(100 * time.Millisecond) // let the server charge them
	small := inferBody([][]float32{{1, 2, 3, 4}}, "FP32")
	c := postRaw(t, addr, len(small), small)
	got := make(chan int, 1)
	go func() { got <- status(c) }()
	select {
	case code := <-got:
		if code != http.StatusOK {
			t.Errorf("request beside %d stalled bodies: status %d, want 200", bodyBudget, code)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("a request waited 15 s beside %d stalled bodies; want them cut off after bodyGrace", bodyBudget)
	}
	for i, c := range stalled {
		if code := status(c); code != http.StatusBadRequest {
			t.Errorf("stalled body %d: status %d, want 400", i, code)
		}
	}
}

// TestServeSteadyBodyPasses: a body that arrives in pieces, but ahead of
// the pace (evenly over the read timeout), is answered.
func TestServeSteadyBodyPasses(t *testing.T) {
	setPace(t, 100*time.Millisecond, minBodyRate)
	s, err := New(testModel(), Options{ReadTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := serveOn(t, s)
	body := strings.Repeat(" ", 600) + inferBody([][]float32{{1, 2, 3, 4}}, "FP32")
	const pieces = 10
	step := len(body) / pieces
	c := postRaw(t, addr, len(body), body[:step])
	for i := 1; i < pieces; i++ {
		time.Sleep(100 * time.Millisecond) // the pace allows 300 ms a piece
		end := (i + 1) * step
		if i == pieces-1 {
			end = len(body)
		}
		if _, err := c.Write([]byte(body[i*step : end])); err != nil {
			t.Fatal(err)
		}
	}
	if code := status(c); code != http.StatusOK {
		t.Errorf("body sent in %d pieces ahead of the pace: status %d, want 200", pieces, code)
	}
}

// slowModel answers after delay, failing if its context ends first.
type slowModel struct {
	*model.MLP
	delay time.Duration
}

func (m slowModel) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	select {
	case <-time.After(m.delay):
	case <-ctx.Done():
		return blas32.General{}, ctx.Err()
	}
	return m.MLP.Predict(ctx, x)
}

// TestServePaceEndsWithBody: the paced deadline is taken back once the
// body is read, so an answer that takes longer than it is not cut off.
func TestServePaceEndsWithBody(t *testing.T) {
	setPace(t, 50*time.Millisecond, 1<<30) // the body is due at once
	s, err := New(slowModel{testModel(), 500 * time.Millisecond}, Options{ReadTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := serveOn(t, s)
	small := inferBody([][]float32{{1, 2, 3, 4}}, "FP32")
	if code := status(postRaw(t, addr, len(small), small)); code != http.StatusOK {
		t.Errorf("answer taking 10 times the paced deadline: status %d, want 200", code)
	}
}

// TestServeBodyBehindPace: a body that keeps sending but falls more than
// bodyGrace behind an even pace over the read timeout is cut off (400).
func TestServeBodyBehindPace(t *testing.T) {
	setPace(t, 100*time.Millisecond, minBodyRate)
	s, err := New(testModel(), Options{ReadTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	addr, _, _ := serveOn(t, s)
	body := strings.Repeat(" ", 900) + inferBody([][]float32{{1, 2, 3, 4}}, "FP32")
	c := postRaw(t, addr, len(body), body[:10])
	for i := 10; i < 60; i += 10 {
		time.Sleep(100 * time.Millisecond) // a hundredth of the body a tenth of the time
		if _, err := c.Write([]byte(body[i : i+10])); err != nil {
			break // cut off already
		}
	}
	if code := status(c); code != http.StatusBadRequest {
		t.Errorf("body behind the pace: status %d, want 400", code)
	}
}

// TestHandlerNotPaced: a Server mounted in another http.Server (not run by
// Serve) leaves that server's deadlines alone: a body slower than the pace
// is answered.
func TestHandlerNotPaced(t *testing.T) {
	setPace(t, 50*time.Millisecond, minBodyRate)
	ts, _ := newTestServer(t, Options{ReadTimeout: 200 * time.Millisecond})
	addr := strings.TrimPrefix(ts.URL, "http://")
	small := inferBody([][]float32{{1, 2, 3, 4}}, "FP32")
	c := postRaw(t, addr, len(small), small[:5])
	time.Sleep(300 * time.Millisecond) // beyond the pace and Options.ReadTimeout
	if _, err := c.Write([]byte(small[5:])); err != nil {
		t.Fatal(err)
	}
	if code := status(c); code != http.StatusOK {
		t.Errorf("handler outside Serve: status %d, want 200", code)
	}
}
