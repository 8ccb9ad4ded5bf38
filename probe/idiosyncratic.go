package probe

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// IdiosyncrasyScores returns, for every candidate probe, how far the
// teacher departs from the consensus of the independent models neg:
//
//	score_i = max_c mean_{q∈neg} [top1(q_i) = c] − mean_{q∈neg} [top1(q_i) = top1(t_i)]
//
// the share of independent models behind their most popular label minus
// the share behind the teacher's. A high score marks a probe on which the
// teacher's answer is its own while independently trained models agree on
// another one (on pure noise they agree on nothing, so noise scores low).
// A model derived from the teacher inherits such answers; an independent
// one follows the consensus. It returns ErrNoControls without negatives and an error
// wrapping ErrShape when the matrices disagree in shape.
func IdiosyncrasyScores(teacher blas32.General, neg []blas32.General) ([]float64, error) {
	if len(neg) == 0 {
		return nil, fmt.Errorf("probe: idiosyncrasy needs independent models: %w", ErrNoControls)
	}
	for i, q := range neg {
		if q.Rows != teacher.Rows || q.Cols != teacher.Cols {
			return nil, fmt.Errorf("probe: negative %d is %d×%d, teacher %d×%d: %w", i, q.Rows, q.Cols, teacher.Rows, teacher.Cols, ErrShape)
		}
	}
	score := make([]float64, teacher.Rows)
	votes := make([]int, teacher.Cols)
	for i := range score {
		clear(votes)
		for _, q := range neg {
			votes[argmaxRow(q, i)]++
		}
		score[i] = float64(slices.Max(votes)-votes[argmaxRow(teacher, i)]) / float64(len(neg))
	}
	return score, nil
}

func argmaxRow(m blas32.General, i int) int {
	return model.Argmax(m.Data[i*m.Stride : i*m.Stride+m.Cols])
}

// SelectIdiosyncratic keeps the n candidates with the highest idiosyncrasy
// scores (see IdiosyncrasyScores), after first reserving quota[k] probes of
// each kind k it names (the highest-scoring ones of that kind). Ties are
// broken by the mean agreement of the positives pos (derived models, may
// be nil) with the teacher, higher first, then by candidate index. It
// returns the new suite (Hash recomputed, generators recounted and marked
// Selected) and the chosen candidate indices in suite order.
func SelectIdiosyncratic(cand *Suite, teacher blas32.General, pos, neg []blas32.General, n int, quota map[Kind]int) (*Suite, []int, error) {
	if teacher.Rows != cand.Len() {
		return nil, nil, fmt.Errorf("probe: teacher outputs have %d rows, suite %d probes: %w", teacher.Rows, cand.Len(), ErrShape)
	}
	share, err := IdiosyncrasyScores(teacher, neg)
	if err != nil {
		return nil, nil, err
	}
	follow := make([]float64, len(share))
	for _, q := range pos {
		if q.Rows != teacher.Rows || q.Cols != teacher.Cols {
			return nil, nil, fmt.Errorf("probe: positive is %d×%d, teacher %d×%d: %w", q.Rows, q.Cols, teacher.Rows, teacher.Cols, ErrShape)
		}
		for i := range follow {
			if argmaxRow(q, i) == argmaxRow(teacher, i) {
				follow[i]++
			}
		}
	}
	order := make([]int, len(share))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(share[b], share[a]); c != 0 {
			return c
		}
		if c := cmp.Compare(follow[b], follow[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	n = min(n, len(order))
	taken := make([]bool, len(order))
	var idx []int
	for _, k := range kindOrder {
		q := quota[k]
		for _, i := range order {
			if q <= 0 || len(idx) >= n {
				break
			}
			if cand.Kinds[i] == k && !taken[i] {
				taken[i] = true
				idx = append(idx, i)
				q--
			}
		}
	}
	for _, i := range order {
		if len(idx) >= n {
			break
		}
		if !taken[i] {
			taken[i] = true
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	s := Subset(cand, idx)
	for i := range s.Generators {
		s.Generators[i].Selected = true
	}
	return s, idx, nil
}
