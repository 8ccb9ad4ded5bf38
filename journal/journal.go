// Package journal makes a model's answers durable: it wraps a model so
// that every batch it answers is committed to the lineage store before the
// caller sees it, and a rerun of the same job replays the stored batches
// instead of asking the model again. A remote probe or a distillation
// through somebody's API can then be killed at any point and resumed
// without paying for — or leaking — a single query twice.
//
// A job is a sequence of Predict calls made in a deterministic order (the
// probe suite's batches, a seeded transfer set's batches). Batch k of a job
// is stored under the job's name with the SHA-256 of its inputs, so a rerun
// that would ask something different fails loudly instead of replaying a
// wrong answer.
package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/digest"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// ErrMismatch is wrapped when a rerun's batch differs from the stored one.
var ErrMismatch = errors.New("journal: inputs differ from the stored batch")

// MismatchError is the error of a stored batch whose inputs are not the
// rerun's: the rerun batches them otherwise (another batch size), or asks
// other inputs. It wraps ErrMismatch.
type MismatchError struct {
	Job   string
	Batch int // the batch's number in the job
	// Stored is the number of inputs the stored batch answers, Rows the
	// number the rerun asks in that batch.
	Stored, Rows int
}

// Error names the job and batch, and says how many inputs each run put
// in it when the counts differ.
func (e *MismatchError) Error() string {
	if e.Stored != e.Rows {
		return fmt.Sprintf("journal %q batch %d: %v: it holds the answers to %d inputs, this run asks %d", e.Job, e.Batch, ErrMismatch, e.Stored, e.Rows)
	}
	return fmt.Sprintf("journal %q batch %d: %v", e.Job, e.Batch, ErrMismatch)
}

// Unwrap returns ErrMismatch.
func (e *MismatchError) Unwrap() error { return ErrMismatch }

// ErrCorrupt is wrapped when a stored batch cannot be decoded.
var ErrCorrupt = errors.New("journal: corrupt stored batch")

// Model is a model.Model whose answers are journaled in a store. Its zero
// value is not usable; use New. Predict numbers its calls in the order they
// arrive, so Predict calls must come from one goroutine at a time;
// PredictBatch takes the number from the caller and may run concurrently
// (batches are then committed in whatever order they finish, and a rerun
// replays each one by its number).
type Model struct {
	m   model.Model
	db  Store
	job string
	// labels is the model's label count, the width of every answer
	// (Info is not free: a local model hashes its weights).
	labels int
	mu     sync.Mutex // guards next, have and the counts
	next   int
	have   map[int][]byte

	asked, replayed int
	committed       int // rows asked whose answers were committed
	damaged         int // stored batches that failed their checks and were asked again

	// Drain is how long a batch the model is already answering may go
	// on once the caller's ctx is done, so that the requests already sent
	// (paid for) are answered and committed instead of asked again by
	// the rerun; 0 stops the model at once. No batch is started after
	// ctx is done. Set it before the first Predict.
	Drain time.Duration
	// OnDrain, when set, is called once, when ctx ends while the model
	// is answering a batch that Drain lets finish (to say why the
	// caller does not stop at once). PredictBatch returns only after
	// OnDrain has returned. It is called whatever ended ctx (an
	// interrupt, or the caller stopping its other batches after an
	// error): OnDrain can look at its own context to tell them apart.
	OnDrain   func()
	drainOnce sync.Once
}

// drainContext returns the context the model answers a batch under: ctx
// itself without drain, else one that outlives ctx by drain, calling
// notice when ctx ends first. stop releases it, and returns only once a
// notice under way has returned (so that nothing the notice writes comes
// after the batch's caller has returned).
func drainContext(ctx context.Context, drain time.Duration, notice func()) (c context.Context, stop func()) {
	if drain <= 0 {
		return ctx, func() {}
	}
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	noticed := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		defer close(noticed)
		notice()
		time.AfterFunc(drain, cancel) // a cancel after stop does nothing
	})
	return c, func() {
		if !stopAfter() { // the notice has started
			<-noticed
		}
		cancel()
	}
}

// Store is where a journal keeps its batches: a *store.Store, or anything
// with its three methods (for example a store opened for each call, so that
// other processes can use the database between a long job's batches).
type Store interface {
	Answers(ctx context.Context, job string) ([]store.Answer, error)
	PutAnswers(ctx context.Context, job string, batch int, data []byte) error
	DeleteAnswers(ctx context.Context, job string) error
}

// New wraps m for job, loading the batches a previous run stored in db.
func New(ctx context.Context, m model.Model, db Store, job string) (*Model, error) {
	ans, err := db.Answers(ctx, job)
	if err != nil {
		return nil, fmt.Errorf("journal %q: %w", job, err)
	}
	j := &Model{m: m, db: db, job: job, have: make(map[int][]byte, len(ans)), labels: len(m.Info().Labels)}
	for _, a := range ans {
		j.have[a.Batch] = a.Data
	}
	return j, nil
}

// Info returns the wrapped model's Info.
func (j *Model) Info() model.Info { return j.m.Info() }

// Stored returns the number of batches a previous run left.
func (j *Model) Stored() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.have)
}

// Counts returns how many input rows were sent to the model and how many
// were answered from the journal so far.
func (j *Model) Counts() (asked, replayed int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.asked, j.replayed
}

// Kept returns how many input rows' answers the journal holds for a rerun
// so far: those replayed from it and those asked and committed. It is
// below the sum of Counts when a commit failed (a full disk): those
// answers were asked, and paid for, but not kept.
func (j *Model) Kept() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.replayed + j.committed
}

// Damaged returns how many stored batches failed their checks (a
// checksum, the layout, answers of the right shape that are probability
// distributions) and were asked of the model again.
func (j *Model) Damaged() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.damaged
}

// Predict answers batch number k, k counting this model's Predict calls
// from 0 (see PredictBatch).
func (j *Model) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	j.mu.Lock()
	k := j.next
	j.next++
	j.mu.Unlock()
	return j.PredictBatch(ctx, k, x)
}

// PredictBatch answers batch number k of the job: from the journal when
// batch k is stored with the same inputs, otherwise from the model,
// committing the answer before returning it. A stored batch that fails
// its checks is asked again and stored over (see Damaged); one stored
// for other inputs is an error wrapping ErrMismatch. It is safe for concurrent
// use with distinct k.
func (j *Model) PredictBatch(ctx context.Context, k int, x blas32.General) (blas32.General, error) {
	digest := digestOf(x)
	j.mu.Lock()
	data, ok := j.have[k]
	j.mu.Unlock()
	if ok {
		p, err := decode(data, digest)
		if err == nil {
			err = j.check(x, p)
		}
		var me *MismatchError
		switch {
		case err == nil:
			j.mu.Lock()
			j.replayed += x.Rows
			j.mu.Unlock()
			return p, nil
		case errors.As(err, &me):
			me.Job, me.Batch, me.Rows = j.job, k, x.Rows
			return blas32.General{}, me
		case !errors.Is(err, ErrCorrupt):
			return blas32.General{}, fmt.Errorf("journal %q batch %d: %w", j.job, k, err)
		}
		// A damaged batch is asked again and stored over: replaying it
		// would put answers the model never gave in the fingerprint.
		j.mu.Lock()
		j.damaged++
		j.mu.Unlock()
	}
	if err := ctx.Err(); err != nil {
		return blas32.General{}, err // nothing asked after the caller stopped
	}
	mctx, stop := drainContext(ctx, j.Drain, func() {
		if j.OnDrain != nil {
			j.drainOnce.Do(j.OnDrain)
		}
	})
	p, err := j.m.Predict(mctx, x)
	stop()
	if err != nil {
		if j.Drain > 0 && ctx.Err() != nil {
			// Stopped by the caller: that is what happened, whatever
			// became of the batch in flight.
			err = fmt.Errorf("%w (the batch in flight, left up to %v to finish: %v)", ctx.Err(), j.Drain, err)
		}
		return blas32.General{}, err
	}
	j.mu.Lock()
	j.asked += x.Rows
	j.mu.Unlock()
	// The answer is paid for: commit it even when ctx was cancelled while
	// the model answered (an interrupt landing then would otherwise lose
	// it, and the rerun would ask again).
	if err := j.db.PutAnswers(context.WithoutCancel(ctx), j.job, k, encode(digest, p)); err != nil {
		return blas32.General{}, fmt.Errorf("journal %q batch %d: %w", j.job, k, err)
	}
	j.mu.Lock()
	j.committed += x.Rows
	j.mu.Unlock()
	return p, nil
}

// check reports, as ErrCorrupt, a decoded batch that cannot be the model's
// answer to x: another shape, or rows that are not probability
// distributions. A stored batch passed every check when it was asked, so
// such a batch was damaged or edited (one stored before batches carried a
// checksum is not otherwise checked); replayed, it failed the job on every
// rerun, blamed on the model.
func (j *Model) check(x, p blas32.General) error {
	if p.Rows != x.Rows || p.Cols != j.labels {
		return fmt.Errorf("%w: %d×%d answers for %d inputs and %d labels", ErrCorrupt, p.Rows, p.Cols, x.Rows, j.labels)
	}
	for i := 0; i < p.Rows; i++ {
		if problem := fingerprint.CheckRow(p.Data[i*p.Stride : i*p.Stride+p.Cols]); problem != "" {
			return fmt.Errorf("%w: row %d: %s", ErrCorrupt, i, problem)
		}
	}
	return nil
}

// Done removes the job's batches from the store (once its result is saved
// elsewhere).
func (j *Model) Done(ctx context.Context) error { return j.db.DeleteAnswers(ctx, j.job) }

// digestOf hashes the batch's shape and float32 bits.
func digestOf(x blas32.General) [32]byte {
	h := sha256.New()
	digest.Uint64(h, uint64(x.Rows))
	digest.Uint64(h, uint64(x.Cols))
	digest.Matrix(h, x)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// encode lays out a stored batch: the input digest, rows and cols as
// uint32 LE, the answers as float32 LE, then the SHA-256 of all that.
func encode(digest [32]byte, p blas32.General) []byte {
	out := make([]byte, 0, 72+4*p.Rows*p.Cols)
	out = append(out, digest[:]...)
	out = binary.LittleEndian.AppendUint32(out, uint32(p.Rows))
	out = binary.LittleEndian.AppendUint32(out, uint32(p.Cols))
	for i := 0; i < p.Rows; i++ {
		for _, v := range p.Data[i*p.Stride : i*p.Stride+p.Cols] {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// decode reverses encode, checking the digest against want and the
// checksum (a batch stored by lineage before the checksum has none, and
// is taken as it is).
func decode(data []byte, want [32]byte) (blas32.General, error) {
	if len(data) < 40 {
		return blas32.General{}, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(data))
	}
	rows := binary.LittleEndian.Uint32(data[32:])
	cols := binary.LittleEndian.Uint32(data[36:])
	if n := uint64(rows)*uint64(cols)*4 + 40; n+32 == uint64(len(data)) {
		body := data[:len(data)-32]
		if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[len(body):]) {
			return blas32.General{}, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
		}
		data = body
	}
	if !bytes.Equal(data[:32], want[:]) {
		return blas32.General{}, &MismatchError{Stored: int(rows)}
	}
	// rows·cols must be exactly the float32s that follow; the product is
	// taken in 64 bits, where two uint32s cannot overflow, and compared
	// with the data length before anything is allocated. Rows without
	// columns answer nothing (and would let rows be any number), and
	// neither count may exceed an int on any platform.
	if n := uint64(len(data) - 40); n%4 != 0 || uint64(rows)*uint64(cols) != n/4 ||
		(rows > 0 && cols == 0) || rows > math.MaxInt32 || cols > math.MaxInt32 {
		return blas32.General{}, fmt.Errorf("%w: %d×%d in %d bytes", ErrCorrupt, rows, cols, len(data))
	}
	p := blas32.General{Rows: int(rows), Cols: int(cols), Stride: int(cols), Data: make([]float32, (len(data)-40)/4)}
	for i := range p.Data {
		p.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[40+4*i:]))
	}
	return p, nil
}
