package journal

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// stopping is a model asked a batch as its caller stops: at the request
// it calls cancel (the caller stopping while the batch is answered), then
// answers once answer is closed, unless its own ctx ends first.
type stopping struct {
	counting
	cancel context.CancelFunc
	answer <-chan struct{}
}

func (s *stopping) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	s.cancel()
	select {
	case <-s.answer:
		return s.counting.Predict(ctx, x)
	case <-ctx.Done():
		return blas32.General{}, ctx.Err()
	}
}

// TestDrain: with Drain set, a batch the model is answering when the
// caller stops is answered and committed (its requests are already paid
// for; the rerun asked for them again), within Drain; no batch starts
// after the caller stopped; and a batch that does not finish within Drain
// reports the interruption, having been left Drain to finish. The caller
// stops from inside the model's Predict, and the model answers at the
// drain's notice or 20 s later, not at set times: timed (a cancel at 50
// ms, answers after 200 ms), a loaded machine could stop the caller
// before the batch was asked.
func TestDrain(t *testing.T) {
	m := model.NewMLP([]int{4, 8, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))
	xs := batches(2, 5, 4)
	const late = 20 * time.Second // long after any drain here
	for _, tt := range []struct {
		name     string
		drain    time.Duration
		atNotice bool // the model answers at the drain's notice, else late
		stored   int
	}{
		{"answered within the drain", time.Minute, true, 1},
		{"not within the drain", 100 * time.Millisecond, false, 0},
		{"no drain", 0, false, 0},
	} {
		db := openStore(t, filepath.Join(t.TempDir(), "j.db"))
		ctx, cancel := context.WithCancel(context.Background())
		noticed, lateAnswer := make(chan struct{}), make(chan struct{})
		timer := time.AfterFunc(late, func() { close(lateAnswer) })
		s := &stopping{counting: counting{Model: m}, cancel: cancel, answer: lateAnswer}
		if tt.atNotice {
			s.answer = noticed
		}
		j, err := New(context.Background(), s, db, "job")
		if err != nil {
			t.Fatal(err)
		}
		j.Drain = tt.drain
		var notices atomic.Int32
		j.OnDrain = func() {
			if notices.Add(1) == 1 {
				close(noticed)
			}
		}
		start := time.Now()
		_, err = j.PredictBatch(ctx, 0, xs[0])
		took := time.Since(start)
		timer.Stop()
		switch {
		case tt.stored == 1 && err != nil:
			t.Errorf("%s: PredictBatch: %v, want the answer", tt.name, err)
		case tt.stored == 0 && !errors.Is(err, context.Canceled):
			t.Errorf("%s: PredictBatch: %v, want context.Canceled", tt.name, err)
		}
		if tt.stored == 0 && took < tt.drain {
			t.Errorf("%s: PredictBatch gave up after %v, want the batch left the drain (%v) to finish", tt.name, took, tt.drain)
		}
		if limit := tt.drain + late/2; took > limit {
			t.Errorf("%s: PredictBatch returned after %v, want within %v", tt.name, took, limit)
		}
		if _, err := j.PredictBatch(ctx, 1, xs[1]); !errors.Is(err, context.Canceled) || s.rows > xs[0].Rows {
			t.Errorf("%s: a batch after the stop: %v, model asked %d rows; want context.Canceled and nothing asked", tt.name, err, s.rows)
		}
		if got := j.Stored(); got != 0 {
			t.Fatalf("Stored counts the batches found at New: %d", got)
		}
		ans, err := db.Answers(context.Background(), "job")
		if err != nil || len(ans) != tt.stored {
			t.Errorf("%s: %d batches committed (%v), want %d", tt.name, len(ans), err, tt.stored)
		}
		if want := int32(min(tt.drain, 1)); notices.Load() != want {
			t.Errorf("%s: OnDrain called %d times, want %d", tt.name, notices.Load(), want)
		}
		db.Close()
	}
}

// cancelFirst is a model that, asked a batch, calls cancel (the caller
// stopping while the batch is answered) and answers after delay.
type cancelFirst struct {
	counting
	cancel context.CancelFunc
	delay  time.Duration
}

func (c *cancelFirst) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	c.cancel()
	time.Sleep(c.delay)
	return c.counting.Predict(ctx, x)
}

// TestDrainNoticeReturnsFirst: PredictBatch returns only after an OnDrain
// under way has returned (a notice printed after the command returned
// raced with its caller's reads of stderr).
func TestDrainNoticeReturnsFirst(t *testing.T) {
	m := model.NewMLP([]int{4, 8, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))
	db := openStore(t, filepath.Join(t.TempDir(), "j.db"))
	defer db.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	j, err := New(context.Background(), &cancelFirst{counting: counting{Model: m}, cancel: cancel, delay: 50 * time.Millisecond}, db, "job")
	if err != nil {
		t.Fatal(err)
	}
	j.Drain = time.Minute
	var done atomic.Bool
	j.OnDrain = func() {
		time.Sleep(300 * time.Millisecond) // outlasts the batch
		done.Store(true)
	}
	if _, err := j.PredictBatch(ctx, 0, batches(1, 5, 4)[0]); err != nil {
		t.Fatalf("PredictBatch: %v, want the answer (drained)", err)
	}
	if !done.Load() {
		t.Error("PredictBatch returned while OnDrain was still running, want after it")
	}
}
