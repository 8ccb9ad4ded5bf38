package parallel_test

import (
	"context"
	"fmt"

	"github.com/lineage-audit/lineage/internal/parallel"
)

// Each unit writes its own slot; the sum is taken afterwards, in order.
func ExampleForEach() {
	squares := make([]int, 5)
	if err := parallel.ForEach(context.Background(), len(squares), func(i int) { squares[i] = i * i }); err != nil {
		fmt.Println(err)
	}
	sum := 0
	for _, s := range squares {
		sum += s
	}
	fmt.Println(squares, sum)
	// Output: [0 1 4 9 16] 30
}
