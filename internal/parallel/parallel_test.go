package parallel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// TestForEach checks that ForEach calls fn once for every index, and that
// once ctx is done it makes no further call and returns ctx's error.
func TestForEach(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 7, 200} {
		calls := make([]atomic.Int32, max(n, 0))
		if err := ForEach(context.Background(), n, func(i int) { calls[i].Add(1) }); err != nil {
			t.Errorf("n %d: got error %v, want nil", n, err)
		}
		for i := range calls {
			if got := calls[i].Load(); got != 1 {
				t.Errorf("n %d: index %d called %d times, want 1", n, i, got)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var made atomic.Int32
	err := ForEach(ctx, 10000, func(i int) {
		if made.Add(1) == 5 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got error %v, want %v", err, context.Canceled)
	}
	if got := made.Load(); got >= 10000 {
		t.Errorf("cancelled after 5 calls: %d calls made, want fewer than 10000", got)
	}
}

// TestForEachNilFn checks that a nil fn panics with the package's prefix.
func TestForEachNilFn(t *testing.T) {
	defer func() {
		if got, want := recover(), "parallel: ForEach with a nil fn"; got != want {
			t.Errorf("got panic %v, want %q", got, want)
		}
	}()
	ForEach(context.Background(), 1, nil)
}
