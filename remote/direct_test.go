package remote

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/serve"
)

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// serveCounting serves h on a counting listener (wrapped by wrap, when
// non-nil, to change the server's settings).
func serveCounting(t *testing.T, h http.Handler, wrap func(*http.Server)) (*httptest.Server, *countingListener) {
	t.Helper()
	ts := httptest.NewUnstartedServer(h)
	ln := &countingListener{Listener: ts.Listener}
	ts.Listener = ln
	if wrap != nil {
		wrap(ts.Config)
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, ln
}

func TestDirectConnections(t *testing.T) {
	m := testMLP()
	s, err := serve.New(m, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := randomBatch(9, 6, 2)
	want, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	closeEach := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		s.ServeHTTP(w, r)
	})
	chunked := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		b := rec.Body.Bytes()
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush() // no Content-Length: the rest goes chunked
		w.Write(b[len(b)/2:])
	})
	tests := []struct {
		name      string
		h         http.Handler
		wrap      func(*http.Server)
		pause     time.Duration // between Predict calls
		wantConns func(calls int) int64
	}{
		// Metadata, server metadata and the first batch on one
		// connection, closed after that batch (the client does not yet
		// know that the server echoes ids); every later batch on a
		// second one.
		{"kept alive", s, nil, 0, func(int) int64 { return 2 }},
		// The server closes each connection after its answer.
		{"connection close", closeEach, nil, 0, func(calls int) int64 { return int64(2 + 2*calls) }},
		// The server drops idle connections between calls: the client
		// redials without counting a retry.
		{"server idle timeout", s, func(hs *http.Server) { hs.IdleTimeout = 20 * time.Millisecond }, 150 * time.Millisecond,
			func(calls int) int64 { return int64(2 + calls) }},
		{"chunked answers", chunked, nil, 0, func(int) int64 { return 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, ln := serveCounting(t, tt.h, tt.wrap)
			rm, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/tiny", Options{Concurrency: 1, BatchSize: 5, MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer rm.Close()
			if rm.direct == nil {
				t.Fatal("no direct client for a plain-http endpoint")
			}
			const calls = 3
			for range calls {
				time.Sleep(tt.pause)
				got, err := rm.Predict(context.Background(), x)
				if err != nil {
					t.Fatal(err)
				}
				assertSame(t, got, want)
			}
			if got, want := ln.n.Load(), tt.wantConns(calls); got != want {
				t.Errorf("server accepted %d connections, want %d", got, want)
			}
			if st := rm.Stats(); st.Retries != 0 || st.Failures != 0 {
				t.Errorf("stats %+v, want no retries or failures", st)
			}
		})
	}
}

func TestDirectCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ts, _ := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), nil)
	d := newDirect(ts.URL+"/v2/models/m", Options{})
	if d == nil {
		t.Fatal("newDirect = nil for a plain-http URL")
	}
	defer d.close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := d.do(ctx, &request{method: http.MethodPost, uri: "/v2/models/m/infer", body: []byte("{}"), maxBody: 1 << 10})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("do = %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancelled request returned after %v", el)
	}
}

// rawServer serves hand-written answers: handle runs on each connection
// it accepts, numbered from 0, and the connection is closed after it.
func rawServer(t *testing.T, handle func(i int, c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				handle(i, c, bufio.NewReader(c))
			})
		}
	})
	return "http://" + ln.Addr().String()
}

// readRequest reads one request and its body off br.
func readRequest(br *bufio.Reader) error {
	req, err := http.ReadRequest(br)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, req.Body)
	return err
}

func TestDirectAnswers(t *testing.T) {
	const maxBody = 64 << 20    // the default: the header cap must not borrow from it
	pad := func(n int) string { // n bytes of header lines
		return strings.Repeat("X-Pad: "+strings.Repeat("y", 55)+"\r\n", n/64)
	}
	tests := []struct {
		name     string
		answer   string
		wantCode int    // 0 when do fails
		wantBody string // read to its end
		wantErr  error  // of do, or of reading the body
	}{
		{"plain", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", nil},
		{"100 Continue first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", nil},
		{"100 and 103 first", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, "ok", nil},
		{"101 is final", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n", 101, "", nil},
		{"headers within the cap", "HTTP/1.1 200 OK\r\n" + pad(900<<10) + "Content-Length: 2\r\n\r\nok", 200, "ok", nil},
		{"headers over the cap", "HTTP/1.1 200 OK\r\n" + pad(2<<20) + "Content-Length: 2\r\n\r\nok", 0, "", errAnswerTooLarge},
		{"interim answers over the cap", strings.Repeat("HTTP/1.1 100 Continue\r\n"+pad(64<<10)+"\r\n", 20) +
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, "", errAnswerTooLarge},
		// Bare interim answers: the cap cuts one in the middle of its
		// status line ("malformed HTTP response "H"", retried).
		{"endless 100 Continue", strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", (1<<20)/25+10), 0, "", errAnswerTooLarge},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\no\r\n1\r\nk\r\n0\r\n\r\n", 200, "ok", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := rawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
				if readRequest(br) == nil {
					io.WriteString(c, tt.answer)
					io.Copy(io.Discard, br) // until the client hangs up
				}
			})
			d := newDirect(url+"/v2/models/m", Options{})
			defer d.close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := d.do(ctx, &request{method: http.MethodGet, uri: "/v2/models/m", maxBody: maxBody})
			if err == nil {
				defer resp.Body.Close()
				var body []byte
				body, err = io.ReadAll(resp.Body)
				if resp.StatusCode != tt.wantCode || (err == nil && string(body) != tt.wantBody) {
					t.Errorf("answer %d %q, want %d %q", resp.StatusCode, body, tt.wantCode, tt.wantBody)
				}
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestDirectEarlyAnswer: a server that answers 413 before reading a body
// over its limit and closes the connection fails the write; the client
// reads the answer anyway, and does not reuse the connection.
func TestDirectEarlyAnswer(t *testing.T) {
	ts, ln := serveCounting(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > 1<<20 {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			io.WriteString(w, `{"error":"too large"}`)
			return
		}
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}), nil)
	d := newDirect(ts.URL+"/v2/models/m", Options{})
	defer d.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct {
		size     int // of the request body
		wantCode int
		wantBody string
	}{
		{32 << 20, http.StatusRequestEntityTooLarge, `{"error":"too large"}`}, // far more than the socket buffers hold
		{10, http.StatusOK, "ok"},
	} {
		resp, err := d.do(ctx, &request{method: http.MethodPost, uri: "/v2/models/m/infer", body: make([]byte, tt.size), maxBody: 1 << 10})
		if err != nil {
			t.Fatalf("%d-byte body: %v, want an answer", tt.size, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantCode || string(body) != tt.wantBody || err != nil {
			t.Errorf("%d-byte body: answer %d %q, %v; want %d %q", tt.size, resp.StatusCode, body, err, tt.wantCode, tt.wantBody)
		}
	}
	if got := ln.n.Load(); got != 2 {
		t.Errorf("server accepted %d connections, want 2 (none reused after the early answer)", got)
	}
}

// TestDirectIdleUnread: an idle connection with something to read — bytes
// past the last answer's Content-Length, or the server's end of stream —
// is not reused: the next request goes out on a new connection.
func TestDirectIdleUnread(t *testing.T) {
	const answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
	tests := []struct {
		name  string
		after func(c net.Conn) // what the first connection does after its answer
	}{
		{"stray bytes", func(c net.Conn) { io.WriteString(c, "HTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n") }},
		{"closed", func(c net.Conn) { c.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := make(chan struct{})     // the client has read the first answer
			after := make(chan struct{}, 1) // the server has done tt.after
			var conns atomic.Int64
			url := rawServer(t, func(i int, c net.Conn, br *bufio.Reader) {
				conns.Add(1)
				for readRequest(br) == nil {
					io.WriteString(c, answer)
					if i == 0 {
						<-read
						tt.after(c)
						after <- struct{}{}
						io.Copy(io.Discard, br) // and answer nothing more
						return
					}
				}
			})
			d := newDirect(url+"/v2/models/m", Options{})
			defer d.close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for k := range 2 {
				resp, err := d.do(ctx, &request{method: http.MethodGet, uri: "/v2/models/m", maxBody: 1 << 10})
				if err != nil {
					t.Fatalf("request %d: %v", k, err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(body) != "ok" || err != nil {
					t.Fatalf("request %d: answer %d %q, %v; want 200 \"ok\"", k, resp.StatusCode, body, err)
				}
				if k == 0 {
					close(read)
					<-after
				}
			}
			if got := conns.Load(); got != 2 {
				t.Errorf("server accepted %d connections, want 2", got)
			}
		})
	}
}

func TestNewDirect(t *testing.T) {
	tests := []struct {
		base     string
		opts     Options
		wantAddr string // "" for no direct client
	}{
		{"http://127.0.0.1:8080/v2/models/m", Options{}, "127.0.0.1:8080"},
		{"http://127.0.0.1/v2/models/m", Options{}, "127.0.0.1:80"},
		{"http://[::1]:9/v2/models/m", Options{}, "[::1]:9"},
		{"https://127.0.0.1:8443/v2/models/m", Options{}, ""},
		{"http://127.0.0.1:8080/v2/models/m", Options{Client: &http.Client{}}, ""},
	}
	for _, tt := range tests {
		d := newDirect(tt.base, tt.opts)
		got := ""
		if d != nil {
			got = d.addr
		}
		if got != tt.wantAddr {
			t.Errorf("newDirect(%q).addr = %q, want %q", tt.base, got, tt.wantAddr)
		}
	}
	if validHeaderValue("Bearer a\r\nX-Evil: 1") || !validHeaderValue("Bearer tk-0123\t") {
		t.Error("validHeaderValue accepts a CR LF or refuses a tab")
	}
}
