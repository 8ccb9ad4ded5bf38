package probe

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// MistakeProbes returns the held-out rows of d that the teacher
// misclassifies (its top-1 label differs from the true one): all of them
// when there are at most n, otherwise n drawn without replacement with
// rand.NewPCG(seed, 5), in ascending dataset order. Gen.Settings records
// "available" (how many mistakes exist) and "held_out" (d.Len()). Dataset
// classes are matched to the teacher's labels by name (or by index when
// no name matches and the counts agree). It returns ErrUnlabelled for
// unlabelled data and an error wrapping ErrLabels when the labels cannot
// be matched.
func MistakeProbes(ctx context.Context, teacher model.Model, d *dataset.Dataset, n int, seed uint64) (Batch, error) {
	if d.Y == nil {
		return Batch{}, fmt.Errorf("probe: mistake probes: %w", ErrUnlabelled)
	}
	cmap, err := classMap(teacher.Info().Labels, d.Labels)
	if err != nil {
		return Batch{}, fmt.Errorf("probe: mistake probes: %w", err)
	}
	p, err := teacher.Predict(ctx, d.X)
	if err != nil {
		return Batch{}, fmt.Errorf("probe: mistake probes: teacher: %w", err)
	}
	top := argmaxRows(p)
	var wrong []int
	for i, c := range d.Y {
		if top[i] != cmap[c] {
			wrong = append(wrong, i)
		}
	}
	idx := wrong
	n = max(0, n)
	if len(wrong) > n {
		rng := rand.New(rand.NewPCG(seed, streamMistake))
		perm := rng.Perm(len(wrong))[:n]
		idx = make([]int, n)
		for k, q := range perm {
			idx[k] = wrong[q]
		}
		slices.Sort(idx)
	}
	return Batch{
		X:      gather(d.X, idx),
		Source: idx,
		Gen: Generator{Kind: Mistake, Count: len(idx), Seed: seed, Settings: map[string]float64{
			"available": float64(len(wrong)),
			"held_out":  float64(d.Len()),
		}},
	}, nil
}

// classMap maps every dataset class index to the teacher's output index:
// by name when every dataset label names a teacher label, otherwise by
// index when the counts agree and no label matches by name.
func classMap(teacher, data []string) ([]int, error) {
	pos := make(map[string]int, len(teacher))
	for i, l := range teacher {
		pos[l] = i
	}
	out := make([]int, len(data))
	matched := 0
	for c, l := range data {
		if i, ok := pos[l]; ok {
			out[c] = i
			matched++
		}
	}
	switch {
	case matched == len(data):
		return out, nil
	case matched == 0 && len(data) == len(teacher):
		for c := range out {
			out[c] = c
		}
		return out, nil
	}
	return nil, fmt.Errorf("dataset labels %q vs teacher labels %q: %w", data, teacher, ErrLabels)
}
