package fingerprint

import (
	"fmt"
	"slices"
)

// Compact returns a copy of fp that keeps only the k largest entries of
// every row (ties go to the lowest index) and spreads the rest of each row's
// mass evenly over the other entries, with TopK set to k and Hash
// recomputed. When k <= 0 or k >= the number of labels the copy is
// unchanged apart from the hash; compacting an already compacted
// fingerprint to a larger k keeps its smaller TopK.
func (fp *Fingerprint) Compact(k int) *Fingerprint {
	c := fp.Clone()
	if k <= 0 || k >= c.P.Cols {
		c.Hash = c.ComputeHash()
		return c
	}
	if fp.TopK > 0 && fp.TopK <= k {
		c.Hash = c.ComputeHash()
		return c
	}
	idx := make([]int, c.P.Cols)
	for i := 0; i < c.P.Rows; i++ {
		compactRow(c.Row(i), k, idx)
	}
	c.TopK = k
	c.Hash = c.ComputeHash()
	return c
}

// compactRow keeps the k largest entries of row in place and sets every
// other entry to their mean (capped at the smallest kept value). idx is
// scratch of len(row).
func compactRow(row []float32, k int, idx []int) {
	topIndices(row, k, idx)
	rest := idx[k:]
	var tail float64
	for _, j := range rest {
		tail += float64(row[j])
	}
	fill := float32(tail / float64(len(rest)))
	if minKept := row[idx[k-1]]; fill > minKept {
		fill = minKept
	}
	for _, j := range rest {
		row[j] = fill
	}
}

// topIndices fills idx (len(row)) with the row's indices ordered by value
// descending, ties by index ascending; the first k are the kept ones.
func topIndices(row []float32, k int, idx []int) {
	for j := range idx {
		idx[j] = j
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case row[a] > row[b]:
			return -1
		case row[a] < row[b]:
			return 1
		}
		return 0
	})
	if k > len(idx) {
		panic(fmt.Sprintf("fingerprint: top %d of %d entries", k, len(idx)))
	}
}
