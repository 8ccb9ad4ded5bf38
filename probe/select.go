package probe

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas/blas32"
)

// SelectOptions configures Select and Scores. The zero value means the
// defaults: soft weight 0.25 and a minimum share of 10 % per kind.
type SelectOptions struct {
	// SoftWeight weighs the soft Jensen–Shannon term of the score (see
	// Scores); zero means 0.25 and a negative value disables the term.
	SoftWeight float64
	// MinShare reserves at least floor(MinShare·n) of the selected probes
	// for every kind present in the pool (fewer when the pool has fewer
	// of that kind); zero means 0.1 and a negative value reserves nothing.
	MinShare float64
	// Quota, when non-nil, reserves exactly Quota[k] probes (at most the
	// pool's count) for each kind it names, overriding MinShare for those
	// kinds.
	Quota map[Kind]int
}

func (o SelectOptions) softWeight() float64 {
	switch {
	case o.SoftWeight < 0:
		return 0
	case o.SoftWeight == 0:
		return 0.25
	}
	return o.SoftWeight
}

// Scores returns the conferrability score of every candidate probe from
// the outputs (one probability row per candidate) of the teacher, of the
// positive controls pos (models derived from the teacher) and of the
// negative controls neg (independent models):
//
//	score_i = mean_{q∈pos} [top1(q_i) = top1(t_i)] − mean_{q∈neg} [top1(q_i) = top1(t_i)]
//	        + w · ( mean_{q∈neg} JS(t_i, q_i) − mean_{q∈pos} JS(t_i, q_i) ) / ln 2
//
// with JS the Jensen–Shannon divergence in nats (so the soft term lies in
// [−w, w]) and w = opts.SoftWeight. High scores mark probes on which
// students agree with the teacher and independent models do not. It
// returns ErrNoControls without a positive or a negative control, and an
// error wrapping ErrShape when the matrices disagree in shape.
func Scores(teacher blas32.General, pos, neg []blas32.General, opts SelectOptions) ([]float64, error) {
	if len(pos) == 0 || len(neg) == 0 {
		return nil, fmt.Errorf("probe: %d positive and %d negative controls: %w", len(pos), len(neg), ErrNoControls)
	}
	for i, c := range append(append([]blas32.General{}, pos...), neg...) {
		if c.Rows != teacher.Rows || c.Cols != teacher.Cols {
			return nil, fmt.Errorf("probe: control %d outputs are %d×%d, teacher's %d×%d: %w", i, c.Rows, c.Cols, teacher.Rows, teacher.Cols, ErrShape)
		}
	}
	w := opts.softWeight()
	top := argmaxRows(teacher)
	score := make([]float64, teacher.Rows)
	term := func(ctl []blas32.General) (agree, js []float64) {
		agree, js = make([]float64, teacher.Rows), make([]float64, teacher.Rows)
		for _, c := range ctl {
			for i := range agree {
				q := row(c, i)
				if c1, _, _ := top2(q); c1 == top[i] {
					agree[i]++
				}
				if w > 0 {
					js[i] += jsDivergence(row(teacher, i), q)
				}
			}
		}
		for i := range agree {
			agree[i] /= float64(len(ctl))
			js[i] /= float64(len(ctl)) * math.Ln2
		}
		return agree, js
	}
	pa, pj := term(pos)
	na, nj := term(neg)
	for i := range score {
		score[i] = pa[i] - na[i] + w*(nj[i]-pj[i])
	}
	return score, nil
}

// jsDivergence returns JS(p‖q) = ½KL(p‖m) + ½KL(q‖m), m = (p+q)/2, in nats,
// accumulated in float64; zero entries contribute nothing.
func jsDivergence(p, q []float32) float64 {
	var s float64
	for j := range p {
		a, b := float64(p[j]), float64(q[j])
		m := (a + b) / 2
		if a > 0 {
			s += a * math.Log(a/m)
		}
		if b > 0 {
			s += b * math.Log(b/m)
		}
	}
	return max(0, s/2)
}

// Select keeps the n candidates of cand that best separate the teacher's
// derived models from independent ones (see Scores), following
// "Conferrable adversarial examples" (Lukas et al., ICLR 2021) in spirit:
// teacher, pos and neg hold each model's outputs on every candidate.
//
// Selection first fills the per-kind reservations (opts.Quota, or
// floor(MinShare·n) per kind present, in the order data, noise, boundary,
// adversarial, mistake, while room remains) with each kind's best-scoring
// candidates, then fills the rest with the best remaining candidates of any
// kind. Ties in score go to the lower candidate index, so the result is
// deterministic. The returned suite keeps the selected probes in candidate
// order, marks every generator Selected and recounts it; idx holds the
// chosen candidate indices (ascending), for slicing control outputs. n ≥
// cand.Len() keeps every candidate.
func Select(cand *Suite, teacher blas32.General, pos, neg []blas32.General, n int, opts SelectOptions) (s *Suite, idx []int, err error) {
	if len(cand.Kinds) != cand.Len() {
		return nil, nil, fmt.Errorf("probe: candidate suite has %d kinds for %d probes: %w", len(cand.Kinds), cand.Len(), ErrShape)
	}
	if teacher.Rows != cand.Len() {
		return nil, nil, fmt.Errorf("probe: teacher outputs have %d rows for %d candidates: %w", teacher.Rows, cand.Len(), ErrShape)
	}
	score, err := Scores(teacher, pos, neg, opts)
	if err != nil {
		return nil, nil, err
	}
	n = max(0, min(n, cand.Len()))
	order := make([]int, len(score))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(score[b], score[a]) })

	avail := cand.Counts()
	taken := make([]bool, len(score))
	room := n
	for _, k := range kindOrder {
		want := 0
		if q, ok := opts.Quota[k]; ok {
			want = q
		} else if opts.MinShare >= 0 {
			share := opts.MinShare
			if share == 0 {
				share = 0.1
			}
			want = int(share * float64(n))
		}
		want = max(0, min(want, avail[k], room))
		for _, i := range order {
			if want == 0 {
				break
			}
			if cand.Kinds[i] == k {
				taken[i] = true
				want--
				room--
			}
		}
	}
	for _, i := range order {
		if room == 0 {
			break
		}
		if !taken[i] {
			taken[i] = true
			room--
		}
	}
	for i, t := range taken {
		if t {
			idx = append(idx, i)
		}
	}
	s = Subset(cand, idx)
	for i := range s.Generators {
		s.Generators[i].Selected = true
	}
	return s, idx, nil
}
