package distill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// interruptedCheckpoint runs cfg until stop returns true (checked after
// every optimizer step and every epoch) and returns the bytes of the
// checkpoint the interruption left.
func interruptedCheckpoint(t *testing.T, cfg Config, stop func(step int64, epoch int) bool) []byte {
	t.Helper()
	cfg.CheckpointPath = filepath.Join(t.TempDir(), "run.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.stepHook = func(s int64) {
		if stop(s, 0) {
			cancel()
		}
	}
	cfg.Progress = func(s EpochStats) {
		if stop(0, s.Epoch) {
			cancel()
		}
	}
	if _, err := Train(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: error %v, want context.Canceled", err)
	}
	b, err := os.ReadFile(cfg.CheckpointPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// interruptedAt runs cfg with its checkpoint at path and Resume set,
// cancels it at optimizer step step, and fails t unless the run ends
// with context.Canceled; it returns cfg as it ran, without the hook, for
// the resume that follows.
func interruptedAt(t *testing.T, cfg Config, path string, step int64) Config {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.CheckpointPath, cfg.Resume = path, true
	cfg.stepHook = func(s int64) {
		if s == step {
			cancel()
		}
	}
	if _, err := Train(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: error %v, want context.Canceled", err)
	}
	cfg.stepHook = nil
	return cfg
}

// TestResumeContradictions resumes from real checkpoints, one taken
// mid-epoch in a distillation that keeps its best epoch and one between
// epochs of hard-label training, with one header field or section changed
// and the checksum recomputed: each contradiction of the run or of the
// checkpoint itself is refused with ErrCheckpoint and one line naming the
// file and the field. An "epoch": 1000000 used to end a 4-epoch run at
// once reporting a million epochs, an empty history rewrote the caller's
// log without the epochs done, and a batch, since_best, epoch_rows or
// best_epoch out of range was trained on. The unchanged checkpoints
// resume.
func TestResumeContradictions(t *testing.T) {
	sp, teacher := digits(t)
	dcfg := smallConfig(sp, teacher)
	dcfg.RestoreBest = true
	// 900 rows in 29 batches of 32: stopped after step 40, in epoch 2
	// after its 11th batch.
	dckpt := interruptedCheckpoint(t, dcfg, func(s int64, _ int) bool { return s == 40 })
	tcfg := Config{Train: sp.Train, Val: sp.Val, Hidden: []int{8}, Epochs: 6, Patience: 3, Seed: 5}
	tckpt := interruptedCheckpoint(t, tcfg, func(_ int64, e int) bool { return e == 2 })

	const (
		dist = iota
		hard
	)
	tests := []struct {
		name   string
		run    int
		mutate func(c *ckptState)
		want   string // "" means the checkpoint resumes
	}{
		{"distillation as written", dist, func(*ckptState) {}, ""},
		{"training as written", hard, func(*ckptState) {}, ""},
		{"epoch beyond the run", dist, func(c *ckptState) { c.Epoch = 1000000 }, "epoch 1000000 is beyond the run's 4 epochs"},
		{"negative epoch", dist, func(c *ckptState) { c.Epoch = -1 }, "epoch -1 is negative"},
		{"empty history", dist, func(c *ckptState) { c.History = nil }, "history holds 0 epochs, epoch says 1 were completed"},
		{"history of another run", hard, func(c *ckptState) { c.History[1].Epochs = 9 }, "history[1] is epoch 2 of 9, want epoch 2 of 6"},
		{"history steps", dist, func(c *ckptState) { c.History[0].Steps = 28 }, "history[0] has 28 steps (29 per epoch), want 29 (29 per epoch)"},
		{"history accuracy", hard, func(c *ckptState) { c.History[0].ValAccuracy = 2 }, "history[0] has validation accuracy 2, want 0 to 1"},
		{"batch beyond the epoch", dist, func(c *ckptState) { c.Batch = 1000000 }, "batch 1000000 is outside the 29 batches of an epoch"},
		{"negative batch", dist, func(c *ckptState) { c.Batch = -1 }, "batch -1 is outside the 29 batches of an epoch"},
		{"batch after the end", dist, func(c *ckptState) { c.Done = true }, "batch 11 of an epoch after training ended (epoch 1 of 4, done true)"},
		{"negative epoch_rows", dist, func(c *ckptState) { c.EpochRows = -5 }, "epoch_rows -5, want 352 (batch 11 of 32 rows)"},
		{"epoch_loss without rows", hard, func(c *ckptState) { c.EpochLoss = 3 }, "epoch_loss 3 with no rows done in the epoch"},
		{"optimizer steps", dist, func(c *ckptState) { c.Batch, c.EpochRows = 5, 160 }, "the optimizer has taken 40 steps, epoch 1 and batch 5 make 34"},
		{"optimizer settings", dist, func(c *ckptState) {
			var o Optimizer
			if err := o.UnmarshalBinary(c.opt); err != nil {
				t.Fatal(err)
			}
			o.cfg.Beta1 = 0.8
			c.opt, _ = o.MarshalBinary()
		}, `the optimizer state is for {"kind":"adam","beta1":0.8,`},
		{"negative elapsed_s", hard, func(c *ckptState) { c.Elapsed = -1 }, "elapsed_s -1 is negative"},
		{"best_epoch out of range", dist, func(c *ckptState) { c.BestEpoch = -1 }, "best_epoch -1 is not one of the 1 epochs completed"},
		{"best_val", dist, func(c *ckptState) { c.BestVal = 0.5 }, "best_val 0.5, history has"},
		{"best not the best", hard, func(c *ckptState) {
			for i := range c.History {
				if i+1 != c.BestEpoch {
					c.History[i].ValAccuracy = 1
				}
			}
		}, "is not the first epoch of the best validation accuracy"},
		{"since_best", dist, func(c *ckptState) { c.SinceBest = 1e9 }, "since_best 1000000000, want 0 (epoch 1 − best_epoch 1)"},
		{"done without patience run out", hard, func(c *ckptState) { c.Done = true }, "done true with since_best"},
		{"best weights missing", dist, func(c *ckptState) { c.bestTheta = nil }, "no best-epoch weights, which a run that restores the best epoch keeps"},
		{"best weights unasked", hard, func(c *ckptState) { c.bestTheta = slices.Clone(c.student.Theta) }, "best-epoch weights, which only a run that restores the best epoch keeps"},
		{"queries of training", hard, func(c *ckptState) { c.Queries = 7 }, "queries 7, but hard-label training queries no teacher"},
		{"queries of distillation", dist, func(c *ckptState) { c.Queries = 5 }, "queries 5, the transfer set has 900 rows"},
		{"transfer set rows", dist, func(c *ckptState) {
			c.XRows, c.x, c.tgt, c.Labels = 899, c.x[:899*c.XCols], c.tgt[:899*c.TCols], c.Labels[:899]
		}, "x_rows 899, the run's transfer set has 900 rows"},
		{"transfer labels dropped", dist, func(c *ckptState) { c.Labels = nil }, `labels missing, but the training data "digits/train" is labelled`},
		{"student activation", dist, func(c *ckptState) { c.student.Act = model.ActTanh }, "the student's activation is tanh, the run's is relu"},
		{"student classes", hard, func(c *ckptState) { c.student.Labels[0] = "zero" }, "the student's classes [zero 1 2"},
		{"student standardisation", hard, func(c *ckptState) { c.student.Norm.Mean[3]++ }, "the student's input standardisation is not the training data's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, data := dcfg, dckpt
			if tt.run == hard {
				cfg, data = tcfg, tckpt
			}
			path := filepath.Join(t.TempDir(), "run.ckpt")
			c, err := decodeCheckpoint(data)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(c)
			if err := saveCheckpoint(path, c); err != nil {
				t.Fatal(err)
			}
			cfg.CheckpointPath, cfg.Resume = path, true
			_, err = Train(context.Background(), cfg)
			if tt.want == "" {
				if err != nil {
					t.Errorf("resume: error %v, want none", err)
				}
				return
			}
			prefix := "checkpoint " + path + ": "
			if err == nil || !errors.Is(err, ErrCheckpoint) || !strings.HasPrefix(err.Error(), prefix) ||
				!strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("resume: got error %v; want one line starting %q, containing %q and wrapping ErrCheckpoint", err, prefix, tt.want)
			}
		})
	}
}

// resum returns the checkpoint data with its JSON header and binary
// sections changed by edit and the lengths and checksum recomputed, as a
// hand-edited file would be.
func resum(t *testing.T, data []byte, edit func(hdr map[string]any, secs [][]byte)) []byte {
	t.Helper()
	body := data[:len(data)-sha256.Size]
	hl := binary.LittleEndian.Uint32(body[8:12])
	var hdr map[string]any
	if err := json.Unmarshal(body[12:12+hl], &hdr); err != nil {
		t.Fatal(err)
	}
	rest := body[12+hl:]
	var secs [][]byte
	for _, n := range hdr["sections"].([]any) {
		k := int(n.(float64))
		secs, rest = append(secs, rest[:k]), rest[k:]
	}
	edit(hdr, secs)
	lens := make([]int, len(secs))
	for i, s := range secs {
		lens[i] = len(s)
	}
	hdr["sections"] = lens
	hb, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(ckptMagic), binary.LittleEndian.AppendUint32(nil, uint32(len(hb)))...)
	out = append(append(out, hb...), bytes.Join(secs, nil)...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// TestResumeUnreadable resumes from a checkpoint with an unreadable
// field: the error is one line naming the file and the field. A bad
// epoch_rng and a bad student section used to print errors.Join's two
// lines ("checkpoint a.lnm.ckpt: rng: bad checkpoint\ninvalid PCG
// encoding").
func TestResumeUnreadable(t *testing.T) {
	sp, _ := digits(t)
	cfg := Config{Train: sp.Train, Val: sp.Val, Hidden: []int{8}, Epochs: 3, Seed: 5}
	data := interruptedCheckpoint(t, cfg, func(s int64, _ int) bool { return s == 50 })
	tests := []struct {
		name string
		edit func(hdr map[string]any, secs [][]byte)
		want string // after "checkpoint PATH: "
		is   error
	}{
		{"epoch_rng", func(h map[string]any, _ [][]byte) { h["epoch_rng"] = "AAAA" }, "epoch_rng: invalid PCG encoding: bad checkpoint", ErrCheckpoint},
		{"student", func(_ map[string]any, s [][]byte) { s[0] = []byte("junk") }, "student: ", ErrCheckpoint},
		{"optimizer", func(_ map[string]any, s [][]byte) { s[1] = []byte("junk") }, "optimizer state: bad magic: bad optimizer state", ErrOptimizerState},
		{"header", func(h map[string]any, _ [][]byte) { h["epoch"] = "one" }, "header: json: cannot unmarshal", ErrCheckpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "run.ckpt")
			if err := os.WriteFile(path, resum(t, data, tt.edit), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := cfg
			cfg.CheckpointPath, cfg.Resume = path, true
			_, err := Train(context.Background(), cfg)
			prefix := "checkpoint " + path + ": " + tt.want
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || strings.Contains(err.Error(), "\n") || !errors.Is(err, tt.is) {
				t.Errorf("resume: got error %q; want one line starting %q, wrapping %v", err, prefix, tt.is)
			}
		})
	}
	// The edit alone makes the difference.
	path := filepath.Join(t.TempDir(), "run.ckpt")
	if err := os.WriteFile(path, resum(t, data, func(map[string]any, [][]byte) {}), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.CheckpointPath, cfg.Resume = path, true
	if _, err := Train(context.Background(), cfg); err != nil {
		t.Errorf("resume from the re-summed checkpoint: %v", err)
	}
}

// TestResume interrupts a run mid-epoch and checks that resuming gives the
// same bytes as an uninterrupted run without querying the teacher again.
func TestResume(t *testing.T) {
	sp, teacher := digits(t)
	want, err := Train(context.Background(), smallConfig(sp, teacher))
	if err != nil {
		t.Fatal(err)
	}
	for _, stopAt := range []int64{1, 40, 57} { // 900 rows / 32 = 29 steps per epoch
		path := filepath.Join(t.TempDir(), "run.ckpt")
		ctx, cancel := context.WithCancel(context.Background())
		cfg := smallConfig(sp, teacher)
		cfg.CheckpointPath, cfg.Resume = path, true
		cfg.stepHook = func(s int64) {
			if s == stopAt {
				cancel()
			}
		}
		_, err := Train(ctx, cfg)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stop at %d: error %v, want context.Canceled", stopAt, err)
		}
		var ie *InterruptedError
		if !errors.As(err, &ie) || ie.Checkpoint != path || ie.Epoch != int(stopAt-1)/29+1 {
			t.Fatalf("stop at %d: error %#v, want an *InterruptedError naming checkpoint %s, epoch %d", stopAt, err, path, int(stopAt-1)/29+1)
		}
		ct := &countingModel{Model: teacher}
		cfg = smallConfig(sp, ct)
		cfg.CheckpointPath, cfg.Resume = path, true
		// The checkpoint's history handed to OnResume and the epochs
		// Progress reports after it are every epoch once, in order.
		var seen []EpochStats
		cfg.OnResume = func(h []EpochStats) error {
			if seen != nil {
				t.Errorf("stop at %d: OnResume called twice", stopAt)
			}
			seen = append([]EpochStats{}, h...)
			return nil
		}
		cfg.Progress = func(s EpochStats) { seen = append(seen, s) }
		got, err := Train(context.Background(), cfg)
		if err != nil {
			t.Fatalf("stop at %d: resume: %v", stopAt, err)
		}
		if len(seen) != len(want.History) {
			t.Errorf("stop at %d: OnResume and Progress reported %d epochs, want %d", stopAt, len(seen), len(want.History))
		}
		for i := range min(len(seen), len(want.History)) {
			g, w := seen[i], want.History[i]
			g.Elapsed, w.Elapsed = 0, 0
			if g != w {
				t.Errorf("stop at %d: epoch %d reported as %+v, want %+v", stopAt, i+1, g, w)
			}
		}
		if !got.Resumed || ct.rows.Load() != 0 {
			t.Errorf("stop at %d: resumed %v, teacher rows queried %d; want true, 0", stopAt, got.Resumed, ct.rows.Load())
		}
		if !bytes.Equal(encode(t, got.Student), encode(t, want.Student)) {
			t.Errorf("stop at %d: resumed run differs from uninterrupted run", stopAt)
		}
		if got.Steps != want.Steps || got.Queries != want.Queries || len(got.History) != len(want.History) {
			t.Errorf("stop at %d: steps %d queries %d epochs %d, want %d %d %d", stopAt,
				got.Steps, got.Queries, len(got.History), want.Steps, want.Queries, len(want.History))
		}
		// An OnResume error stops the resumed run before it trains.
		boom := errors.New("boom")
		cfg.OnResume = func([]EpochStats) error { return boom }
		cfg.Progress = func(EpochStats) { t.Errorf("stop at %d: trained on after OnResume failed", stopAt) }
		if _, err := Train(context.Background(), cfg); err != boom {
			t.Errorf("stop at %d: OnResume failing: error %v, want its error", stopAt, err)
		}
		cfg.OnResume, cfg.Progress = nil, nil
		// A different configuration must not resume from this checkpoint.
		cfg.Seed++
		if _, err := Train(context.Background(), cfg); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("resume with another seed: error %v, want ErrCheckpoint", err)
		}
	}
}

// TestResumeMismatchedOptimizer resumes from a checkpoint whose checksum
// and configuration hash are right but whose optimizer state is for 3
// parameters: Train refuses it with ErrCheckpoint (it used to panic in
// Optimizer.Step).
func TestResumeMismatchedOptimizer(t *testing.T) {
	sp, teacher := digits(t)
	path := filepath.Join(t.TempDir(), "run.ckpt")
	cfg := interruptedAt(t, smallConfig(sp, teacher), path, 40)
	c, ok, err := loadCheckpoint(path)
	if !ok || err != nil {
		t.Fatalf("loadCheckpoint: %v %v", ok, err)
	}
	var o Optimizer
	if err := o.UnmarshalBinary(c.opt); err != nil {
		t.Fatal(err)
	}
	c.opt, _ = NewOptimizer(o.cfg, 3).MarshalBinary()
	if err := saveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), cfg); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("resume with a 3-parameter optimizer: error %v, want ErrCheckpoint", err)
	}
}

// mixedScales returns a labelled dataset of 200 rows whose first feature
// spans 0–4000 and whose others spread by about 0.3: their standard
// deviations are below StdFloor times the global range, not times the
// median feature's.
func mixedScales(t *testing.T) *dataset.Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d = 200, 5
	x := blas32.General{Rows: n, Cols: d, Stride: d, Data: make([]float32, n*d)}
	y := make([]int, n)
	for i := range n {
		y[i] = i % 2
		x.Data[i*d] = float32(rng.Float64() * 4000)
		for j := 1; j < d; j++ {
			x.Data[i*d+j] = float32(float64(y[i])*0.5 + rng.NormFloat64()*0.3)
		}
	}
	ds, err := dataset.New("mixed", x, y, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestResumeGlobalRangeCheckpoint resumes a checkpoint whose student holds
// the standardisation of lineage before 7 December 2026
// (dataset.GlobalRangeStandardizer) on data of mixed scales, where it
// differs from today's: the run resumes and keeps the standardisation it
// began with. `lineage train --resume` of a CSV run interrupted under the
// older lineage said "the student's input standardisation is not the
// training data's: bad checkpoint" and could only start again. Another
// standardisation is still refused.
func TestResumeGlobalRangeCheckpoint(t *testing.T) {
	tr := mixedScales(t)
	oldMean, oldStd := dataset.GlobalRangeStandardizer(tr)
	if _, std := dataset.Standardizer(tr); slices.Equal(std, oldStd) {
		t.Fatal("the fixture's standardisations are the same: it tests nothing")
	}
	cfg := Config{Train: tr, Hidden: []int{8}, Epochs: 4, Seed: 5}
	written := interruptedCheckpoint(t, cfg, func(_ int64, e int) bool { return e == 2 })
	for _, tt := range []struct {
		name string
		std  func() []float32
		want string
	}{
		{"before 7 December 2026", func() []float32 { return oldStd }, ""},
		{"another", func() []float32 { s := slices.Clone(oldStd); s[2] *= 2; return s }, "the student's input standardisation is not the training data's"},
	} {
		c, err := decodeCheckpoint(written)
		if err != nil {
			t.Fatal(err)
		}
		c.student.Norm = model.Normalization{Mean: slices.Clone(oldMean), Std: tt.std()}
		path := filepath.Join(t.TempDir(), "run.ckpt")
		if err := saveCheckpoint(path, c); err != nil {
			t.Fatal(err)
		}
		run := cfg
		run.CheckpointPath, run.Resume = path, true
		res, err := Train(context.Background(), run)
		switch {
		case tt.want != "":
			if err == nil || !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s: resume error %v, want ErrCheckpoint saying %q", tt.name, err, tt.want)
			}
		case err != nil:
			t.Errorf("%s: resume error %v, want none", tt.name, err)
		case !slices.Equal(res.Student.Norm.Std, oldStd) || !slices.Equal(res.Student.Norm.Mean, oldMean):
			t.Errorf("%s: resumed student's standardisation std %v, want the checkpoint's %v", tt.name, res.Student.Norm.Std, oldStd)
		}
	}
}
