package serve

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestInFlightBudget checks that the request bytes read and being
// answered at once are bounded (bodyBudget bodies of the largest size):
// clients sending bodies just under the limit made the server run out of
// memory. Bytes are charged as they arrive: connections that only
// announce a large body hold nothing, while a request beyond the budget
// waits for room, and is refused with 503 after busyWait.
func TestInFlightBudget(t *testing.T) {
	const limit = 1000
	srv, err := New(testModel(), Options{MaxBodyBytes: limit, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	addr := strings.TrimPrefix(ts.URL, "http://")
	small := []byte(inferBody([][]float32{{1, 2, 3, 4}}, "FP32"))
	// hold opens bodyBudget connections announcing a body of the largest
	// size and sending send bytes of it. When they send any, it returns
	// once the server has charged them the whole budget: a fixed sleep
	// was not always enough on a loaded machine under -race, and the
	// request meant to wait for room went through.
	hold := func(send int) []net.Conn {
		var held []net.Conn
		for range bodyBudget {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			fmt.Fprintf(c, "POST /v2/models/tiny/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", limit, strings.Repeat(" ", send))
			held = append(held, c)
		}
		if send == 0 {
			time.Sleep(200 * time.Millisecond) // let the server take them in
			return held
		}
		waitBudgetFull(t, srv)
		return held
	}
	post := func() chan int {
		done := make(chan int, 1)
		go func() {
			got, _, _ := doWith(t, "POST", ts.URL+"/v2/models/tiny/infer", nil, small)
			done <- got
		}()
		return done
	}

	// Announcing is free: a request goes through at once.
	idle := hold(0)
	select {
	case got := <-post():
		if got != http.StatusOK {
			t.Errorf("beside %d idle announcers: status %d, want 200", bodyBudget, got)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("%d connections that only announced a body blocked a request", bodyBudget)
	}
	for _, c := range idle {
		c.Close()
	}

	// Bodies nearly sent take the budget: a request waits ...
	held := hold(limit - 1)
	done := post()
	select {
	case got := <-done:
		t.Fatalf("a request beyond the budget was answered (%d) while %d bodies of the largest size were in flight", got, bodyBudget)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close() // ... until a client gives up and its share is released
	select {
	case got := <-done:
		if got != http.StatusOK {
			t.Errorf("after one client left: status %d, want 200", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting request was not answered 5 s after a client left")
	}

	// And is refused once it has waited busyWait.
	defer func(w time.Duration) { busyWait = w }(busyWait)
	busyWait = 100 * time.Millisecond
	hold(limit - 1)
	code, h, body := doWith(t, "POST", ts.URL+"/v2/models/tiny/infer", nil, small)
	if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(string(body), "server busy") {
		t.Errorf("with the budget held for longer than busyWait: status %d, Retry-After %q, body %s; want 503, a Retry-After and \"server busy\"", code, h.Get("Retry-After"), body)
	}
}

// waitBudgetFull waits until the bodies in flight hold all of s's budget,
// failing t after 10 s.
func waitBudgetFull(t *testing.T, s *Server) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); s.inFlight.TryAcquire(1); time.Sleep(5 * time.Millisecond) {
		s.inFlight.Release(1)
		if time.Now().After(deadline) {
			t.Fatal("the held bodies were not charged to the budget within 10 s")
		}
	}
}
