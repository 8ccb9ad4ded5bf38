package audit

import (
	"context"

	"github.com/lineage-audit/lineage/internal/parallel"
)

// forEach calls fn(i) for every i in [0, n), on up to GOMAXPROCS
// goroutines at once (parallel.ForEach), and returns ctx's error when ctx
// is done before every call was made, else nil. fn keeps its results and
// errors by i, so that what the caller makes of them, in order of i, is
// what a loop calling fn(0), fn(1), … would give: the work of each i must
// read shared state only. The case's per-control work (features, leans,
// whiteners) is the whole of an audit's first seconds against an
// enrolment, and of db verify's recomputation.
func forEach(ctx context.Context, n int, fn func(i int)) error {
	return parallel.ForEach(ctx, n, fn)
}
