package distill

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestLossFiniteAtExtremes checks that every loss is finite and not
// negative, with a finite gradient, on valid inputs at the ends of the
// accepted range: temperatures 0.001 and 1000, teachers whose tempered
// probabilities are subnormal or zero, one-hot teachers and huge logits.
func TestLossFiniteAtExtremes(t *testing.T) {
	teachers := map[string][]float32{
		// 0.294/0.6 = 0.49: at T = 0.001 the second entry tempers to
		// 0.49^1000 ≈ 4e-310, a subnormal float64.
		"subnormal when tempered": {0.6, 0.294, 0.106},
		"one-hot":                 {0, 1, 0},
		"float32 subnormal":       {1e-45, 1 - 2e-45, 1e-45},
		"uniform":                 {1. / 3, 1. / 3, 1. / 3},
	}
	logits := map[string][]float32{
		"ordinary": {1, -0.5, 2},
		"huge":     {1e4, -1e4, 0},
		"equal":    {0, 0, 0},
	}
	for _, ls := range []string{"kl", "rkl", "jsd:0.5", "jsd:1e-9", "jsd:0.999999", "tv", "mse", "ce"} {
		loss, err := ParseLoss(ls)
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range []string{"full", "topk:1"} {
			rv, err := model.ParseReveal(rs)
			if err != nil {
				t.Fatal(err)
			}
			for _, T := range []float64{0.001, 1, 1000} {
				for tn, teacher := range teachers {
					for zn, z := range logits {
						name := fmt.Sprintf("%s/%s/T=%g/%s/%s", ls, rs, T, tn, zn)
						o := Objective{Loss: loss, Temperature: T, Reveal: rv}
						g := make([]float32, len(z))
						v := o.Row(g, z, teacher, -1, nil)
						if math.IsNaN(v) || math.IsInf(v, 0) || v < -1e-9*T*T {
							t.Errorf("%s: loss = %g, want finite and not negative", name, v)
						}
						for i, gi := range g {
							if math.IsNaN(float64(gi)) || math.IsInf(float64(gi), 0) {
								t.Errorf("%s: grad[%d] = %g, want finite", name, i, gi)
							}
						}
					}
				}
			}
		}
	}
}

// TestDivergedLastStep checks that weights made non-finite, or so large that
// the outputs overflow, by an epoch's last step stop the run as diverged:
// the loss test at the next step never came, and the checkpoint failed
// instead ("save checkpoint: header: json: unsupported value: NaN", or
// "encode model: parameter 0 is NaN"). Without validation rows (data too
// small to hold any out) overflowing outputs were saved as the model,
// which every later use refused ("output is NaN for input row 0"): the
// training rows are checked instead.
func TestDivergedLastStep(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	tests := []struct {
		name  string
		cfg   Config
		noVal bool
		want  string
	}{
		{"adam, weight decay 1e308", Config{WeightDecay: 1e308}, false, "epoch 1 step 1: parameter 0 is NaN"},
		{"adamw, weight decay 1e308", Config{Optimizer: "adamw", WeightDecay: 1e308}, false, "epoch 1 step 1: parameter 0 is -Inf"},
		{"sgd, lr 1e20", Config{Optimizer: "sgd", LR: 1e20}, false, "epoch 1 step 1: validation loss NaN, the model's outputs overflow"},
		{"sgd, lr 1e20, no validation rows", Config{Optimizer: "sgd", LR: 1e20}, true, `epoch 1 step 1: logit (NaN|[+-]Inf) on training row \d+, the model's outputs overflow`},
		{"adam, weight decay 1e308, no validation rows", Config{WeightDecay: 1e308}, true, "epoch 1 step 1: parameter 0 is NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Train, cfg.Val, cfg.Hidden, cfg.Epochs, cfg.BatchSize, cfg.Seed = sp.Train, sp.Val, []int{16}, 1, math.MaxInt, 1
			if tt.noVal {
				cfg.Val = nil
			}
			cfg.CheckpointPath = filepath.Join(t.TempDir(), "m.ckpt")
			_, err := Train(context.Background(), cfg)
			// want is a pattern: which row overflows first depends on
			// the order of the sums (another with -tags openblas).
			if !errors.Is(err, ErrDiverged) || !regexp.MustCompile(tt.want).MatchString(fmt.Sprint(err)) {
				t.Errorf("error %v, want one matching %q and wrapping ErrDiverged", err, tt.want)
			}
			if _, err := os.Stat(cfg.CheckpointPath); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("checkpoint: %v, want none written", err)
			}
		})
	}
}

// TestDivergedValidationInf checks that a model whose logit for some
// validation rows' label overflows to -Inf, its validation loss +Inf, stops
// the run as diverged. Only a NaN loss did: the +Inf went into the epoch's
// history and failed the checkpoint ("save checkpoint: header: json:
// unsupported value: +Inf", to which lineage train added, past the first
// epoch, "rerun with --resume once there is room"). The
// training rows lack class 0, whose logit is -Inf everywhere, so every
// step's loss is finite.
func TestDivergedValidationInf(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	var keep []int
	for i, y := range sp.Train.Y {
		if y != 0 {
			keep = append(keep, i)
		}
	}
	st := model.NewMLP([]int{64, 4, 10}, model.ActReLU, sp.Train.Labels, rand.New(rand.NewPCG(1, 2)))
	clear(st.Theta)
	st.B(0)[0] = 1e19       // hidden unit 0 is 1e19 on every row
	st.W(1).Data[0] = -1e20 // and class 0's logit -1e39: -Inf
	cfg := Config{Train: sp.Train.Subset(keep), Val: sp.Val, Student: st, Epochs: 1, Seed: 1,
		Optimizer: "sgd", LR: 1e-30, WeightDecay: -1, CheckpointPath: filepath.Join(t.TempDir(), "m.ckpt")}
	_, err := Train(context.Background(), cfg)
	if want := "epoch 1 step 36: validation loss +Inf, the model's outputs overflow"; !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want one containing %q and wrapping ErrDiverged", err, want)
	}
	if _, err := os.Stat(cfg.CheckpointPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoint: %v, want none written", err)
	}
}

// TestOverflowRowInf checks that overflowRow finds a row whose logits
// overflow to ±Inf without a NaN, which softmax turns into a one-hot
// answer: which of NaN and ±Inf an overflow gives depends on the order of
// the sums, and lineage train -tags openblas, on a CPU whose kernel fuses
// multiply-adds, saved a model (lr 1e20, no validation rows) that the pure
// Go build refused at every use.
func TestOverflowRowInf(t *testing.T) {
	m := model.NewMLP([]int{2, 2}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 2)))
	w, b := m.W(0), m.B(0)
	copy(w.Data, []float32{3e38, 3e38, 1, 1}) // class 0: two products of 3e39 each, both +Inf
	b[0], b[1] = 0, 0
	x := blas32.General{Rows: 3, Cols: 2, Stride: 2, Data: []float32{0, 0, -1, 0, 10, 10}}
	var tape model.Tape
	logits := m.Forward(&tape, x)
	if v := logits.Data[4]; !math.IsInf(float64(v), 1) {
		t.Fatalf("row 2's logit 0 = %v, want +Inf (the case this test is about)", v)
	}
	for _, v := range logits.Data {
		if math.IsNaN(float64(v)) {
			t.Fatalf("logits %v hold a NaN; want ±Inf only (the case this test is about)", logits.Data)
		}
	}
	if i, v := overflowRow(m, &tape, x); i != 2 || !math.IsInf(float64(v), 1) {
		t.Errorf("overflowRow = %d, %v; want 2, +Inf", i, v)
	}
	if i, _ := overflowRow(m, &tape, blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: x.Data[:4]}); i != -1 {
		t.Errorf("overflowRow of finite rows = %d, want -1", i)
	}
}
