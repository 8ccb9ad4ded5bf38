package remote

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
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
		// Metadata, server metadata and every batch on one connection.
		{"kept alive", s, nil, 0, func(int) int64 { return 1 }},
		// The server closes each connection after its answer.
		{"connection close", closeEach, nil, 0, func(calls int) int64 { return int64(2 + 2*calls) }},
		// The server drops idle connections between calls: the client
		// redials without counting a retry.
		{"server idle timeout", s, func(hs *http.Server) { hs.IdleTimeout = 20 * time.Millisecond }, 150 * time.Millisecond,
			func(calls int) int64 { return int64(1 + calls) }},
		{"chunked answers", chunked, nil, 0, func(int) int64 { return 1 }},
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

func TestDirectHeaderLimit(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		bufio.NewReader(c).ReadString('\n')
		w := bufio.NewWriter(c)
		w.WriteString("HTTP/1.1 200 OK\r\n")
		for i := 0; i < 1<<20; i++ { // headers without end
			if _, err := w.WriteString("X-Pad: " + strings.Repeat("y", 64) + "\r\n"); err != nil {
				return
			}
		}
	}()
	d := newDirect("http://"+ln.Addr().String()+"/v2/models/m", Options{})
	defer d.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = d.do(ctx, &request{method: http.MethodGet, uri: "/v2/models/m", maxBody: 1 << 10})
	if !errors.Is(err, errAnswerTooLarge) {
		t.Errorf("do = %v, want errAnswerTooLarge", err)
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
