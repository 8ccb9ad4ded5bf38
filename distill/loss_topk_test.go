package distill

import (
	"math"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/model"
)

// refTopKLoss is T²·D(P‖Q) over top-k buckets computed the slow way, in
// float64, from Objective's documentation: P ∝ p^(1/T), Q = softmax(z/T),
// the k largest entries of p (ties to the lowest index) one bucket each
// and the rest one tail bucket.
func refTopKLoss(loss Loss, T float64, k int, p, z []float32) float64 {
	c := len(p)
	P, Q := make([]float64, c), make([]float64, c)
	var sp, sq float64
	for i := range p {
		P[i] = math.Pow(float64(p[i]), 1/T)
		Q[i] = math.Exp(float64(z[i]) / T)
		sp += P[i]
		sq += Q[i]
	}
	order := make([]int, c)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case p[a] > p[b]:
			return -1
		case p[a] < p[b]:
			return 1
		}
		return 0 // stable: the lower index first
	})
	pb, qb := make([]float64, k+1), make([]float64, k+1)
	for r, i := range order {
		b := min(r, k)
		pb[b] += P[i] / sp
		qb[b] += Q[i] / sq
	}
	kl := func(a, b []float64) float64 {
		var s float64
		for i := range a {
			if a[i] > 0 {
				s += a[i] * math.Log(a[i]/b[i])
			}
		}
		return s
	}
	var d float64
	switch loss.kind() {
	case KL:
		d = kl(pb, qb)
	case ReverseKL:
		d = kl(qb, pb)
	case JSD:
		beta := loss.beta()
		m := make([]float64, k+1)
		for i := range m {
			m[i] = beta*pb[i] + (1-beta)*qb[i]
		}
		d = (beta*kl(pb, m) + (1-beta)*kl(qb, m)) / (beta * (1 - beta))
	case TV:
		for i := range pb {
			d += math.Abs(pb[i]-qb[i]) / 2
		}
	}
	return T * T * d
}

// TestTopKLossValue checks the value of each divergence under top-k reveal
// against refTopKLoss, on teacher rows that make the bucketing matter: the
// k-th largest entry sits where the selection's first swap leaves a
// smaller one, entries tie across the bucket boundary (the lower index
// gets the bucket), and the tail holds several unequal entries whose mass
// the tail bucket must sum. The gradient tests cannot see these: a wrong
// bucketing is still a consistent loss with a consistent gradient.
func TestTopKLossValue(t *testing.T) {
	teachers := [][]float32{
		{0.05, 0.1, 0.4, 0.3, 0.15},             // 2nd largest (0.3) behind the first swap
		{0.1, 0.25, 0.05, 0.25, 0.25, 0.1},      // three-way tie across the boundary of topk:2
		{0.3, 0.02, 0.3, 0.08, 0.1, 0.05, 0.15}, // tie inside the top 2, unequal tail
	}
	z := []float32{0.3, -1.2, 0.8, 0.1, -0.4, 1.1, -0.7}
	for _, ls := range []string{"kl", "rkl", "jsd:0.5", "jsd:0.2", "tv"} {
		loss, err := ParseLoss(ls)
		if err != nil {
			t.Fatal(err)
		}
		for _, T := range []float64{1, 2.5} {
			for ti, p := range teachers {
				for _, k := range []int{2, 3} {
					o := Objective{Loss: loss, Temperature: T, Reveal: model.Reveal{Mode: model.RevealTopK, K: k}}
					zz := z[:len(p)]
					got := o.Row(make([]float32, len(p)), zz, p, -1, nil)
					want := refTopKLoss(loss, T, k, p, zz)
					if math.Abs(got-want) > 1e-9+1e-6*math.Abs(want) {
						t.Errorf("%s T=%g topk:%d teacher %d: loss %.10g, want %.10g", ls, T, k, ti, got, want)
					}
				}
			}
		}
	}
}

// TestMSECentredTargets checks that the mse loss compares the student's
// logits with the teacher's log-probabilities centred per row: it is zero
// for logits equal to the centred targets, and for zero logits it is the
// mean square of those targets.
func TestMSECentredTargets(t *testing.T) {
	p := []float32{0.6, 0.25, 0.1, 0.05}
	c := len(p)
	var mean float64
	for _, v := range p {
		mean += math.Log(float64(v))
	}
	mean /= float64(c)
	target := make([]float32, c)
	var sq float64
	for i, v := range p {
		tv := math.Log(float64(v)) - mean
		target[i] = float32(tv)
		sq += tv * tv
	}
	o := Objective{Loss: Loss{Kind: MSE}}
	tests := []struct {
		name   string
		logits []float32
		want   float64
	}{
		{"logits at the centred targets", target, 0},
		{"zero logits", make([]float32, c), sq / float64(c)},
	}
	for _, tt := range tests {
		if got := o.Row(make([]float32, c), tt.logits, p, -1, nil); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("%s: mse = %.9g, want %.9g", tt.name, got, tt.want)
		}
	}
}
