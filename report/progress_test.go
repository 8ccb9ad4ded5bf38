package report

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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

// TestProgressEnd checks End and Skip: End(nil) fills the bar, End of an
// error leaves it at the steps done and ends its line, once, and a
// Finish after it draws nothing; Skip takes steps out of the total.
func TestProgressEnd(t *testing.T) {
	tests := []struct {
		name      string
		skip, add int
		err       error
		want      string // the last count shown
	}{
		{"done", 0, 3, nil, "10/10"},
		{"failed", 0, 3, errors.New("interrupted"), "3/10"},
		{"resumed, done", 4, 2, nil, "6/6"},
		{"resumed, failed", 4, 2, errors.New("interrupted"), "2/6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := NewProgress(&buf, 10, "training", true)
			p.Skip(tt.skip)
			for range tt.add {
				p.Add(1)
				time.Sleep(110 * time.Millisecond) // past the bar's throttle, so that every step is drawn
			}
			p.End(tt.err)
			p.End(tt.err)
			p.Finish()
			out := buf.String()
			counts := regexp.MustCompile(`\((\d+/\d+)`).FindAllStringSubmatch(out, -1)
			if len(counts) == 0 || counts[len(counts)-1][1] != tt.want {
				t.Errorf("output %q, want it to end at %s", out, tt.want)
			}
			if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
				t.Errorf("output %q, want one line break, at the end", out)
			}
		})
	}
	var nilP *Progress
	nilP.End(errors.New("x")) // must not panic
	nilP.Skip(1)
	var none *Steps
	none.End(nil)
}
