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

// TestSteps reports out of order from several goroutines: the bar is made
// on the first report, ends at the total, and shows "title: description".
func TestSteps(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	s := NewSteps(w, "enrol acme", true)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { s.Report("control", 8-i, 8) })
	}
	wg.Wait()
	s.Report("suite", 8, 8)
	s.Finish()
	mu.Lock()
	defer mu.Unlock()
	if got := buf.String(); !strings.Contains(got, "8/8") || !strings.Contains(got, "enrol acme: ") {
		t.Errorf("output %q, want the bar at 8/8 titled %q", got, "enrol acme: ")
	}
	var none *Steps
	none.Report("x", 1, 2) // must not panic
	none.Finish()
}
