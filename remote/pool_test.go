package remote

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/blas32"
)

// TestWorkersBound checks that the workers answer every batch in place,
// never run more than n at once even for concurrent calls, and stop on
// close.
func TestWorkersBound(t *testing.T) {
	before := runtime.NumGoroutine()
	var inFlight, most atomic.Int64
	w := newWorkers(3, func(ctx context.Context, x, out blas32.General, start, end int) error {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		for i := start; i < end; i++ {
			out.Data[i] = x.Data[i] * 2
		}
		inFlight.Add(-1)
		return nil
	})
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Go(func() {
			x := blas32.General{Rows: 50, Cols: 1, Stride: 1, Data: make([]float32, 50)}
			out := blas32.General{Rows: 50, Cols: 1, Stride: 1, Data: make([]float32, 50)}
			for i := range x.Data {
				x.Data[i] = float32(i + 100*c)
			}
			if err := w.do(context.Background(), x, out, 7); err != nil {
				t.Error(err)
				return
			}
			for i, v := range out.Data {
				if v != 2*x.Data[i] {
					t.Errorf("call %d row %d: got %v, want %v", c, i, v, 2*x.Data[i])
					return
				}
			}
		})
	}
	wg.Wait()
	if got := most.Load(); got > 3 || got < 2 {
		t.Errorf("at most %d batches ran at once, want 2 or 3 (the bound is 3)", got)
	}
	w.close()
	x := blas32.General{Rows: 1, Cols: 1, Stride: 1, Data: []float32{1}}
	if err := w.do(context.Background(), x, x, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("do after close: error %v, want ErrClosed", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		t.Errorf("%d goroutines after close, %d before: the workers did not stop", got, before)
	}
}

// TestWorkersFirstError checks that the first failing batch is returned
// and that the batches not yet sent are dropped.
func TestWorkersFirstError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int64
	w := newWorkers(2, func(ctx context.Context, x, out blas32.General, start, end int) error {
		calls.Add(1)
		if start == 10 {
			return boom
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		return nil
	})
	defer w.close()
	x := blas32.General{Rows: 1000, Cols: 1, Stride: 1, Data: make([]float32, 1000)}
	if err := w.do(context.Background(), x, x, 10); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the failing batch's", err)
	}
	if n := calls.Load(); n > 10 {
		t.Errorf("%d of 100 batches ran after batch 1 failed, want the rest dropped", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.do(ctx, x, x, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: error %v, want context.Canceled", err)
	}
}
