package distill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/eval"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

var (
	digitsOnce    sync.Once
	digitsSplit   dataset.Split
	digitsTeacher *model.MLP
	digitsErr     error
)

// digits returns the standard split of the embedded digits and a teacher
// 64-256-256-10 trained on its hard labels with the default settings and
// seed 1 (trained once per test binary).
func digits(t testing.TB) (dataset.Split, *model.MLP) {
	t.Helper()
	digitsOnce.Do(func() {
		digitsSplit = dataset.Digits().Split(dataset.SplitOptions{})
		var res *Result
		res, digitsErr = Train(context.Background(), Config{
			Train: digitsSplit.Train, Val: digitsSplit.Val, Hidden: []int{256, 256}, Seed: 1, Name: "teacher",
		})
		if digitsErr == nil {
			digitsTeacher = res.Student
		}
	})
	if digitsErr != nil {
		t.Fatal(digitsErr)
	}
	return digitsSplit, digitsTeacher
}

// countingModel counts the rows sent to Predict.
type countingModel struct {
	model.Model
	rows atomic.Int64
}

func (c *countingModel) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	c.rows.Add(int64(x.Rows))
	return c.Model.Predict(ctx, x)
}

// TestDigitsQuality checks the tuned defaults reach the documented figures.
func TestDigitsQuality(t *testing.T) {
	sp, teacher := digits(t)
	ctx := context.Background()
	tm, err := eval.Evaluate(ctx, teacher, sp.Test, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("teacher 64-256-256-10: test accuracy %.4f", tm.TestAccuracy)
	if tm.TestAccuracy < 0.965 {
		t.Errorf("teacher test accuracy %.4f, want ≥ 0.965", tm.TestAccuracy)
	}
	tests := []struct {
		name             string
		cfg              Config
		minAcc, minAgree float64
		wantQueries      int
	}{
		{"kd-16", Config{Hidden: []int{16}, Temperature: 4, Alpha: 0.9}, 0.95, 0.96, sp.Train.Len()},
		{"mixup-label-64", Config{Hidden: []int{64}, Transfer: "mixup", Reveal: "label", Queries: 5000}, 0.90, 0, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Train, cfg.Val, cfg.Seed = sp.Train, sp.Val, 1
			ct := &countingModel{Model: teacher}
			cfg.Teacher = ct
			res, err := Train(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Queries != tt.wantQueries || int(ct.rows.Load()) != tt.wantQueries {
				t.Errorf("queries reported %d, counted %d, want %d", res.Queries, ct.rows.Load(), tt.wantQueries)
			}
			m, err := eval.Evaluate(ctx, res.Student, sp.Test, teacher)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: test accuracy %.4f, agreement %.4f, params %d, %.1fs", tt.name, m.TestAccuracy, *m.Agreement, m.Params, res.Elapsed)
			if m.TestAccuracy < tt.minAcc {
				t.Errorf("test accuracy %.4f, want ≥ %.2f", m.TestAccuracy, tt.minAcc)
			}
			if *m.Agreement < tt.minAgree {
				t.Errorf("agreement %.4f, want ≥ %.2f", *m.Agreement, tt.minAgree)
			}
			if p := res.Student.Prov; p.TeacherHash != teacher.Info().Hash || p.DatasetHash != sp.Train.Hash || p.Queries != tt.wantQueries || p.Recipe == "" {
				t.Errorf("provenance %+v incomplete", p)
			}
		})
	}
}

func encode(t *testing.T, m *model.MLP) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := model.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func smallConfig(sp dataset.Split, teacher model.Model) Config {
	return Config{Train: sp.Train, Val: sp.Val, Teacher: teacher, Hidden: []int{16}, Epochs: 4, Seed: 7,
		Transfer: "data,jitter", Queries: 900}
}

func TestDeterminism(t *testing.T) {
	sp, teacher := digits(t)
	ctx := context.Background()
	a, err := Train(ctx, smallConfig(sp, teacher))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Train(ctx, smallConfig(sp, teacher))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encode(t, a.Student), encode(t, b.Student)) {
		t.Error("two runs with the same seed give different model bytes")
	}
	cfg := smallConfig(sp, teacher)
	cfg.Seed = 8
	c, err := Train(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(encode(t, a.Student), encode(t, c.Student)) {
		t.Error("different seeds give identical model bytes")
	}
}

func TestHardLabelEarlyStop(t *testing.T) {
	sp, _ := digits(t)
	var calls int
	res, err := Train(context.Background(), Config{Train: sp.Train, Val: sp.Val, Hidden: []int{8}, Epochs: 50,
		Patience: 2, RestoreBest: true, Seed: 3, Progress: func(s EpochStats) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if calls != res.Epochs || len(res.History) != res.Epochs {
		t.Errorf("progress calls %d, history %d, epochs %d; want equal", calls, len(res.History), res.Epochs)
	}
	if res.StoppedEarly && res.Epochs-res.BestEpoch != 2 {
		t.Errorf("stopped at epoch %d with best %d, want patience 2", res.Epochs, res.BestEpoch)
	}
	if !res.RestoredBest || res.Queries != 0 {
		t.Errorf("restored %v queries %d, want true 0", res.RestoredBest, res.Queries)
	}
	m, _ := eval.Evaluate(context.Background(), res.Student, sp.Val, nil)
	if m.TestAccuracy != res.BestValAccuracy {
		t.Errorf("restored model val accuracy %.4f, want best %.4f", m.TestAccuracy, res.BestValAccuracy)
	}
	// The result's figures are the restored epoch's, not the last one's.
	best := res.History[res.BestEpoch-1]
	if res.ValAccuracy != best.ValAccuracy || res.TrainLoss != best.TrainLoss {
		t.Errorf("result val accuracy %.4f, train loss %.4f; want the best epoch's %.4f, %.4f", res.ValAccuracy, res.TrainLoss, best.ValAccuracy, best.TrainLoss)
	}
	if res.BestEpoch == res.Epochs {
		t.Errorf("best epoch is the last (%d): the test cannot tell restored figures from the last epoch's", res.Epochs)
	}
}

// fakeTeacher has configurable metadata and uniform outputs.
type fakeTeacher struct {
	in     int
	labels []string
}

func (f fakeTeacher) Info() model.Info {
	return model.Info{Name: "fake", InputSize: f.in, Labels: f.labels}
}
func (f fakeTeacher) Predict(_ context.Context, x blas32.General) (blas32.General, error) {
	c := len(f.labels)
	out := blas32.General{Rows: x.Rows, Cols: c, Stride: c, Data: make([]float32, x.Rows*c)}
	for i := range out.Data {
		out.Data[i] = 1 / float32(c)
	}
	return out, nil
}

func TestConfigErrors(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	good := fakeTeacher{64, dataset.DigitLabels}
	mustData := func(x blas32.General, y []int, labels []string) *dataset.Dataset {
		d, err := dataset.New("tiny", x, y, labels)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	noFeatures := mustData(blas32.General{Rows: 4}, []int{0, 1, 0, 1}, []string{"0", "1"})
	oneLabel := mustData(blas32.General{Rows: 2, Cols: 1, Stride: 1, Data: []float32{1, 2}}, []int{0, 0}, []string{"a"})
	oneClass := mustData(blas32.General{Rows: 2, Cols: 1, Stride: 1, Data: []float32{1, 2}}, []int{0, 0}, []string{"a", "b"})
	tests := []struct {
		name  string
		cfg   Config
		train *dataset.Dataset // nil: the digits training split
		want  string
	}{
		{"no data", Config{}, nil, "no training data"},
		{"no features", Config{}, noFeatures, `training data "tiny" has no features`},
		{"no features distill", Config{Teacher: fakeTeacher{0, []string{"0", "1"}}}, noFeatures, `training data "tiny" has no features`},
		{"one label", Config{}, oneLabel, `training data "tiny" has 1 class, training needs at least 2`},
		{"one class present", Config{}, oneClass, `hard-label training needs at least 2 classes among the rows, "tiny" has 1`},
		{"hidden too large", Config{Hidden: []int{99999999999}}, nil, "more than 1073741824 parameters"},
		{"params too many", Config{Hidden: []int{100000000}}, nil, "a model with layer sizes [64 100000000 10] has more than 1073741824 parameters"},
		// Storable, but training needs about 23 GiB: it ended in the
		// out-of-memory killer.
		{"training memory", Config{Hidden: []int{10000000}}, nil, "training layer sizes [64 10000000 10] on batches of 32 rows needs about 23.1 GiB of memory, more than the 8 GiB lineage allows"},
		{"training memory of one big batch", Config{Hidden: []int{1000000}, BatchSize: 1 << 30}, nil, "on batches of 1259 rows needs about 16.0 GiB"},
		{"queries too many", Config{Teacher: good, Queries: 2e9}, nil, "2000000000 queries of 64 features exceed the transfer set limit of 1073741824 values"},
		{"queries overflow", Config{Teacher: good, Queries: 9e18}, nil, "9000000000000000000 queries of 64 features exceed the transfer set limit"},
		{"epochs overflow", Config{Epochs: 1 << 62}, nil, "too many steps"},
		{"momentum NaN", Config{Optimizer: "sgd", Momentum: math.NaN()}, nil, "momentum NaN: want a number in [0, 1)"},
		// Adam took --momentum without using it, and its recipe said momentum=0.5.
		{"momentum with adam", Config{Momentum: 0.5}, nil, "momentum 0.5: applies to sgd and nesterov only, not adam"},
		{"momentum with adamw", Config{Optimizer: "adamw", Momentum: 0.5}, nil, "momentum 0.5: applies to sgd and nesterov only, not adamw"},
		{"weight decay Inf", Config{WeightDecay: math.Inf(1)}, nil, "weight decay +Inf: want a finite number"},
		{"weight decay NaN", Config{WeightDecay: math.NaN()}, nil, "weight decay NaN: want a finite number"},
		{"jitter Inf", Config{Teacher: good, Transfer: "jitter", JitterScale: math.Inf(1)}, nil, "jitter scale +Inf: want a finite number ≥ 0"},
		{"jitter NaN", Config{Teacher: good, JitterScale: math.NaN()}, nil, "jitter scale NaN: want a finite number ≥ 0"},
		{"clip Inf", Config{ClipNorm: math.Inf(1)}, nil, "clip norm +Inf: want a finite number ≥ 0"},
		// It said "must be > 0, got +Inf".
		{"lr Inf", Config{LR: math.Inf(1)}, nil, "learning rate +Inf: want a finite number > 0"},
		{"temperature too high", Config{Teacher: good, Temperature: 1e9}, nil, "temperature 1e+09: want a temperature from 0.001 to 1000"},
		{"activation", Config{Activation: "foo"}, nil, "activation foo: want relu, tanh or gelu"},
		{"epochs negative", Config{Epochs: -1}, nil, "epochs -1: want 0 or more"},
		{"batch size negative", Config{BatchSize: -3}, nil, "batch size -3: want 0 or more"},
		{"query batch negative", Config{QueryBatch: -2}, nil, "query batch -2: want 0 or more"},
		{"patience negative", Config{Patience: -1}, nil, "patience -1: want 0 or more"},
		{"warm-up negative", Config{Warmup: -5}, nil, "warm-up -5: want 0 or more"},
		{"hidden 0", Config{Hidden: []int{0}}, nil, "hidden layer sizes [0]: want layer sizes of at least 1"},
		// It trained, then its checkpoint was refused: "save checkpoint:
		// student: encode model ...: 4097 layers, at most 4096 allowed".
		{"too many layers", Config{Hidden: slices.Repeat([]int{1}, model.MaxLayers)}, nil, "4096 hidden layers make a model of 4097 layers, more than the 4096 lineage reads"},
		{"temperature", Config{Teacher: good, Temperature: -1}, nil, "temperature -1: want a temperature from 0.001 to 1000"},
		// 1e-320 passed and the first loss was NaN ("training diverged").
		{"temperature too low", Config{Teacher: good, Temperature: 1e-320}, nil, "temperature 1e-320: want a temperature from 0.001 to 1000"},
		{"temperature just too low", Config{Teacher: good, Temperature: 0.00099}, nil, "temperature 0.00099: want a temperature from 0.001 to 1000"},
		{"alpha", Config{Teacher: good, Alpha: 1.5}, nil, "alpha 1.5: want a weight from 0 to 1"},
		{"loss", Config{Teacher: good, Loss: "hinge"}, nil, "unknown loss"},
		{"reveal", Config{Teacher: good, Reveal: "topk:0"}, nil, "K must be at least 1"},
		{"transfer", Config{Teacher: good, Transfer: "data,foo"}, nil, `unknown source "foo"`},
		{"teacher labels", Config{Teacher: fakeTeacher{64, []string{"a", "b"}}}, nil, "teacher labels [a b] do not match dataset labels [0 1 2 3 4 5 6 7 8 9]"},
		{"teacher inputs", Config{Teacher: fakeTeacher{10, dataset.DigitLabels}}, nil, "teacher takes 10 inputs, data has 64"},
		{"optimizer", Config{Optimizer: "rmsprop"}, nil, "want sgd, nesterov, adam or adamw"},
		{"schedule", Config{Schedule: "linear"}, nil, "want constant, step[:gamma] or cosine"},
		{"queries", Config{Teacher: good, Queries: -3}, nil, "queries -3: want 0 or more"},
		{"init", Config{Init: "zeros"}, nil, "initialisation zeros: want normal or uniform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			switch {
			case tt.train != nil:
				cfg.Train = tt.train
			case tt.name != "no data":
				cfg.Train = sp.Train
			}
			_, err := Train(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrConfig) {
				t.Errorf("error %v, want one containing %q and wrapping ErrConfig", err, tt.want)
			}
			if verr := cfg.Validate(); verr == nil || verr.Error() != err.Error() {
				t.Errorf("Validate: %v, want Train's error %v", verr, err)
			}
		})
	}
	// Problems of the data itself wrap ErrData as well; the settings' do not.
	for _, c := range []struct {
		name  string
		train *dataset.Dataset
		cfg   Config
		data  bool
	}{
		{"no data", nil, Config{}, true},
		{"no features", noFeatures, Config{}, true},
		{"one label", oneLabel, Config{}, true},
		{"one class present", oneClass, Config{}, true},
		{"epochs negative", sp.Train, Config{Epochs: -1}, false},
		{"teacher labels", sp.Train, Config{Teacher: fakeTeacher{64, []string{"a", "b"}}}, false},
	} {
		cfg := c.cfg
		cfg.Train = c.train
		err := cfg.Validate()
		if got := errors.Is(err, ErrData); got != c.data || !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v wraps ErrData %v, want %v (and ErrConfig)", c.name, err, got, c.data)
		}
	}
	var lm *LabelMismatchError
	_, err := Train(context.Background(), Config{Train: sp.Train, Teacher: fakeTeacher{64, []string{"x"}}})
	if !errors.As(err, &lm) || len(lm.Teacher) != 1 || len(lm.Dataset) != 10 {
		t.Errorf("error %v, want *LabelMismatchError with 1 and 10 labels", err)
	}
}

// TestHugeBatchSize pins that a batch size beyond the rows of an epoch is
// one full batch: the same weights as a batch of exactly the rows, for
// hard labels and for a distillation with a small query budget.
func TestHugeBatchSize(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	tests := []struct {
		name string
		cfg  Config
		rows int
	}{
		{"hard labels", Config{}, sp.Train.Len()},
		{"distill", Config{Teacher: fakeTeacher{64, dataset.DigitLabels}, Queries: 100}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			train := func(batch int) *Result {
				cfg := tt.cfg
				cfg.Train, cfg.Hidden, cfg.Epochs, cfg.BatchSize, cfg.Seed = sp.Train, []int{8}, 2, batch, 1
				res, err := Train(context.Background(), cfg)
				if err != nil {
					t.Fatalf("batch %d: %v", batch, err)
				}
				return res
			}
			got, want := train(math.MaxInt), train(tt.rows)
			if got.Steps != 2 || !slices.Equal(got.Student.Theta, want.Student.Theta) {
				t.Errorf("batch MaxInt: %d steps, weights equal %v; want 2 steps and the weights of batch %d",
					got.Steps, slices.Equal(got.Student.Theta, want.Student.Theta), tt.rows)
			}
			if !strings.Contains(got.Recipe, fmt.Sprintf(" batch=%d ", tt.rows)) {
				t.Errorf("recipe %q, want batch=%d", got.Recipe, tt.rows)
			}
		})
	}
}

func TestCancelDuringQueries(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "run.ckpt")
	_, err := Train(ctx, Config{Train: sp.Train, Teacher: fakeTeacher{64, dataset.DigitLabels}, CheckpointPath: path})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	// Nothing is saved while the teacher is queried, and the error must
	// not claim a checkpoint (the CLI told users to --resume from it).
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Checkpoint != "" || ie.Epoch != 0 {
		t.Errorf("error %#v, want an *InterruptedError with no checkpoint, epoch 0", err)
	}
	if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("a checkpoint was written: %v", serr)
	}
}

// TestRecipeOptimizer pins that the recipe names the optimizer's momentum
// and Nesterov flag, which change the run: two runs that differ only there
// must not share a recipe.
func TestRecipeOptimizer(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	tests := []struct {
		opt      string
		momentum float64
		want     []string
		wantNot  []string
	}{
		{"sgd", 0, []string{" opt=sgd "}, []string{"momentum", "nesterov"}},
		{"sgd", 0.5, []string{" opt=sgd ", " momentum=0.5"}, []string{"nesterov"}},
		{"nesterov", 0, []string{" opt=sgd ", " momentum=0.9", " nesterov"}, nil},
		{"adam", 0, []string{" opt=adam "}, []string{"momentum", "nesterov"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-%g", tt.opt, tt.momentum), func(t *testing.T) {
			res, err := Train(context.Background(), Config{Train: sp.Train.Subset([]int{0, 1, 2, 3, 4, 5, 6, 7}), Hidden: []int{4},
				Epochs: 1, Seed: 1, Optimizer: tt.opt, Momentum: tt.momentum})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(res.Recipe, w) {
					t.Errorf("recipe %q, want %q in it", res.Recipe, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(res.Recipe, w) {
					t.Errorf("recipe %q, want no %q", res.Recipe, w)
				}
			}
		})
	}
}

// TestInitUniform checks Config.Init: "uniform" starts the student from
// model.InitUniform's draw (so the trained weights differ from the normal
// start's under the same seed), says so in the recipe, and is as
// deterministic as the default.
func TestInitUniform(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	train := func(init string) *Result {
		t.Helper()
		res, err := Train(context.Background(), Config{Train: sp.Train.Subset([]int{0, 1, 2, 3, 4, 5, 6, 7}), Hidden: []int{4},
			Epochs: 1, Seed: 1, Init: init})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	normal, uniform, again := train(""), train("uniform"), train("uniform")
	if !strings.Contains(uniform.Recipe, " init=uniform") || strings.Contains(normal.Recipe, "init=") {
		t.Errorf("recipes %q and %q, want init=uniform in the second only", normal.Recipe, uniform.Recipe)
	}
	if slices.Equal(normal.Student.Theta, uniform.Student.Theta) {
		t.Error("uniform and normal starts trained to the same weights, want different")
	}
	if !slices.Equal(uniform.Student.Theta, again.Student.Theta) {
		t.Error("two uniform runs with one seed differ, want the same weights")
	}
}

// TestOneHotAnswers checks that Result.OneHotAnswers counts the teacher's
// one-hot answers: all of them for a teacher that answers labels whatever
// it is asked (an API serving labels, distilled with Reveal full), none
// for its probabilities.
func TestOneHotAnswers(t *testing.T) {
	sp, teacher := digits(t)
	for _, tt := range []struct {
		name    string
		teacher model.Model
		all     bool
	}{
		{"probabilities", teacher, false},
		{"labels served", model.WithReveal(teacher, model.Reveal{Mode: model.RevealLabel}), true},
	} {
		cfg := smallConfig(sp, tt.teacher)
		cfg.Epochs = 1
		res, err := Train(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.OneHotAnswers, 0; tt.all {
			want = res.Queries
			if got != want || want == 0 {
				t.Errorf("%s: OneHotAnswers %d of %d queries, want all", tt.name, got, res.Queries)
			}
		} else if got != want {
			t.Errorf("%s: OneHotAnswers %d of %d queries, want %d", tt.name, got, res.Queries, want)
		}
	}
	g := blas32.General{Rows: 3, Cols: 3, Stride: 3, Data: []float32{0, 1, 0, 0.5, 0.5, 0, 1, 0, 1e-30}}
	if got := oneHotRows(g); got != 1 {
		t.Errorf("oneHotRows = %d, want 1 (rows: one-hot, split, nearly one-hot)", got)
	}
}
