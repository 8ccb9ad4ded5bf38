package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestProgressDisabled(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 10, "probing", false)
	p.Add(3)
	p.Describe("x")
	p.Finish()
	if buf.Len() != 0 {
		t.Errorf("disabled progress wrote %q", buf.String())
	}
	var nilP *Progress
	nilP.Add(1) // must not panic
	nilP.Describe("x")
	nilP.Finish()
}

func TestProgressEnabled(t *testing.T) {
	tests := []struct {
		total int
		want  string
	}{
		{10, "10/10"},
		{0, "probing"}, // spinner
	}
	for _, tt := range tests {
		var mu sync.Mutex
		var buf bytes.Buffer
		w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
		p := NewProgress(w, tt.total, "probing", true)
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() { p.Add(2) })
		}
		wg.Wait()
		p.Finish()
		p.Finish() // idempotent
		mu.Lock()
		out := buf.String()
		mu.Unlock()
		if !strings.Contains(out, tt.want) || !strings.HasSuffix(out, "\n") {
			t.Errorf("total %d: output %q lacks %q or the final newline", tt.total, out, tt.want)
		}
		if strings.Count(out, "\n") != 1 {
			t.Errorf("total %d: %d newlines in %q, want 1", tt.total, strings.Count(out, "\n"), out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
