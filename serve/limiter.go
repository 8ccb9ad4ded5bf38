package serve

import (
	"context"
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket: it holds up to Burst tokens, refilled at QPS
// tokens per second, and each request takes one. A nil *Limiter allows
// everything. It is safe for concurrent use.
type Limiter struct {
	mu     sync.Mutex
	qps    float64
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

// NewLimiter returns a full bucket refilled at qps tokens per second
// holding at most burst tokens (burst <= 0 means max(1, ceil(qps))). It
// returns nil, an unlimited Limiter, when qps <= 0.
func NewLimiter(qps float64, burst int) *Limiter {
	if qps <= 0 || math.IsNaN(qps) {
		return nil
	}
	b := float64(burst)
	if burst <= 0 {
		b = math.Max(1, math.Ceil(qps))
	}
	return &Limiter{qps: qps, burst: b, tokens: b, now: time.Now}
}

// refill adds the tokens earned since the last call; l.mu must be held.
func (l *Limiter) refill() time.Time {
	t := l.now()
	if !l.last.IsZero() {
		l.tokens = math.Min(l.burst, l.tokens+t.Sub(l.last).Seconds()*l.qps)
	}
	l.last = t
	return t
}

// Allow takes a token if one is available. Otherwise it reports false and
// how long until the next token.
func (l *Limiter) Allow() (ok bool, wait time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refill()
	if l.tokens >= 1 {
		l.tokens--
		return true, 0
	}
	return false, seconds((1 - l.tokens) / l.qps)
}

// Wait blocks until a token is available and takes it, or returns ctx's
// error when ctx is done first.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	l.refill()
	l.tokens-- // reserve: may go negative, later callers queue behind us
	wait := time.Duration(0)
	if l.tokens < 0 {
		wait = seconds(-l.tokens / l.qps)
	}
	l.mu.Unlock()
	if wait == 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		l.tokens++ // give the reservation back
		l.mu.Unlock()
		return ctx.Err()
	}
}

// seconds converts s seconds to a Duration, saturating at the longest one
// (a tiny rate's wait would overflow to a negative Duration, no wait).
func seconds(s float64) time.Duration {
	if ns := s * float64(time.Second); ns < float64(math.MaxInt64) {
		return time.Duration(ns)
	}
	return math.MaxInt64
}
