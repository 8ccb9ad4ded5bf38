// Package parallel spreads independent units of work over the cores
// without changing what their caller computes: each unit keeps its
// results in its own slot, and the caller reads the slots back in order.
package parallel

import (
	"context"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// ForEach calls fn(i) for every i in [0, n), on up to GOMAXPROCS
// goroutines at once, and returns ctx's error when ctx is done before
// every call was made (the calls not yet made are skipped), else nil; a
// nil fn is a programmer error and n ≤ 0 makes no call. fn keeps its
// results and errors by i, so that what the caller makes of them, in order
// of i, is what a loop calling fn(0), fn(1), … would give: the work of
// each i must write its own slot only and read shared state only, and must
// draw from no random source another i draws from.
func ForEach(ctx context.Context, n int, fn func(i int)) error {
	if fn == nil {
		panic("parallel: ForEach with a nil fn")
	}
	var g errgroup.Group
	g.SetLimit(max(1, runtime.GOMAXPROCS(0)))
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if ctx.Err() == nil {
				fn(i)
			}
			return nil
		})
	}
	g.Wait()
	return ctx.Err()
}
