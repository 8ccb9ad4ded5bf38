package report

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress is a terminal progress bar (github.com/schollz/progressbar/v3).
// A nil *Progress, and one made with enabled false, does nothing, so callers
// need no checks. Its methods are safe for concurrent use.
type Progress struct {
	bar   *progressbar.ProgressBar
	ended atomic.Bool // End stopped the bar where it stood
}

// NewProgress returns a progress bar writing to w (normally os.Stderr, and
// enabled only when that is a terminal) for total steps; total <= 0 shows a
// spinner with a count instead of a bar. desc is shown before the bar. When
// enabled is false it returns a no-op Progress and never writes to w.
func NewProgress(w io.Writer, total int, desc string, enabled bool) *Progress {
	if !enabled || w == nil {
		return &Progress{}
	}
	if total <= 0 {
		total = -1
	}
	return &Progress{bar: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("it"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { _, _ = io.WriteString(w, "\n") }),
	)}
}

// Add advances the bar by n steps.
func (p *Progress) Add(n int) {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Add(n) // a failed terminal write is not worth stopping work for
}

// Skip takes n steps done before this bar was made (a resumed run's) out
// of its total, so that its count, percentage, rate and time left are
// those of the work still to do.
func (p *Progress) Skip(n int) {
	if p == nil || p.bar == nil || n <= 0 || p.bar.GetMax() < 0 {
		return
	}
	p.bar.ChangeMax(max(p.bar.GetMax()-n, 0))
}

// Describe replaces the text shown before the bar.
func (p *Progress) Describe(desc string) {
	if p == nil || p.bar == nil {
		return
	}
	p.bar.Describe(desc)
}

// Finish fills the bar, ends its line and stops further output; calling it
// again does nothing.
func (p *Progress) Finish() {
	if p == nil || p.bar == nil || p.bar.IsFinished() {
		return
	}
	_ = p.bar.Finish()
}

// End ends the bar for work that returned err: a nil err finishes it
// (Finish), and any other leaves it where it stands and ends its line, so
// that interrupted or failed work does not read as complete (the count
// shown is the steps done). Calling End or Finish again does nothing.
func (p *Progress) End(err error) {
	if err == nil {
		p.Finish()
		return
	}
	if p == nil || p.bar == nil || p.bar.IsFinished() || !p.ended.CompareAndSwap(false, true) {
		return
	}
	_ = p.bar.Exit() // ends the line; a later Finish draws nothing
}

// Steps is a progress bar for work that reports (description, steps done,
// total) as it goes, as audit.EnrollOptions.Progress and
// bench.DetectOptions.Progress do: the bar is made on the first report,
// when the total is known, titled title, and each report shows
// "title: description" and advances the bar to the most steps reported
// done. Reports may come from several goroutines. A nil *Steps, and one
// made with enabled false, draws nothing.
type Steps struct {
	mu      sync.Mutex
	w       io.Writer
	title   string
	enabled bool
	bar     *Progress
	shown   int
}

// NewSteps returns a Steps writing to w (see NewProgress for enabled).
func NewSteps(w io.Writer, title string, enabled bool) *Steps {
	return &Steps{w: w, title: title, enabled: enabled}
}

// Report records that done of total steps are done, the last being desc.
func (s *Steps) Report(desc string, done, total int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bar == nil {
		s.bar = NewProgress(s.w, total, s.title, s.enabled)
	}
	s.bar.Describe(s.title + ": " + desc)
	if done > s.shown {
		s.bar.Add(done - s.shown)
		s.shown = done
	}
}

// Finish finishes the bar, if one was made.
func (s *Steps) Finish() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bar.Finish()
}

// End ends the bar, if one was made, as Progress.End does: full when err
// is nil, else where it stands.
func (s *Steps) End(err error) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bar.End(err)
}
