package distill

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// loop runs the remaining epochs.
func (r *run) loop(ctx context.Context) error {
	p := r.p
	n, d := r.x.Rows, r.x.Cols
	c := len(r.student.Labels)
	steps := p.stepsPerEpoch(n)
	sched := p.sched
	sched.Total = p.epochs * steps
	theta := r.student.Theta
	grad := make([]float32, len(theta))
	perm := make([]int, n)
	bx := make([]float32, p.batch*d)
	dl := make([]float32, p.batch*c)
	var bt []float32
	if r.tgt.Data != nil {
		bt = make([]float32, p.batch*c)
	}
	var bl []int
	if r.labels != nil {
		bl = make([]int, p.batch)
	}
	var tape model.Tape
	var ws Workspace

	for epoch := r.st.Epoch; epoch < p.epochs && !r.st.Done; epoch++ {
		r.st.EpochRNG, _ = r.pcg.MarshalBinary()
		for i := range perm {
			perm[i] = i
		}
		r.rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var lr float64
		for b := r.st.Batch; b < steps; b++ {
			if err := ctx.Err(); err != nil {
				r.st.Batch = b
				ie := &InterruptedError{Epoch: epoch + 1, Err: err}
				if cerr := r.checkpoint(); cerr != nil {
					ie.Err = fmt.Errorf("%w; saving checkpoint failed: %w", err, cerr)
				} else {
					ie.Checkpoint = p.cfg.CheckpointPath
				}
				return ie
			}
			idx := perm[b*p.batch : min((b+1)*p.batch, n)]
			m := len(idx)
			for k, i := range idx {
				copy(bx[k*d:(k+1)*d], r.x.Data[i*r.x.Stride:i*r.x.Stride+d])
				if bt != nil {
					copy(bt[k*c:(k+1)*c], r.tgt.Data[i*r.tgt.Stride:i*r.tgt.Stride+c])
				}
				if bl != nil {
					bl[k] = r.labels[i]
				}
			}
			xb := blas32.General{Rows: m, Cols: d, Stride: d, Data: bx[:m*d]}
			db := blas32.General{Rows: m, Cols: c, Stride: c, Data: dl[:m*c]}
			tb := blas32.General{Rows: m, Cols: c, Stride: c}
			if bt != nil {
				tb.Data = bt[:m*c]
			}
			var lb []int
			if bl != nil {
				lb = bl[:m]
			}
			logits := r.student.Forward(&tape, xb)
			loss := p.obj.Batch(db, logits, tb, lb, &ws)
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("epoch %d step %d: loss %g: %w", epoch+1, r.opt.Steps()+1, loss, ErrDiverged)
			}
			clear(grad)
			r.student.Backward(&tape, db, grad, blas32.General{})
			ClipGlobalNorm(grad, p.cfg.ClipNorm)
			lr = sched.LR(int(r.opt.Steps()))
			r.opt.Step(theta, grad, lr)
			r.st.EpochLoss += loss * float64(m)
			r.st.EpochRows += m
			if p.cfg.stepHook != nil {
				p.cfg.stepHook(r.opt.Steps())
			}
		}
		// The loss test above sees weights made non-finite by a step only
		// at the next step; the epoch's last step would reach the
		// validation, the checkpoint and the saved model.
		if i := slices.IndexFunc(theta, notFinite); i >= 0 {
			return fmt.Errorf("epoch %d step %d: parameter %d is %g: %w", epoch+1, r.opt.Steps(), i, theta[i], ErrDiverged)
		}
		stats := EpochStats{
			Epoch: epoch + 1, Epochs: p.epochs, TrainLoss: r.st.EpochLoss / float64(max(r.st.EpochRows, 1)),
			LR: lr, Steps: r.opt.Steps(), EpochSteps: steps,
		}
		if v := p.cfg.Val; v == nil || v.Y == nil || v.Len() == 0 {
			// Without validation rows nothing runs the model between
			// the epoch's last step and the checkpoint or the result:
			// finite weights whose outputs overflow were saved, and
			// refused by every later use. The training rows stand in for
			// them, before a checkpoint and after the last epoch (an
			// epoch's next step finds an overflow in its loss): one
			// forward pass over them per run, not per epoch, when
			// nothing is checkpointed (enrolment's controls).
			if epoch+1 == p.epochs || p.cfg.CheckpointPath != "" {
				if i, v := overflowRow(r.student, &tape, r.x); i >= 0 {
					return fmt.Errorf("epoch %d step %d: logit %g on training row %d, the model's outputs overflow: %w", epoch+1, r.opt.Steps(), v, i, ErrDiverged)
				}
			}
		} else {
			stats.ValAccuracy, stats.ValLoss = evalLogits(r.student, &tape, v.X, v.Y)
			if math.IsNaN(stats.ValLoss) || math.IsInf(stats.ValLoss, 0) {
				// Finite weights whose outputs overflow: +Inf logits
				// (NaN), or -Inf for a row's label (+Inf).
				return fmt.Errorf("epoch %d step %d: validation loss %g, the model's outputs overflow: %w", epoch+1, r.opt.Steps(), stats.ValLoss, ErrDiverged)
			}
			if stats.ValAccuracy > r.st.BestVal || r.st.BestEpoch == 0 {
				r.st.BestVal, r.st.BestEpoch, r.st.SinceBest = stats.ValAccuracy, epoch+1, 0
				if p.cfg.RestoreBest {
					r.best = append(r.best[:0], theta...)
				}
			} else {
				r.st.SinceBest++
				if p.cfg.Patience > 0 && r.st.SinceBest >= p.cfg.Patience {
					r.st.Done = true
				}
			}
		}
		stats.Elapsed = r.elapsedNow()
		r.st.History = append(r.st.History, stats)
		r.st.Epoch, r.st.Batch, r.st.EpochLoss, r.st.EpochRows = epoch+1, 0, 0, 0
		r.st.EpochRNG, _ = r.pcg.MarshalBinary()
		if err := r.checkpoint(); err != nil {
			return err
		}
		if p.cfg.Progress != nil {
			p.cfg.Progress(stats)
		}
	}
	return nil
}

// notFinite reports whether v is NaN or infinite.
func notFinite(v float32) bool {
	return math.IsNaN(float64(v)) || math.IsInf(float64(v), 0)
}

// overflowRow returns the first row of x on which a logit of m is not
// finite, and that logit, or -1. Such a row's output is NaN, the outputs
// model.MLP.Predict refuses (model.ErrNotFinite), or ±Inf logits that
// softmax turns into a one-hot answer: which of the two depends on the
// order of the sums (an OpenBLAS kernel with fused multiply-adds gave
// ±Inf where gonum's gave NaN), so both are an overflow.
func overflowRow(m *model.MLP, t *model.Tape, x blas32.General) (int, float32) {
	const chunk = 512
	c := len(m.Labels)
	for r0 := 0; r0 < x.Rows; r0 += chunk {
		n := min(chunk, x.Rows-r0)
		in := blas32.General{Rows: n, Cols: x.Cols, Stride: x.Stride, Data: x.Data[r0*x.Stride : (r0+n-1)*x.Stride+x.Cols]}
		logits := m.Forward(t, in)
		for i := 0; i < n; i++ {
			row := logits.Data[i*logits.Stride : i*logits.Stride+c]
			if j := slices.IndexFunc(row, notFinite); j >= 0 {
				return r0 + i, row[j]
			}
		}
	}
	return -1, 0
}

// evalLogits returns the accuracy and mean cross-entropy of m on (x, y).
func evalLogits(m *model.MLP, t *model.Tape, x blas32.General, y []int) (acc, ce float64) {
	const chunk = 512
	correct := 0
	for r0 := 0; r0 < x.Rows; r0 += chunk {
		n := min(chunk, x.Rows-r0)
		in := blas32.General{Rows: n, Cols: x.Cols, Stride: x.Stride, Data: x.Data[r0*x.Stride : (r0+n-1)*x.Stride+x.Cols]}
		logits := m.Forward(t, in)
		for i := 0; i < n; i++ {
			row := logits.Data[i*logits.Stride : i*logits.Stride+logits.Cols]
			best := model.Argmax(row)
			if best == y[r0+i] {
				correct++
			}
			mx := float64(row[best])
			var s float64
			for _, v := range row {
				s += math.Exp(float64(v) - mx)
			}
			ce += mx + math.Log(s) - float64(row[y[r0+i]])
		}
	}
	return float64(correct) / float64(x.Rows), ce / float64(x.Rows)
}

// oneHotRows counts the rows of t with a 1 in one column and 0 in every
// other (none when t has no data: training on hard labels).
func oneHotRows(t blas32.General) int {
	n := 0
	for i := 0; i < t.Rows && t.Data != nil; i++ {
		ones, zeros := 0, 0
		for _, v := range t.Data[i*t.Stride : i*t.Stride+t.Cols] {
			switch v {
			case 1:
				ones++
			case 0:
				zeros++
			}
		}
		if ones == 1 && zeros == t.Cols-1 {
			n++
		}
	}
	return n
}

// topKShape returns the largest K such that every row of t has its
// smallest value at least twice, outside at most K larger or equal
// entries: the shape of a top-K API's answers, the mass it hides spread
// evenly over the other labels, which is then every row's smallest value.
// It is 0 when t has no rows or a row has its smallest value once.
func topKShape(t blas32.General) int {
	k := 0
	for i := 0; i < t.Rows && t.Data != nil; i++ {
		row := t.Data[i*t.Stride : i*t.Stride+t.Cols]
		lo, n := slices.Min(row), 0
		for _, v := range row {
			if v == lo {
				n++
			}
		}
		if n < 2 {
			return 0
		}
		k = max(k, t.Cols-n)
	}
	return k
}

// finish applies RestoreBest, fills in provenance and builds the Result.
func (r *run) finish() *Result {
	p, cfg := r.p, r.p.cfg
	res := &Result{
		Student: r.student, Epochs: r.st.Epoch, BestEpoch: r.st.BestEpoch, Steps: r.opt.Steps(),
		Queries: r.st.Queries, BestValAccuracy: r.st.BestVal, StoppedEarly: r.st.Done && r.st.Epoch < p.epochs,
		History: r.st.History, Recipe: p.recipe(r.st.Queries), OneHotAnswers: oneHotRows(r.tgt),
		TopKShaped: topKShape(r.tgt),
	}
	if h := r.st.History; len(h) > 0 {
		res.TrainLoss, res.ValAccuracy = h[len(h)-1].TrainLoss, h[len(h)-1].ValAccuracy
	}
	if cfg.RestoreBest && len(r.best) == len(r.student.Theta) {
		copy(r.student.Theta, r.best)
		res.RestoredBest = true
		// The figures describe the weights returned: the best epoch's.
		if b := r.st.BestEpoch; b >= 1 && b <= len(r.st.History) {
			res.TrainLoss, res.ValAccuracy = r.st.History[b-1].TrainLoss, r.st.History[b-1].ValAccuracy
		}
	}
	tr := cfg.Train
	prov := model.Provenance{
		Dataset: tr.Name, DatasetHash: tr.Hash, Seed: cfg.Seed, Epochs: r.st.Epoch,
		Recipe: res.Recipe, LineageVersion: r.student.Prov.LineageVersion,
	}
	if p.distill {
		info := cfg.Teacher.Info()
		prov.Teacher = info.Name
		if prov.Teacher == "" {
			prov.Teacher = info.Source
		}
		prov.TeacherHash = info.Hash
		prov.Loss = p.obj.Loss.String()
		prov.Temperature, prov.Alpha = p.obj.Temperature, p.obj.Alpha
		prov.Reveal, prov.Transfer, prov.Queries = p.obj.Reveal.String(), p.transfer.String(), r.st.Queries
	} else {
		prov.Loss = "ce"
	}
	r.student.Prov = prov
	res.Elapsed = r.elapsedNow()
	return res
}
