package store

import (
	"context"
	"io"
)

// contextReader is a Reader whose Read returns ctx's error once ctx is
// done, even while the underlying Read is blocked (on a pipe or terminal
// that delivers nothing): an import from standard input stops on Ctrl-C.
// The abandoned Read finishes into a buffer of its own.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.ctx.Done() == nil {
		return c.r.Read(p)
	}
	type result struct {
		n   int
		err error
	}
	buf := make([]byte, len(p))
	done := make(chan result, 1)
	go func() {
		n, err := c.r.Read(buf)
		done <- result{n, err}
	}()
	select {
	case res := <-done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}
