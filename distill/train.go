package distill

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// RNG streams: each use of randomness has its own PCG stream of the seed so
// that, e.g., changing the transfer set does not change the initialisation.
const (
	streamInit     = 0x696e6974 // "init"
	streamTransfer = 0x78666572 // "xfer"
	streamShuffle  = 0x73687566 // "shuf"
)

// ErrDiverged is returned when the training loss becomes NaN or infinite.
var ErrDiverged = errors.New("training diverged")

// InterruptedError is the error of a Train whose context was cancelled. It
// wraps the context's error, so errors.Is(err, context.Canceled) holds.
type InterruptedError struct {
	// Epoch is the 1-based epoch training stopped in; 0 when it stopped
	// while the teacher was being queried, before the first epoch.
	Epoch int
	// Checkpoint is the checkpoint file written on the way out, from which
	// Resume continues; "" when none was written (no CheckpointPath, an
	// interruption while the teacher was queried, or a failed write).
	Checkpoint string
	// Err is the context's error (joined with a checkpoint write's).
	Err error
}

// Error says where training stopped (while querying the teacher, or in
// which epoch) and why.
func (e *InterruptedError) Error() string {
	if e.Epoch == 0 {
		return fmt.Sprintf("interrupted while querying the teacher: %v", e.Err)
	}
	return fmt.Sprintf("training interrupted in epoch %d: %v", e.Epoch, e.Err)
}

// Unwrap returns e.Err.
func (e *InterruptedError) Unwrap() error { return e.Err }

// Result is the outcome of Train. Student is the trained model (with Norm
// and Prov filled in); the other fields are JSON-friendly figures about the
// run. ValAccuracy and BestValAccuracy are 0 without a labelled validation
// set.
type Result struct {
	Student         *model.MLP `json:"-"`
	Epochs          int        `json:"epochs"`       // epochs completed
	BestEpoch       int        `json:"best_epoch"`   // 1-based epoch of best validation accuracy; 0 without Val
	Steps           int64      `json:"steps"`        // optimizer steps
	Queries         int        `json:"queries"`      // teacher rows queried (0 for hard-label training)
	TrainLoss       float64    `json:"train_loss"`   // mean loss of the returned weights' epoch: the last, or the best when RestoredBest
	ValAccuracy     float64    `json:"val_accuracy"` // validation accuracy of that epoch
	BestValAccuracy float64    `json:"best_val_accuracy"`
	StoppedEarly    bool       `json:"stopped_early,omitempty"`
	RestoredBest    bool       `json:"restored_best,omitempty"`
	Resumed         bool       `json:"resumed,omitempty"`
	// OneHotAnswers counts the teacher's answers, as revealed, that put all
	// their probability on one label: every one of Queries with a
	// label-only teacher (Reveal label, or an API that answers labels
	// whatever it is asked), when soft targets teach no more than labels.
	OneHotAnswers int `json:"one_hot_answers,omitempty"`
	// TopKShaped is K when every one of the teacher's answers, as
	// revealed, gives one probability to at least two labels outside its
	// K others, as an API revealing its top K spreads the mass it hides
	// (model.WithReveal): a student of such answers at Reveal full learns
	// that even spread as the teacher's. 0 when some answer has no such
	// tail; 1 for one-hot answers (see OneHotAnswers).
	TopKShaped int          `json:"top_k_shaped,omitempty"`
	Recipe     string       `json:"recipe"`
	Elapsed    float64      `json:"elapsed_s"`
	History    []EpochStats `json:"history"`
}

// run is the mutable state of one Train call.
type run struct {
	p       *plan
	student *model.MLP
	opt     *Optimizer
	pcg     *rand.PCG
	rng     *rand.Rand
	x, tgt  blas32.General // transfer inputs and revealed teacher outputs (tgt.Data nil: hard labels)
	labels  []int          // per transfer row, −1 for none; nil for none at all
	st      ckptState
	best    []float32
	hash    string
	config  *ckptConfig // what hash hashes, for the checkpoint
	start   time.Time
	elapsed float64 // seconds before this process (resume)
}

// Train trains cfg's student (see Config) and returns it with figures
// about the run. It is deterministic: the same Config, data, teacher and
// Seed give bit-identical weights, with or without an interruption and
// Resume in between. When ctx is cancelled Train saves a checkpoint (if
// CheckpointPath is set) and returns an *InterruptedError wrapping
// ctx.Err(), naming the checkpoint it wrote; a cancellation while the
// teacher is being queried saves nothing.
func Train(ctx context.Context, cfg Config) (*Result, error) {
	p, err := newPlan(cfg)
	if err != nil {
		return nil, err
	}
	r := &run{p: p, start: time.Now(), hash: configHash(cfg), config: recordConfig(cfg)}
	resumed := false
	if cfg.Resume && cfg.CheckpointPath != "" {
		c, ok, err := loadCheckpoint(cfg.CheckpointPath)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := r.restore(c); err != nil {
				return nil, err
			}
			resumed = true
			if cfg.OnResume != nil {
				if err := cfg.OnResume(slices.Clone(r.st.History)); err != nil {
					return nil, err
				}
			}
		}
	}
	if !resumed {
		if err := r.init(ctx); err != nil {
			return nil, err
		}
	}
	if err := r.loop(ctx); err != nil {
		return nil, err
	}
	res := r.finish()
	res.Resumed = resumed
	return res, nil
}

// configHash identifies the run for checkpoint compatibility.
func configHash(cfg Config) string {
	h := sha256.New()
	j, _ := json.Marshal(cfg) // only plain fields are tagged for JSON
	h.Write(j)
	for _, d := range []*dataset.Dataset{cfg.Train, cfg.Val} {
		if d != nil {
			fmt.Fprintf(h, "|%s", d.Hash)
		} else {
			h.Write([]byte("|-"))
		}
	}
	if cfg.Teacher != nil {
		info := cfg.Teacher.Info()
		fmt.Fprintf(h, "|%s|%s|%s", info.Name, info.Source, info.Hash)
	}
	if cfg.Student != nil {
		writeStudent(h, cfg.Student)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeStudent writes what configHash (and the checkpoint's record of its
// run, recordConfig) hashes of an initial student: its weights, sizes and
// activation.
func writeStudent(w io.Writer, m *model.MLP) {
	binary.Write(w, binary.LittleEndian, m.Theta)
	fmt.Fprintf(w, "|%v|%s", m.Sizes, m.Act)
}

func (r *run) init(ctx context.Context) error {
	p, cfg := r.p, r.p.cfg
	tr := cfg.Train
	if cfg.Student != nil {
		r.student = cfg.Student.Clone()
	} else {
		sizes := append(append([]int{tr.Dim()}, p.hidden...), len(tr.Labels))
		rng := rand.New(rand.NewPCG(cfg.Seed, streamInit))
		r.student = model.NewMLP(sizes, p.act, slices.Clone(tr.Labels), rng)
		if cfg.Init == "uniform" {
			model.InitUniform(r.student, rng)
		}
	}
	if cfg.Name != "" {
		r.student.Name = cfg.Name
	}
	mean, std := dataset.Standardizer(tr)
	r.student.Norm = model.Normalization{Mean: mean, Std: std}
	r.opt = NewOptimizer(p.opt, len(r.student.Theta))
	r.pcg = rand.NewPCG(cfg.Seed, streamShuffle)
	r.rng = rand.New(r.pcg)
	r.st = ckptState{ConfigHash: r.hash, Config: r.config}
	if !p.distill {
		r.x, r.labels = tr.X, tr.Y
		return nil
	}
	x, labels, err := p.transfer.Generate(rand.New(rand.NewPCG(cfg.Seed, streamTransfer)), tr, cfg.Queries)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	r.x, r.labels = x, labels
	if tr.Y == nil {
		r.labels = nil
	}
	r.tgt, err = queryTeacher(ctx, cfg.Teacher, x, p.queryRows, p.obj.Reveal)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return &InterruptedError{Err: cerr}
		}
		return err
	}
	r.st.Queries = x.Rows
	return nil
}

// queryTeacher runs the teacher over x in batches of rows and returns what
// the reveal policy shows of its outputs.
func queryTeacher(ctx context.Context, t model.Model, x blas32.General, rows int, rv model.Reveal) (blas32.General, error) {
	c := len(t.Info().Labels)
	out := blas32.General{Rows: x.Rows, Cols: c, Stride: c, Data: make([]float32, x.Rows*c)}
	for r0 := 0; r0 < x.Rows; r0 += rows {
		if err := ctx.Err(); err != nil {
			return blas32.General{}, fmt.Errorf("querying teacher: %w", err)
		}
		n := min(rows, x.Rows-r0)
		in := blas32.General{Rows: n, Cols: x.Cols, Stride: x.Stride, Data: x.Data[r0*x.Stride : (r0+n-1)*x.Stride+x.Cols]}
		p, err := t.Predict(ctx, in)
		if err != nil {
			return blas32.General{}, fmt.Errorf("querying teacher (rows %d-%d): %w", r0, r0+n-1, err)
		}
		if p.Rows != n || p.Cols != c {
			return blas32.General{}, fmt.Errorf("querying teacher: got %d×%d outputs for %d rows of %d classes", p.Rows, p.Cols, n, c)
		}
		for i := 0; i < n; i++ {
			row := p.Data[i*p.Stride : i*p.Stride+c]
			for _, v := range row {
				if !(v >= 0) || math.IsInf(float64(v), 0) {
					return blas32.General{}, fmt.Errorf("querying teacher: row %d has invalid probability %g", r0+i, v)
				}
			}
			rv.Apply(out.Data[(r0+i)*c:(r0+i+1)*c], row)
		}
	}
	return out, nil
}

func (r *run) restore(c *ckptState) error {
	p := r.p
	if c.ConfigHash != r.hash {
		// --epochs 40 resumes a run whose --epochs was left out (0, the
		// default 40), --lr 0.005 one of Adam's without --lr: only the
		// hash of the configuration as given differs.
		if ch := changes(c.Config, r.config); !sameRun(ch, p.cfg.Optimizer) {
			return &ConfigChangedError{Checkpoint: p.cfg.CheckpointPath, Changes: ch}
		}
	}
	r.student = c.student
	r.opt = new(Optimizer)
	if err := r.opt.UnmarshalBinary(c.opt); err != nil {
		return fmt.Errorf("checkpoint %s: %w", p.cfg.CheckpointPath, err)
	}
	if r.opt.cfg.Kind != SGD {
		// Adam and AdamW ignore a momentum, which lineage before
		// 7 December 2026 took and recorded (see sameRun).
		r.opt.cfg.Momentum = 0
	}
	r.pcg = new(rand.PCG)
	if err := r.pcg.UnmarshalBinary(c.EpochRNG); err != nil {
		return fmt.Errorf("checkpoint %s: epoch_rng: %w: %w", p.cfg.CheckpointPath, err, ErrCheckpoint)
	}
	r.rng = rand.New(r.pcg)
	// The checksum and configuration hash do not vouch for the shapes of
	// what the checkpoint holds: check them against the training data
	// before the loop indexes with them (a mismatched optimizer panicked
	// in Step, short targets out of range in the batch copy).
	tr, s := p.cfg.Train, r.student
	k := s.Sizes[len(s.Sizes)-1]
	if s.Sizes[0] != tr.Dim() || k != len(tr.Labels) || r.opt.n != len(s.Theta) ||
		(p.distill && (c.XCols != s.Sizes[0] || c.TCols != k)) {
		return fmt.Errorf("checkpoint %s: student %v, optimizer for %d parameters and %d×%d inputs with %d targets do not fit %d features and %d classes: %w",
			p.cfg.CheckpointPath, s.Sizes, r.opt.n, c.XRows, c.XCols, c.TCols, tr.Dim(), len(tr.Labels), ErrCheckpoint)
	}
	for i, l := range c.Labels {
		if l < -1 || l >= k {
			return fmt.Errorf("checkpoint %s: transfer row %d has label %d of %d classes: %w", p.cfg.CheckpointPath, i, l, k, ErrCheckpoint)
		}
	}
	if p.distill {
		r.x = blas32.General{Rows: c.XRows, Cols: c.XCols, Stride: c.XCols, Data: c.x}
		r.tgt = blas32.General{Rows: c.XRows, Cols: c.TCols, Stride: c.TCols, Data: c.tgt}
		r.labels = c.Labels
	} else {
		r.x, r.labels = p.cfg.Train.X, p.cfg.Train.Y
	}
	if err := r.checkResumed(c); err != nil {
		return err
	}
	if len(c.bestTheta) > 0 {
		r.best = c.bestTheta
	}
	r.elapsed = c.Elapsed
	r.st = *c
	r.st.ConfigHash = r.hash // another only where sameRun found the same run
	r.st.Config = r.config   // a checkpoint of older lineage has none
	return nil
}

// checkpoint writes the current state (no-op without CheckpointPath).
func (r *run) checkpoint() error {
	path := r.p.cfg.CheckpointPath
	if path == "" {
		return nil
	}
	c := r.st
	c.student = r.student
	c.opt, _ = r.opt.MarshalBinary()
	c.bestTheta = r.best
	c.Elapsed = r.elapsedNow()
	if r.p.distill {
		c.x, c.tgt, c.Labels = r.x.Data, r.tgt.Data, r.labels
		c.XRows, c.XCols, c.TCols = r.x.Rows, r.x.Cols, r.tgt.Cols
	} else {
		c.x, c.tgt, c.Labels = nil, nil, nil
		c.XRows, c.XCols, c.TCols = 0, 0, 0
	}
	return saveCheckpoint(path, &c)
}

func (r *run) elapsedNow() float64 { return r.elapsed + time.Since(r.start).Seconds() }
