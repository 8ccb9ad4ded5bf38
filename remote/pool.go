package remote

import (
	"context"
	"sync"

	"gonum.org/v1/gonum/blas/blas32"
)

// workers runs the batches of an HTTPModel's Predict calls on n
// goroutines, started on first use and kept until close. Long-lived
// workers keep the stacks they grew inside the HTTP client, where a
// goroutine per batch or per call would grow a new one each time, and
// they bound the requests in flight to the model across all its Predict
// calls. The zero value is not usable; see newWorkers.
type workers struct {
	n    int
	run  func(ctx context.Context, x, out blas32.General, start, end int) error
	jobs chan batchJob
	quit chan struct{}

	startOnce, quitOnce sync.Once
}

// batchJob is one batch: rows [start, end) of x, answered into out.
type batchJob struct {
	ctx        context.Context
	x, out     blas32.General
	start, end int
	done       chan<- error
}

func newWorkers(n int, run func(ctx context.Context, x, out blas32.General, start, end int) error) *workers {
	return &workers{n: n, run: run, jobs: make(chan batchJob), quit: make(chan struct{})}
}

func (w *workers) loop() {
	for {
		select {
		case j := <-w.jobs:
			err := j.ctx.Err()
			if err == nil {
				err = w.run(j.ctx, j.x, j.out, j.start, j.end)
			}
			j.done <- err
		case <-w.quit:
			return
		}
	}
}

// do answers x into out in batches of bs rows, in order, and returns the
// first error; after it the batches not yet sent are dropped and those in
// flight are cancelled. It returns ErrClosed once close has been called.
func (w *workers) do(ctx context.Context, x, out blas32.General, bs int) error {
	w.startOnce.Do(func() {
		for range w.n {
			go w.loop()
		}
	})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := (x.Rows + bs - 1) / bs
	done := make(chan error, batches)
	var first error
	fail := func(err error) {
		if err != nil && first == nil {
			first = err
			cancel()
		}
	}
	sent, received := 0, 0
	for b := 0; b < batches && first == nil; {
		j := batchJob{ctx: ctx, x: x, out: out, start: b * bs, end: min((b+1)*bs, x.Rows), done: done}
		select {
		case w.jobs <- j:
			sent++
			b++
		case err := <-done:
			received++
			fail(err)
		case <-ctx.Done():
			fail(ctx.Err())
		case <-w.quit:
			fail(ErrClosed)
		}
	}
	for ; received < sent; received++ {
		fail(<-done)
	}
	return first
}

// close stops the workers once the batches they hold are done.
func (w *workers) close() { w.quitOnce.Do(func() { close(w.quit) }) }
