package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
)

func TestJoinedBody(t *testing.T) {
	tests := []struct {
		name string
		a, b string
	}{
		{"both", `{"id":"1"}`, "0123456789abcdef"},
		{"empty tail", `{"id":"1"}`, ""},
		{"empty head", "", "rows"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := []byte(tt.a + tt.b)
			if err := iotest.TestReader(&joinedBody{[]byte(tt.a), []byte(tt.b)}, want); err != nil {
				t.Fatal(err)
			}
			// One Read with room for everything returns everything: the
			// point of joinedBody (io.MultiReader stops at the boundary).
			if len(want) > 0 {
				p := make([]byte, 64)
				n, err := (&joinedBody{[]byte(tt.a), []byte(tt.b)}).Read(p)
				if err != nil || !bytes.Equal(p[:n], want) {
					t.Errorf("one Read = %q, %v; want %q, nil", p[:n], err, want)
				}
			}
			got, err := io.ReadAll(iotest.OneByteReader(&joinedBody{[]byte(tt.a), []byte(tt.b)}))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("byte by byte = %q, %v; want %q", got, err, want)
			}
		})
	}
}

func TestBodyBuffer(t *testing.T) {
	b := bodyBuffer(100)
	if len(b) != 100 {
		t.Fatalf("len(bodyBuffer(100)) = %d, want 100", len(b))
	}
	recycle(b)
	for _, n := range []int{10, 1000, 0} {
		if got := len(bodyBuffer(n)); got != n {
			t.Errorf("len(bodyBuffer(%d)) = %d, want %d", n, got, n)
		}
	}
	recycle(nil) // no panic on a nil buffer
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name                string
		backoff, maxBackoff time.Duration
	}{
		{"defaults", DefaultBackoff, DefaultMaxBackoff},
		{"minute base", time.Minute, time.Hour}, // Backoff<<29 overflowed
		{"base above ceiling", time.Hour, time.Minute},
		{"no ceiling", time.Second, math.MaxInt64},
		{"nanosecond base", 1, math.MaxInt64},
		{"largest base", math.MaxInt64, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &HTTPModel{opts: Options{Backoff: tt.backoff, MaxBackoff: tt.maxBackoff}.withDefaults(), rng: rand.New(rand.NewPCG(1, 1))}
			for attempt := range 100 {
				ceil := tt.maxBackoff
				if attempt < 63 && tt.backoff <= ceil>>attempt {
					ceil = tt.backoff << attempt
				}
				if got := c.backoff(attempt); got < 0 || got > ceil {
					t.Fatalf("backoff(%d) = %v, want within [0, %v]", attempt, got, ceil)
				}
			}
		})
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("é", 150) // 300 bytes
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "boom", 200, "boom"},
		{"trailing newline", "boom\n", 200, "boom"},
		{"html page", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n</html>\r\n", 200,
			"<html> <head><title>502 Bad Gateway</title></head> <body> </html>"},
		{"controls and tabs", "\x00a\t\tb\x1b[31mc\x7f", 200, "a b [31mc"},
		{"unicode line separator", "a\u2028b", 200, "a b"},
		{"only space", " \r\n\t", 200, ""},
		{"cut", "abcdefghij", 4, "abcd…"},
		{"cut at a gap", "abcd efgh", 5, "abcd…"},
		{"cut at a rune boundary", long, 201, strings.Repeat("é", 100) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := oneLine(tt.in, tt.max); got != tt.want {
				t.Errorf("oneLine(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// TestStatusErrorOneLine: a server's error body, whatever its form, is
// quoted on the error's one line, redacted, and cut to maxMessage bytes.
func TestStatusErrorOneLine(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    string // the quoted message
	}{
		{"html page", "text/html",
			"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
			"<html> <head><title>502 Bad Gateway</title></head> <body> <center><h1>502 Bad Gateway</h1></center> </body> </html>"},
		{"http.Error text", "text/plain", "boom\n", "boom"},
		{"json with newlines", "application/json", `{"error":"line one\nline two\n"}`, "line one line two"},
		{"long", "text/plain", strings.Repeat("ab ", 100), strings.TrimSpace(strings.Repeat("ab ", 67)) + "…"},
		{"key across the cut", "text/plain", strings.Repeat("a", 195) + " " + testKey, strings.Repeat("a", 195) + " [RED…"},
	}
	for _, via := range []string{"direct", "net/http"} {
		for _, tt := range tests {
			t.Run(via+"/"+tt.name, func(t *testing.T) {
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", tt.contentType)
					w.WriteHeader(http.StatusBadGateway)
					io.WriteString(w, tt.body)
				}))
				defer ts.Close()
				o := fastOpts()
				o.MaxRetries, o.APIKey = -1, testKey
				if via == "net/http" {
					o.Client = &http.Client{}
				}
				_, err := OpenHTTP(context.Background(), ts.URL+"/v2/models/x", o)
				if err == nil {
					t.Fatal("OpenHTTP succeeded, want an error")
				}
				want := "remote " + ts.URL + "/v2/models/x: HTTP 502 Bad Gateway: " + tt.want
				if got := err.Error(); got != want {
					t.Errorf("error\n%q\nwant\n%q", got, want)
				}
			})
		}
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	echo := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":"bad auth %s"}`, r.Header.Get("Authorization"))
		}
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer slow.Close()
	cases := map[string]string{"dead": deadURL, "slow": slow.URL}
	for _, status := range []int{400, 401, 500} {
		ts := httptest.NewServer(echo(status))
		defer ts.Close()
		cases[fmt.Sprint(status)] = ts.URL
	}
	for name, base := range cases {
		var logBuf bytes.Buffer
		opts := fastOpts()
		opts.APIKey, opts.MaxRetries, opts.Timeout = testKey, 1, 100*time.Millisecond
		opts.Log = slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		_, err := Open(context.Background(), base+"/v2/models/m?api_key="+testKey, opts)
		if err == nil {
			t.Errorf("%s: Open succeeded, want an error", name)
			continue
		}
		if strings.Contains(err.Error(), testKey) || strings.Contains(logBuf.String(), testKey) {
			t.Errorf("%s: key leaked:\nerror %v\nlog %s", name, err, logBuf.String())
		}
	}
}

func TestUnauthorizedNotRetried(t *testing.T) {
	ts := serveMLP(t, testMLP(), serve.Options{APIKey: testKey})
	_, err := Open(context.Background(), ts.URL+"/v2/models/tiny", fastOpts())
	var re *Error
	if !errors.As(err, &re) || re.Status != 401 || re.Attempts != 1 {
		t.Fatalf("error %v, want a 401 *Error after 1 attempt", err)
	}
}

// retryAfterServer serves m, answering its first refusals inference
// requests (every one when refusals < 0) with 429 and Retry-After
// retryAfter instead; posts returns the times of the inference requests.
func retryAfterServer(t *testing.T, m *model.MLP, retryAfter string, refusals int) (url string, posts func() []time.Time) {
	t.Helper()
	s, err := serve.New(m, serve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var at []time.Time
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mu.Lock()
			at = append(at, time.Now())
			refuse := refusals < 0 || len(at) <= refusals
			mu.Unlock()
			if refuse {
				w.Header().Set("Retry-After", retryAfter)
				w.WriteHeader(429)
				w.Write([]byte(`{"error":"slow down"}`))
				return
			}
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, func() []time.Time {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(at)
	}
}

func TestRetryAfter(t *testing.T) {
	m := testMLP()
	url, postTimes := retryAfterServer(t, m, "1", 1)
	rm, err := Open(context.Background(), url+"/v2/models/tiny", fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	x := randomBatch(2, 6, 5)
	want, _ := m.Predict(context.Background(), x)
	got, err := rm.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	assertSame(t, got, want)
	if posts := postTimes(); len(posts) != 2 || posts[1].Sub(posts[0]) < 900*time.Millisecond {
		t.Errorf("%d posts, gap %v; want 2 posts at least ~1 s apart", len(posts), posts[len(posts)-1].Sub(posts[0]))
	}
}

// TestRetryAfterTooLong checks that a Retry-After beyond MaxRetryAfter
// fails at once, saying so, instead of waiting the cap again and again in
// silence (a server asking for a day made a probe wait 6 minutes), and
// that one beyond what a Duration holds is no exception (it overflowed to
// a negative wait, taken for none: retries at full speed).
func TestRetryAfterTooLong(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{"86400", "asks to retry after 24h0m0s, longer than the"},
		{"10000000000", "asks to retry after 2562047h47m16s, longer than the"},
		{"99999999999999999999999", "asks to retry after 2562047h47m16s, longer than the"},
	} {
		url, posts := retryAfterServer(t, testMLP(), tt.header, -1)
		rm, err := Open(context.Background(), url+"/v2/models/tiny", fastOpts())
		if err != nil {
			t.Fatal(err)
		}
		_, err = rm.Predict(context.Background(), randomBatch(2, 6, 5))
		rm.Close()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Retry-After %s: Predict error %v, want one containing %q", tt.header, err, tt.want)
		}
		if n := len(posts()); n != 1 {
			t.Errorf("Retry-After %s: %d requests, want 1: no retry after a Retry-After beyond the cap", tt.header, n)
		}
	}
}
