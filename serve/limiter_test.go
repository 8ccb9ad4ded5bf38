package serve

import (
	"math"
	"testing"
	"time"
)

// TestLimiterTinyRate checks that a rate so small that its wait overflows
// a Duration waits the longest Duration, not none.
func TestLimiterTinyRate(t *testing.T) {
	for _, qps := range []float64{1e-10, 1e-300} {
		l := NewLimiter(qps, 1)
		if ok, _ := l.Allow(); !ok {
			t.Fatalf("qps %g: the full bucket's first token refused", qps)
		}
		ok, wait := l.Allow()
		if ok || wait != math.MaxInt64 {
			t.Errorf("qps %g: second Allow = %v, %v; want false, %v", qps, ok, wait, time.Duration(math.MaxInt64))
		}
	}
	if got := seconds(1.5); got != 1500*time.Millisecond {
		t.Errorf("seconds(1.5) = %v, want 1.5s", got)
	}
}
