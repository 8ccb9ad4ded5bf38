package serve

// This file holds how the server reads request bodies: the in-flight budget
// they are charged to, and the pace a claimed body must keep.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/sync/semaphore"
)

// errBusy is a request body refused because the bodies in flight use the
// server's budget (bodyBudget) for longer than busyWait.
var errBusy = errors.New("server busy: too many request bytes in flight, retry later")

// busyWait bounds how long a request waits for room in the budget before
// it is refused (503 with Retry-After): a request without a length holds
// what it has read while it waits, so two could otherwise wait for each
// other for ever.
var busyWait = 5 * time.Second

// meterChunk is the most a meteredBody reads, and charges, at a time (less
// when the whole budget is smaller).
const meterChunk = 64 << 10

// meteredBody charges the server's budget for a request body: the whole
// announced length (Content-Length) when its first bytes arrive, or each
// chunk as it is read when no length was announced; release hands the
// bytes back once the request is answered. A connection that announces a
// body and sends nothing holds nothing; a request with a length never
// waits for room while holding any, so requests cannot wait for each
// other. A read that finds no room for busyWait fails with errBusy. Once a
// body holds its whole announced length it is paced (see bodyGrace) when
// setDeadline is set.
type meteredBody struct {
	r         io.Reader
	sem       *semaphore.Weighted
	announced int64 // Content-Length, at most the budget; -1 for none
	chunk     int64
	held      int64

	// setDeadline sets the connection's read deadline; nil means no pacing.
	setDeadline func(time.Time) error
	// window is the time, after bodyGrace, the announced body may take to
	// arrive; limit, when not zero, is the latest deadline (the server's
	// own for the whole request).
	window  time.Duration
	limit   time.Time
	claimed time.Time // when the announced length was charged
	read    int64     // bytes read since then
}

// bodyGrace and minBodyRate pace a body that holds its whole announced
// length of the server's budget: the read fails (and the request gets 400)
// unless the body keeps up with a schedule that delivers it evenly over
// the server's read timeout, or at minBodyRate bytes a second when there is
// none, with bodyGrace of slack. A client that sent a body's first bytes
// and stalled held up to a quarter of the budget until the read timeout (a
// minute); now for bodyGrace, and a client that holds a share for the whole
// read timeout has to send the body as fast as any client the server can
// answer in time.
var (
	bodyGrace   = 10 * time.Second
	minBodyRate = 64 << 10
)

func (b *meteredBody) Read(p []byte) (int, error) {
	if b.announced >= 0 && b.held > 0 {
		n, err := b.r.Read(p) // claimed in full
		b.pace(n)
		return n, err
	}
	// Charged once read: a connection waiting for bytes that do not come
	// must hold nothing. What is read before it is charged is at most a
	// chunk per request.
	n, err := b.r.Read(p[:min(int64(len(p)), b.chunk)])
	if n == 0 {
		return n, err
	}
	want := int64(n)
	if b.announced >= 0 {
		want = max(b.announced, want)
	}
	if !b.sem.TryAcquire(want) {
		ctx, cancel := context.WithTimeout(context.Background(), busyWait)
		aerr := b.sem.Acquire(ctx, want)
		cancel()
		if aerr != nil {
			return 0, errBusy
		}
	}
	b.held += want
	if b.announced >= 0 {
		b.claimed = time.Now()
		b.pace(n)
	}
	return n, err
}

// pace counts n more bytes of a claimed body and moves the connection's
// read deadline to when the bytes read so far were due, plus bodyGrace.
func (b *meteredBody) pace(n int) {
	b.read += int64(n)
	if b.setDeadline == nil || b.announced <= 0 {
		return
	}
	due := time.Duration(float64(b.window) * min(1, float64(b.read)/float64(b.announced)))
	d := b.claimed.Add(bodyGrace + due)
	if !b.limit.IsZero() && d.After(b.limit) {
		d = b.limit
	}
	b.setDeadline(d)
}

// unpace puts back the deadline the connection had before pacing (limit,
// or none), once the body has been read: a paced deadline passing while
// the request is answered would cancel its context. A body that failed
// keeps the paced one: the server's clean-up reads what is left of it
// before answering, and would wait for the old deadline.
func (b *meteredBody) unpace() {
	if b.setDeadline != nil && !b.claimed.IsZero() {
		b.setDeadline(b.limit)
	}
}

func (b *meteredBody) release() {
	b.sem.Release(b.held)
	b.held = 0
}

// bodyBudget is how many bodies of the largest size Options.MaxBodyBytes
// allows the server reads and answers at once; smaller bodies share the
// budget by size (a 64-row batch is about 40 KB of JSON). Each byte of
// body costs a few more while it is parsed, so the default 32 MB limit
// bounds the requests in flight to well under a gigabyte.
const bodyBudget = 4

// preallocLimit bounds the buffer readBody allocates on a client's word
// (its Content-Length) before any data arrives, so that idle connections
// announcing huge bodies cannot make the server hold much memory.
const preallocLimit = 4 << 20

// readBody reads r's body up to limit bytes, in one allocation when the
// client announced a length of at most preallocLimit (io.ReadAll would
// grow its buffer a dozen times for a 16 KB batch).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n >= 0 && n <= limit && n <= preallocLimit {
		buf := make([]byte, n, n+1)
		if _, err := io.ReadFull(body, buf); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("body shorter than its Content-Length %d: %w", n, err)
			}
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(body)
}
