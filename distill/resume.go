package distill

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/lineage-audit/lineage/dataset"
)

// checkResumed refuses a checkpoint whose record of the run contradicts
// the run it is to continue, or itself. The checksum and configuration
// hash vouch for neither: a header edited and re-summed (or written by a
// buggy version) used to be trusted, so that "epoch": 1000000 ended a
// 400-epoch run at once reporting a million epochs, an empty history
// rewrote a caller's log (OnResume) without the epochs done, and a batch
// beyond the epoch skipped its rest. Every check is an invariant the loop
// keeps in the checkpoints it writes, mid-epoch or between epochs; the
// error names the checkpoint file and the header field. It is called by
// restore once the shapes are known to fit, with r.x set to the rows of
// an epoch.
func (r *run) checkResumed(c *ckptState) error {
	p, cfg := r.p, r.p.cfg
	bad := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint %s: %s: %w", cfg.CheckpointPath, fmt.Sprintf(format, args...), ErrCheckpoint)
	}
	if err := r.checkStudent(c, bad); err != nil {
		return err
	}

	// The rows of an epoch fix its batches and the optimizer's steps.
	tr := cfg.Train
	if p.distill {
		if c.XRows != p.rows {
			return bad("x_rows %d, the run's transfer set has %d rows", c.XRows, p.rows)
		}
		switch {
		case c.Labels == nil && tr.Y != nil:
			return bad("labels missing, but the training data %q is labelled", tr.Name)
		case c.Labels != nil && tr.Y == nil:
			return bad("labels present, but the training data %q is unlabelled", tr.Name)
		}
		if c.Queries != c.XRows {
			return bad("queries %d, the transfer set has %d rows", c.Queries, c.XRows)
		}
	} else {
		switch {
		case c.Queries != 0:
			return bad("queries %d, but hard-label training queries no teacher", c.Queries)
		case c.XRows != 0 || c.XCols != 0 || c.TCols != 0 || c.Labels != nil:
			return bad("a transfer set of %d×%d inputs, but hard-label training has none", c.XRows, c.XCols)
		}
	}
	steps := p.stepsPerEpoch(r.x.Rows)

	switch {
	case c.Epoch < 0:
		return bad("epoch %d is negative", c.Epoch)
	case c.Epoch > p.epochs:
		return bad("epoch %d is beyond the run's %d epochs", c.Epoch, p.epochs)
	}
	if len(c.History) != c.Epoch {
		return bad("history holds %d epochs, epoch says %d were completed", len(c.History), c.Epoch)
	}
	for i, h := range c.History {
		if h.Epoch != i+1 || h.Epochs != p.epochs {
			return bad("history[%d] is epoch %d of %d, want epoch %d of %d", i, h.Epoch, h.Epochs, i+1, p.epochs)
		}
		if h.EpochSteps != steps || h.Steps != int64(i+1)*int64(steps) {
			return bad("history[%d] has %d steps (%d per epoch), want %d (%d per epoch)", i, h.Steps, h.EpochSteps, (i+1)*steps, steps)
		}
		if !(h.ValAccuracy >= 0 && h.ValAccuracy <= 1) {
			return bad("history[%d] has validation accuracy %g, want 0 to 1", i, h.ValAccuracy)
		}
	}
	over := c.Done || c.Epoch == p.epochs
	switch {
	case c.Batch < 0 || c.Batch >= steps:
		return bad("batch %d is outside the %d batches of an epoch", c.Batch, steps)
	case over && c.Batch != 0:
		return bad("batch %d of an epoch after training ended (epoch %d of %d, done %v)", c.Batch, c.Epoch, p.epochs, c.Done)
	}
	// The batches done in the epoch all came before its last, so all
	// were full.
	if c.EpochRows != c.Batch*p.batch {
		return bad("epoch_rows %d, want %d (batch %d of %d rows)", c.EpochRows, c.Batch*p.batch, c.Batch, p.batch)
	}
	if c.EpochRows == 0 && c.EpochLoss != 0 {
		return bad("epoch_loss %g with no rows done in the epoch", c.EpochLoss)
	}
	if want := int64(c.Epoch)*int64(steps) + int64(c.Batch); r.opt.Steps() != want {
		return bad("the optimizer has taken %d steps, epoch %d and batch %d make %d", r.opt.Steps(), c.Epoch, c.Batch, want)
	}
	if want := p.opt.withDefaults(); r.opt.cfg != want {
		got, _ := json.Marshal(r.opt.cfg)
		w, _ := json.Marshal(want)
		return bad("the optimizer state is for %s, the run's optimizer is %s", got, w)
	}
	if c.Elapsed < 0 {
		return bad("elapsed_s %g is negative", c.Elapsed)
	}
	return r.checkBest(c, bad)
}

// checkStudent refuses a checkpoint's student that is not the model the
// run trains: other hidden layers, activation, class names or input
// standardisation (dataset.Standardizer's, or for a run begun before 7
// December 2026 dataset.GlobalRangeStandardizer's; restore has checked
// its inputs and outputs).
func (r *run) checkStudent(c *ckptState, bad func(string, ...any) error) error {
	p, cfg := r.p, r.p.cfg
	s, tr := c.student, cfg.Train
	sizes := append(append([]int{tr.Dim()}, p.hidden...), len(tr.Labels))
	act := p.act
	if cfg.Student != nil {
		sizes, act = cfg.Student.Sizes, cfg.Student.Act
	}
	if !slices.Equal(s.Sizes, sizes) {
		return bad("the student has layers %v, the run trains %v", s.Sizes, sizes)
	}
	if s.Act != act {
		return bad("the student's activation is %s, the run's is %s", s.Act, act)
	}
	if !slices.Equal(s.Labels, tr.Labels) {
		return bad("the student's classes %v are not the training data's %v", s.Labels, tr.Labels)
	}
	same := func(mean, std []float32) bool {
		return slices.Equal(s.Norm.Mean, mean) && slices.Equal(s.Norm.Std, std)
	}
	// A run begun by lineage before 7 December 2026 keeps the
	// standardisation it began with (its transfer set is in the
	// checkpoint too): they differ only on data of mixed scales.
	if !same(dataset.Standardizer(tr)) && !same(dataset.GlobalRangeStandardizer(tr)) {
		return bad("the student's input standardisation is not the training data's")
	}
	return nil
}

// checkBest refuses best_epoch, best_val, since_best, done and the
// best-epoch weights unless they are what the loop records: the first
// epoch of the highest validation accuracy in history, the epochs since
// it, done exactly when they reached Patience, and (RestoreBest) its
// weights; all zero, and no weights, without a labelled validation set.
func (r *run) checkBest(c *ckptState, bad func(string, ...any) error) error {
	cfg := r.p.cfg
	if v := cfg.Val; v == nil || v.Y == nil || v.Len() == 0 || c.Epoch == 0 {
		why := "before any epoch completed"
		if v == nil || v.Y == nil || v.Len() == 0 {
			why = "without a labelled validation set"
		}
		switch {
		case c.BestEpoch != 0:
			return bad("best_epoch %d %s", c.BestEpoch, why)
		case c.BestVal != 0:
			return bad("best_val %g %s", c.BestVal, why)
		case c.SinceBest != 0:
			return bad("since_best %d %s", c.SinceBest, why)
		case c.Done:
			return bad("done %s", why)
		case len(c.bestTheta) != 0:
			return bad("best-epoch weights %s", why)
		}
		return nil
	}
	if c.BestEpoch < 1 || c.BestEpoch > c.Epoch {
		return bad("best_epoch %d is not one of the %d epochs completed", c.BestEpoch, c.Epoch)
	}
	if best := c.History[c.BestEpoch-1].ValAccuracy; c.BestVal != best {
		return bad("best_val %g, history has %g for best_epoch %d", c.BestVal, best, c.BestEpoch)
	}
	for i, h := range c.History {
		if h.ValAccuracy > c.BestVal || i+1 < c.BestEpoch && h.ValAccuracy == c.BestVal {
			return bad("best_epoch %d is not the first epoch of the best validation accuracy (epoch %d has %g)", c.BestEpoch, i+1, h.ValAccuracy)
		}
	}
	if want := c.Epoch - c.BestEpoch; c.SinceBest != want {
		return bad("since_best %d, want %d (epoch %d − best_epoch %d)", c.SinceBest, want, c.Epoch, c.BestEpoch)
	}
	if n := cfg.Patience; n > 0 && c.SinceBest > n {
		return bad("since_best %d is beyond the run's patience of %d epochs", c.SinceBest, n)
	}
	if stop := cfg.Patience > 0 && c.SinceBest == cfg.Patience; c.Done != stop {
		return bad("done %v with since_best %d and the run's patience of %d epochs", c.Done, c.SinceBest, cfg.Patience)
	}
	switch has := len(c.bestTheta) != 0; {
	case cfg.RestoreBest && !has:
		return bad("no best-epoch weights, which a run that restores the best epoch keeps")
	case !cfg.RestoreBest && has:
		return bad("best-epoch weights, which only a run that restores the best epoch keeps")
	}
	return nil
}
