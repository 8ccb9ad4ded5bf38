package distill

import (
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// probFloor is the smallest probability used inside a logarithm or a
// division; smaller (including zero) probabilities are floored to it there.
const probFloor = 1e-30

// logitFloor is the probability floor used when a teacher's probabilities
// are turned into logits for MSE: log(max(p, 1e-10)) ≥ −23.03.
const logitFloor = 1e-10

// Objective is a fully specified per-row training loss on the student's
// logits z (C classes). With a teacher row p (what the teacher revealed)
// and an optional dataset label y (y < 0: none), the value is
//
//	a·soft(p, z) + (1−a)·CE(y, z),  a = Alpha when y ≥ 0, a = 1 when y < 0
//
// where CE(y, z) = −log softmax(z)_y. Without a teacher row (hard-label
// training) the value is CE(y, z).
//
// The soft term depends on Loss and Reveal:
//   - Reveal label, or Loss CE: CE on the teacher's argmax (ties to the lowest
//     index), at T = 1 and without a T² factor.
//   - Loss MSE: (1/C)Σ(z_i − t_i)² with teacher logits t_i = log max(p_i, 1e-10)
//     centred per row (Σt = 0), because a model.Model only gives
//     probabilities; the student's logits are used raw and the temperature is
//     not applied. With top-k reveal p is the revealed row (tail spread).
//   - KL, ReverseKL, JSD, TV: T²·D(P‖Q) with Q = softmax(z/T) and
//     P ∝ p^(1/T) (the teacher at temperature T, as model.WithTemperature).
//     With top-k reveal both are first reduced to K+1 buckets: the teacher's
//     K largest entries (ties to the lowest index) and one tail bucket holding
//     the sum of the rest, so the student is compared only on what is known.
//
// Temperature zero means 1. The zero Objective is KL at T = 1 with Alpha 0,
// i.e. labelled rows are trained on their label only.
type Objective struct {
	Loss        Loss
	Temperature float64
	Alpha       float64
	Reveal      model.Reveal
}

// Workspace holds scratch space for the loss kernels so that steady-state
// calls do not allocate. The zero Workspace is ready to use; a Workspace
// must not be used by two goroutines at once.
type Workspace struct {
	q, p, g, pb, qb, gb []float64
	bucket, idx         []int
}

func growF(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func growI(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func (o Objective) temperature() float64 {
	if o.Temperature == 0 {
		return 1
	}
	return o.Temperature
}

// Row writes to dst the gradient of the row loss with respect to the
// student logits and returns the loss value; see Objective for the formula.
// teacher is the teacher's revealed probability row, or nil for hard-label
// training (then label must be ≥ 0). ws may be nil (scratch is then
// allocated). It panics if lengths differ or a label is out of range.
func (o Objective) Row(dst, logits, teacher []float32, label int, ws *Workspace) float64 {
	c := len(logits)
	if len(dst) != c || (teacher != nil && len(teacher) != c) {
		panic(fmt.Sprintf("distill: Objective.Row: lengths dst %d, logits %d, teacher %d", len(dst), c, len(teacher)))
	}
	if label >= c || (teacher == nil && label < 0) {
		panic(fmt.Sprintf("distill: Objective.Row: label %d out of range [0,%d)", label, c))
	}
	if ws == nil {
		ws = new(Workspace)
	}
	for i := range dst {
		dst[i] = 0
	}
	if teacher == nil {
		return crossEntropy(dst, logits, label, 1, ws)
	}
	a := 1.0
	if label >= 0 {
		a = o.Alpha
	}
	var v float64
	if a > 0 {
		v += o.soft(dst, logits, teacher, a, ws)
	}
	if label >= 0 && a < 1 {
		v += crossEntropy(dst, logits, label, 1-a, ws)
	}
	return v
}

// Batch applies Row to every row and returns the mean loss; dst receives
// the gradient of that mean (each row's gradient divided by the row count).
// teacher may have Data nil for hard-label training; labels may be nil
// (no dataset labels) and otherwise holds one label per row, < 0 for none.
func (o Objective) Batch(dst, logits, teacher blas32.General, labels []int, ws *Workspace) float64 {
	n := logits.Rows
	if dst.Rows != n || dst.Cols != logits.Cols || (teacher.Data != nil && (teacher.Rows != n || teacher.Cols != logits.Cols)) {
		panic("distill: Objective.Batch: shape mismatch")
	}
	if labels != nil && len(labels) != n {
		panic(fmt.Sprintf("distill: Objective.Batch: %d labels for %d rows", len(labels), n))
	}
	if ws == nil {
		ws = new(Workspace)
	}
	c := logits.Cols
	var sum float64
	inv := float32(1 / float64(n))
	for r := 0; r < n; r++ {
		d := dst.Data[r*dst.Stride : r*dst.Stride+c]
		var t []float32
		if teacher.Data != nil {
			t = teacher.Data[r*teacher.Stride : r*teacher.Stride+c]
		}
		y := -1
		if labels != nil {
			y = labels[r]
		}
		sum += o.Row(d, logits.Data[r*logits.Stride:r*logits.Stride+c], t, y, ws)
		for i := range d {
			d[i] *= inv
		}
	}
	return sum / float64(n)
}

// crossEntropy adds w·∂CE/∂z to dst and returns w·CE(y, z) at T = 1.
func crossEntropy(dst, logits []float32, y int, w float64, ws *Workspace) float64 {
	ws.q = growF(ws.q, len(logits))
	lse := softmax64(ws.q, logits, 1)
	for i, qi := range ws.q {
		g := qi
		if i == y {
			g--
		}
		dst[i] += float32(w * g)
	}
	return w * (lse - float64(logits[y]))
}

// softmax64 writes softmax(z/T) to q in float64 and returns logsumexp(z/T),
// so that log q_i = z_i/T − logsumexp(z/T).
func softmax64(q []float64, z []float32, T float64) float64 {
	m := math.Inf(-1)
	for _, v := range z {
		if float64(v) > m {
			m = float64(v)
		}
	}
	var s float64
	for i, v := range z {
		e := math.Exp((float64(v) - m) / T)
		q[i] = e
		s += e
	}
	for i := range q {
		q[i] /= s
	}
	return m/T + math.Log(s)
}

// temper writes P ∝ p^(1/T) to dst in float64 (zeros stay zero).
func temper(dst []float64, p []float32, T float64) {
	pm := 0.0
	for _, v := range p {
		if float64(v) > pm {
			pm = float64(v)
		}
	}
	var s float64
	for i, v := range p {
		if v > 0 && pm > 0 {
			dst[i] = math.Exp((math.Log(float64(v)) - math.Log(pm)) / T)
		} else {
			dst[i] = 0
		}
		s += dst[i]
	}
	if s == 0 { // an all-zero row: treat as uniform
		for i := range dst {
			dst[i] = 1 / float64(len(dst))
		}
		return
	}
	for i := range dst {
		dst[i] /= s
	}
}

// soft adds a·∂soft/∂z to dst and returns a·soft.
func (o Objective) soft(dst, logits, teacher []float32, a float64, ws *Workspace) float64 {
	kind := o.Loss.kind()
	if o.Reveal.Mode == model.RevealLabel || kind == CE {
		return crossEntropy(dst, logits, model.Argmax(teacher), a, ws)
	}
	if kind == MSE {
		return mseLogits(dst, logits, teacher, a)
	}
	c := len(logits)
	T := o.temperature()
	ws.q, ws.p, ws.g = growF(ws.q, c), growF(ws.p, c), growF(ws.g, c)
	lse := softmax64(ws.q, logits, T)
	temper(ws.p, teacher, T)
	if kind == KL {
		return o.klSoft(dst, logits, teacher, lse, T, a, ws)
	}
	beta := o.Loss.beta()
	var v float64
	if o.Reveal.Mode == model.RevealTopK && o.Reveal.K < c {
		k := o.Reveal.K
		ws.bucket = topKBuckets(growI(ws.bucket, c), growI(ws.idx, c), teacher, k)
		ws.pb, ws.qb, ws.gb = growF(ws.pb, k+1), growF(ws.qb, k+1), growF(ws.gb, k+1)
		for b := range ws.pb {
			ws.pb[b], ws.qb[b] = 0, 0
		}
		for i, b := range ws.bucket {
			ws.pb[b] += ws.p[i]
			ws.qb[b] += ws.q[i]
		}
		v = divergence(kind, beta, ws.gb, ws.pb, ws.qb)
		for i, b := range ws.bucket {
			ws.g[i] = ws.gb[b]
		}
	} else {
		v = divergence(kind, beta, ws.g, ws.p, ws.q)
	}
	// Chain through Q = softmax(z/T): ∂/∂z_i = (1/T)·q_i·(g_i − Σ_j q_j g_j).
	var s float64
	for i, qi := range ws.q {
		s += qi * ws.g[i]
	}
	scale := a * T // a·T²·(1/T)
	for i, qi := range ws.q {
		dst[i] += float32(scale * qi * (ws.g[i] - s))
	}
	return a * T * T * v
}

// klSoft adds a·∂(T²·KL)/∂z to dst and returns a·T²·KL(P‖Q), in log space:
// with buckets b (single classes, or the top-k classes and the tail),
// P_b the teacher's tempered mass, L_b = logsumexp_{i∈b} z_i/T and
// lse = logsumexp_i z_i/T (so log Q_b = L_b − lse),
//
//	KL = Σ_b P_b·(log P_b − (L_b − lse)),
//	∂(T²·KL)/∂z_i = T·(q_i − P_b·exp(z_i/T − L_b))   for i in bucket b,
//
// which is Hinton's T·(q − p) for single-class buckets. Going through
// ∂KL/∂Q = −P/Q instead would need Q clamped away from 0, and a class whose
// student probability underflows would lose its gradient exactly when
// the student is most wrong about it.
func (o Objective) klSoft(dst, logits, teacher []float32, lse, T, a float64, ws *Workspace) float64 {
	c := len(logits)
	nb := c
	ws.bucket = growI(ws.bucket, c)
	if o.Reveal.Mode == model.RevealTopK && o.Reveal.K < c {
		nb = o.Reveal.K + 1
		ws.bucket = topKBuckets(ws.bucket, growI(ws.idx, c), teacher, o.Reveal.K)
	} else {
		for i := range ws.bucket {
			ws.bucket[i] = i
		}
	}
	// pb: the teacher's mass per bucket; gb: the bucket's max of z/T,
	// then its logsumexp; qb: the sum of exp(z/T − max) per bucket.
	ws.pb, ws.qb, ws.gb = growF(ws.pb, nb), growF(ws.qb, nb), growF(ws.gb, nb)
	for b := range nb {
		ws.pb[b], ws.qb[b], ws.gb[b] = 0, 0, math.Inf(-1)
	}
	for i, b := range ws.bucket {
		ws.pb[b] += ws.p[i]
		ws.gb[b] = math.Max(ws.gb[b], float64(logits[i])/T)
	}
	for i, b := range ws.bucket {
		ws.qb[b] += math.Exp(float64(logits[i])/T - ws.gb[b])
	}
	var v float64
	for b := range nb {
		ws.gb[b] += math.Log(ws.qb[b])
		if ws.pb[b] > 0 {
			v += ws.pb[b] * (math.Log(ws.pb[b]) - (ws.gb[b] - lse))
		}
	}
	for i, b := range ws.bucket {
		share := math.Exp(float64(logits[i])/T - ws.gb[b]) // q_i / Q_b
		dst[i] += float32(a * T * (ws.q[i] - ws.pb[b]*share))
	}
	return a * T * T * v
}

// topKBuckets sets bucket[i] to the rank (0..k−1) of entry i among the k
// largest entries of p (ties to the lowest index), or k for the tail.
func topKBuckets(bucket, idx []int, p []float32, k int) []int {
	for i := range idx {
		idx[i] = i
	}
	// Partial selection sort: k is small.
	for r := 0; r < k; r++ {
		best := r
		for j := r + 1; j < len(idx); j++ {
			if p[idx[j]] > p[idx[best]] || (p[idx[j]] == p[idx[best]] && idx[j] < idx[best]) {
				best = j
			}
		}
		idx[r], idx[best] = idx[best], idx[r]
	}
	for i := range bucket {
		bucket[i] = k
	}
	for r := 0; r < k; r++ {
		bucket[idx[r]] = r
	}
	return bucket
}

// mseLogits adds a·∂MSE/∂z to dst and returns a·MSE, MSE = (1/C)Σ(z−t)² with
// t the centred log-probabilities of p.
func mseLogits(dst, logits, p []float32, a float64) float64 {
	c := float64(len(logits))
	var mean float64
	for _, v := range p {
		mean += math.Log(math.Max(float64(v), logitFloor))
	}
	mean /= c
	var s float64
	for i, v := range p {
		t := math.Log(math.Max(float64(v), logitFloor)) - mean
		d := float64(logits[i]) - t
		s += d * d
		dst[i] += float32(a * 2 * d / c)
	}
	return a * s / c
}

// logMOverP returns log(M/P) for M = βP + (1−β)Q and P > 0, through log1p
// for precision when M is near P. A subnormal P (a teacher tempered at a
// low temperature) would overflow the ratio (Q−P)/P to +Inf, and P·log(M/P)
// would become +Inf where it tends to 0: the logarithms are then taken apart.
func logMOverP(b, p, q float64) float64 {
	r := (1 - b) * (q - p) / p
	if math.IsInf(r, 1) {
		return math.Log(b*p+(1-b)*q) - math.Log(p)
	}
	return math.Log1p(r)
}

// divergence returns D(P‖Q) and writes g = ∂D/∂Q (Q treated as free
// coordinates; the softmax chain removes any constant shift of g).
func divergence(kind LossKind, beta float64, g, p, q []float64) float64 {
	var v float64
	switch kind {
	case KL:
		for i, pi := range p {
			qi := math.Max(q[i], probFloor)
			g[i] = -pi / qi
			if pi > 0 {
				v += pi * (math.Log(pi) - math.Log(qi))
			}
		}
	case ReverseKL:
		for i, qi := range q {
			pi := math.Max(p[i], probFloor)
			lq := math.Log(math.Max(qi, probFloor))
			g[i] = lq - math.Log(pi) + 1
			if qi > 0 {
				v += qi * (lq - math.Log(pi))
			}
		}
	case JSD:
		// With M = βP + (1−β)Q:
		//   ∂/∂Q_j [β KL(P‖M) + (1−β) KL(Q‖M)] = (1−β)·log(Q_j/M_j) + (1−β)
		// so g_j = log(Q_j/M_j)/β up to a constant. log(M/Q) and log(M/P)
		// are computed with log1p so that β near 0 or 1 keeps its precision.
		b := beta
		var kpm, kqm float64
		for i, pi := range p {
			qi := math.Max(q[i], probFloor)
			lmq := math.Log1p(b * (pi - qi) / qi) // log(M/Q)
			g[i] = -lmq / b
			if q[i] > 0 {
				kqm -= q[i] * lmq
			}
			if pi > 0 {
				kpm -= pi * logMOverP(b, pi, q[i]) // Σ P log(P/M)
			}
		}
		v = (b*kpm + (1-b)*kqm) / (b * (1 - b))
	case TV:
		for i, pi := range p {
			d := q[i] - pi
			v += math.Abs(d)
			switch {
			case d > 0:
				g[i] = 0.5
			case d < 0:
				g[i] = -0.5
			default:
				g[i] = 0
			}
		}
		v /= 2
	default:
		panic(fmt.Sprintf("distill: divergence: unexpected loss kind %q", kind))
	}
	return v
}
