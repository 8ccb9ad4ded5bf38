package remote

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
	"time"
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
