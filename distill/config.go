package distill

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// Defaults used when the corresponding Config field is zero. They were tuned
// on the embedded digits (standard split, seed 1); see doc.go for the
// figures they give.
const (
	DefaultTemperature = 4.0
	DefaultAlpha       = 0.9
	DefaultEpochs      = 40
	DefaultBatchSize   = 32
	DefaultLR          = 5e-3  // Adam / AdamW
	DefaultWeightDecay = 1e-3  // L2 (sgd, adam) or decoupled (adamw)
	DefaultSGDLR       = 5e-2  // SGD
	DefaultQueryBatch  = 512   // rows per teacher Predict call
	DefaultMinLRFrac   = 0.01  // cosine floor as a fraction of LR
	defaultHiddenUnits = 64    // student hidden layer when Hidden is empty
	maxTemperature     = 1000. // sanity bound
)

// MaxTemperature is the largest distillation temperature a Config may set.
const MaxTemperature = maxTemperature

// MinTemperature is the smallest distillation temperature a Config may
// set. The arithmetic breaks far below it: the logits are divided by T in
// float64, so at T = 1e-320 z/T overflows and the first loss is NaN
// (finite down to about 1e-300). Long before that the soft term stops
// teaching: its gradient is T·(q − P), at most T in size (the T² factor
// times the 1/T of the tempered softmax), and below about 1e-3 it is lost
// beside weight decay and Adam's ε. A student of the digits at α = 1
// reached 74% test accuracy at T = 0.01, 39% at 0.001 and chance (11%)
// at 1e-6. So temperatures below 0.001 are refused rather than trained
// to no effect.
const MinTemperature = 1e-3

// MaxTransferValues bounds the transfer set a distillation builds: queries
// times features (1<<30 float32 values, 4 GiB).
const MaxTransferValues = 1 << 30

// ErrConfig is wrapped by every error about an invalid Config.
var ErrConfig = errors.New("invalid training configuration")

// ErrData is wrapped, beside ErrConfig, by the errors about a Config's
// training data itself rather than its settings: no rows, no features, no
// labels, a single class. A command line reports those as a problem of
// the file, not of its flags.
var ErrData = errors.New("unusable training data")

// dataError is an error about the training data; it wraps ErrData and
// ErrConfig, and its message is the problem alone.
type dataError string

func (e dataError) Error() string { return string(e) }

// Is makes errors.Is(err, ErrData) and errors.Is(err, ErrConfig) true.
func (e dataError) Is(target error) bool { return target == ErrData || target == ErrConfig }

func dataErr(format string, args ...any) error {
	return dataError(fmt.Sprintf(format, args...))
}

// LabelMismatchError reports a teacher whose output labels differ from the
// dataset's (different count or names); distillation needs them aligned.
type LabelMismatchError struct {
	Teacher, Dataset []string
}

// Error lists both label sets and how they differ.
func (e *LabelMismatchError) Error() string {
	return fmt.Sprintf("teacher labels %s do not match dataset labels %s (%s)",
		model.LabelList(e.Teacher), model.LabelList(e.Dataset), model.LabelDiff(e.Teacher, e.Dataset))
}

// Is makes errors.Is(err, ErrConfig) true.
func (e *LabelMismatchError) Is(target error) bool { return target == ErrConfig }

// EpochStats is what the Progress callback receives after every epoch (and
// what Result.History records).
type EpochStats struct {
	Epoch       int     `json:"epoch"`  // 1-based
	Epochs      int     `json:"epochs"` // planned total
	TrainLoss   float64 `json:"train_loss"`
	ValAccuracy float64 `json:"val_accuracy"` // 0 without a validation set
	ValLoss     float64 `json:"val_loss"`     // mean cross-entropy on validation labels; 0 without
	LR          float64 `json:"lr"`           // learning rate of the epoch's last step
	Steps       int64   `json:"steps"`        // optimizer steps so far
	EpochSteps  int     `json:"epoch_steps"`  // steps per epoch
	Elapsed     float64 `json:"elapsed_s"`    // seconds since Train started (this process)
}

// Config describes one training run. Its zero value (with Train set) trains
// a one-hidden-layer student of 64 units on the hard labels; setting Teacher
// makes it a distillation. Zero numeric fields mean the documented
// defaults; string fields take the forms of ParseLoss, model.ParseReveal,
// ParseTransfer, ParseOptimizer and ParseSchedule ("" = their default).
type Config struct {
	// Train is the training split: the student's normalisation comes from
	// it, transfer sets are built from it, and hard-label training (and the
	// α-mixed hard term) uses its labels. Required.
	Train *dataset.Dataset `json:"-"`
	// Val, when it has labels, is evaluated after every epoch (accuracy,
	// cross-entropy) for the callback, early stopping and RestoreBest.
	Val *dataset.Dataset `json:"-"`
	// Teacher, when set, is distilled: it is called only through Predict,
	// once per transfer row, and its outputs are cached. Nil means hard-label
	// training on Train's labels (loss, temperature, α, reveal, transfer and
	// queries are then ignored).
	Teacher model.Model `json:"-"`
	// Student, when set, is cloned and trained (its Norm is replaced by
	// Train's standardisation); nil means model.NewMLP with Hidden and
	// Activation, initialised from Seed.
	Student *model.MLP `json:"-"`
	// Name names the trained model (Result.Student.Name); "" keeps the
	// Student's name or leaves it empty.
	Name string `json:"name,omitempty"`

	Hidden     []int            `json:"hidden,omitempty"`     // hidden sizes, each ≥ 1; empty = [64]
	Activation model.Activation `json:"activation,omitempty"` // "" = relu
	// Init is how a new student's weights start: "" or "normal" (He for
	// relu and gelu, Xavier for tanh, zero biases; model.NewMLP), or
	// "uniform" (PyTorch nn.Linear's default; model.InitUniform). Ignored
	// when Student is set.
	Init string `json:"init,omitempty"`

	Loss        string  `json:"loss,omitempty"`         // soft term, "" = kl
	Temperature float64 `json:"temperature,omitempty"`  // MinTemperature to MaxTemperature; 0 = 4
	Alpha       float64 `json:"alpha,omitempty"`        // soft weight in [0,1]; 0 = 0.9
	Reveal      string  `json:"reveal,omitempty"`       // what the teacher reveals, "" = full
	Transfer    string  `json:"transfer,omitempty"`     // transfer sources, "" = data
	JitterScale float64 `json:"jitter_scale,omitempty"` // 0 = DefaultJitterScale
	Queries     int     `json:"queries,omitempty"`      // exact teacher queries; 0 = Transfer.DefaultQueries

	Epochs      int     `json:"epochs,omitempty"`       // 0 = 40
	BatchSize   int     `json:"batch_size,omitempty"`   // 0 = 32; larger than the rows per epoch means one full batch
	Optimizer   string  `json:"optimizer,omitempty"`    // "" = adam
	LR          float64 `json:"lr,omitempty"`           // 0 = 5e-3 (adam/adamw), 5e-2 (sgd)
	Momentum    float64 `json:"momentum,omitempty"`     // SGD momentum; "nesterov" sets 0.9
	WeightDecay float64 `json:"weight_decay,omitempty"` // L2 (sgd, adam) or decoupled (adamw); 0 = 1e-3, < 0 = none
	ClipNorm    float64 `json:"clip_norm,omitempty"`    // global gradient norm bound; 0 = none
	Schedule    string  `json:"schedule,omitempty"`     // "" = cosine to 1% of LR
	Warmup      int     `json:"warmup,omitempty"`       // linear warm-up steps; 0 = none

	// Patience > 0 stops training when validation accuracy has not improved
	// for that many epochs (needs Val). Zero means train all Epochs.
	Patience int `json:"patience,omitempty"`
	// RestoreBest makes the returned student the weights of the epoch with
	// the best validation accuracy. The default (false) returns the LAST
	// epoch's weights, so that reported figures are not tuned on validation.
	RestoreBest bool `json:"restore_best,omitempty"`

	// Seed drives initialisation, the transfer set and shuffling; the same
	// Config and Seed give bit-identical weights.
	Seed uint64 `json:"seed"`
	// QueryBatch is the number of rows per teacher Predict call; 0 = 512.
	QueryBatch int `json:"query_batch,omitempty"`

	// CheckpointPath, when set, receives a checkpoint after every epoch and
	// on cancellation (written to a temporary file and renamed). It holds the
	// student, optimizer and RNG state and the cached transfer set and
	// teacher outputs, so resuming never queries the teacher again.
	CheckpointPath string `json:"-"`
	// Resume continues from CheckpointPath when that file exists (a missing
	// file starts afresh). The checkpoint must come from the same Config,
	// data and teacher, and agree with the run and with itself (its
	// epoch, batch, history, best epoch and optimizer steps as Train
	// writes them), or Train fails with ErrCheckpoint; the result is
	// bit-identical to an uninterrupted run.
	Resume bool `json:"-"`
	// Progress, when set, is called after every epoch from Train's
	// goroutine, once that epoch's checkpoint is written.
	Progress func(EpochStats) `json:"-"`
	// OnResume, when set, is called once from Train's goroutine when Train
	// continues from a checkpoint, before training on, with the epochs the
	// checkpoint had completed (what Result.History begins with). A
	// process killed between an epoch's checkpoint and its Progress call
	// has reported one epoch fewer than the checkpoint holds, so a caller
	// keeping its own record of the epochs (a log written from Progress)
	// rebuilds it from history here. An error it returns stops Train
	// before any training and is returned as it is.
	OnResume func(history []EpochStats) error `json:"-"`

	// stepHook is called after every optimizer step (tests only).
	stepHook func(step int64)
}

// plan is a validated Config with defaults applied.
type plan struct {
	cfg       Config
	obj       Objective
	transfer  Transfer
	opt       OptimizerConfig
	sched     Schedule
	epochs    int
	batch     int
	rows      int // training rows per epoch: the transfer set's, or the training split's
	lr        float64
	hidden    []int
	act       model.Activation
	queryRows int
	distill   bool
}

func configErr(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrConfig)
}

// Validate reports whether cfg is a valid training configuration, as Train
// would check it before doing any work. Errors wrap ErrConfig.
func (cfg Config) Validate() error {
	_, err := newPlan(cfg)
	return err
}

// newPlan validates cfg and fills in defaults.
func newPlan(cfg Config) (*plan, error) {
	p := &plan{cfg: cfg, distill: cfg.Teacher != nil}
	tr := cfg.Train
	if tr == nil || tr.Len() == 0 {
		return nil, dataErr("no training data")
	}
	if tr.Dim() < 1 {
		return nil, dataErr("training data %q has no features", tr.Name)
	}
	if len(tr.Labels) == 0 {
		return nil, dataErr("training data %q has no class labels", tr.Name)
	}
	if len(tr.Labels) < 2 {
		return nil, dataErr("training data %q has %d class, training needs at least 2", tr.Name, len(tr.Labels))
	}
	if !p.distill && tr.Y == nil {
		return nil, dataErr("hard-label training needs labelled data, %q is unlabelled", tr.Name)
	}
	if !p.distill && distinctClasses(tr.Y) < 2 {
		return nil, dataErr("hard-label training needs at least 2 classes among the rows, %q has 1", tr.Name)
	}
	for _, h := range cfg.Hidden {
		if h < 1 {
			return nil, fieldErr("hidden", cfg.Hidden, "want layer sizes of at least 1")
		}
	}
	if n := len(cfg.Hidden) + 1; n > model.MaxLayers {
		// Trained, such a student could be neither checkpointed nor saved.
		return nil, fieldErr("hidden", cfg.Hidden, "%d hidden layers make a model of %d layers, more than the %d lineage reads", len(cfg.Hidden), n, model.MaxLayers)
	}
	p.hidden = cfg.Hidden
	if len(p.hidden) == 0 {
		p.hidden = []int{defaultHiddenUnits}
	}
	if cfg.Student == nil {
		if sizes := append(append([]int{tr.Dim()}, p.hidden...), len(tr.Labels)); tooManyParams(sizes) {
			return nil, fieldErr("hidden", p.hidden, "a model with layer sizes %v has more than %d parameters", sizes, model.MaxParams)
		}
	}
	act, err := model.ParseActivation(string(cfg.Activation))
	if err != nil {
		return nil, parseErr("activation", string(cfg.Activation), err)
	}
	p.act = act
	switch cfg.Init {
	case "", "normal", "uniform":
	default:
		return nil, fieldErr("init", cfg.Init, "want normal or uniform")
	}
	if s := cfg.Student; s != nil {
		if err := s.Validate(); err != nil {
			return nil, configErr("student: %v", err)
		}
		if s.Sizes[0] != tr.Dim() {
			return nil, configErr("student takes %d inputs, data has %d features", s.Sizes[0], tr.Dim())
		}
		if !slices.Equal(s.Labels, tr.Labels) {
			return nil, configErr("student labels %s do not match dataset labels %s (%s)", model.LabelList(s.Labels), model.LabelList(tr.Labels), model.LabelDiff(s.Labels, tr.Labels))
		}
		if err := checkParams(s.Sizes); err != nil {
			return nil, err
		}
	}

	T := cfg.Temperature
	if T == 0 {
		T = DefaultTemperature
	}
	if !(T >= MinTemperature && T <= maxTemperature) {
		return nil, fieldErr("temperature", cfg.Temperature, "want a temperature from %g to %g", MinTemperature, maxTemperature)
	}
	alpha := cfg.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	if !(alpha >= 0 && alpha <= 1) {
		return nil, fieldErr("alpha", cfg.Alpha, "want a weight from 0 to 1")
	}
	loss, err := ParseLoss(cfg.Loss)
	if err != nil {
		return nil, parseErr("loss", cfg.Loss, err)
	}
	rv, err := model.ParseReveal(cfg.Reveal)
	if err != nil {
		return nil, parseErr("reveal", cfg.Reveal, err)
	}
	p.obj = Objective{Loss: loss, Temperature: T, Alpha: alpha, Reveal: rv}
	if p.transfer, err = ParseTransfer(cfg.Transfer); err != nil {
		return nil, parseErr("transfer", cfg.Transfer, err, ErrTransfer)
	}
	if !(cfg.JitterScale >= 0) || math.IsInf(cfg.JitterScale, 0) {
		return nil, fieldErr("jitter_scale", cfg.JitterScale, "want a finite number ≥ 0")
	}
	p.transfer.JitterScale = cfg.JitterScale
	if cfg.Queries < 0 {
		return nil, fieldErr("queries", cfg.Queries, "want 0 or more")
	}
	// rows is the number of training rows per epoch: the transfer set of a
	// distillation, the training split otherwise.
	rows := tr.Len()
	if p.distill {
		rows = cfg.Queries
		if rows == 0 {
			rows = p.transfer.DefaultQueries(tr.Len())
		}
		if rows > MaxTransferValues/tr.Dim() {
			return nil, fieldErr("queries", cfg.Queries, "want at most %d: %d queries of %d features exceed the transfer set limit of %d values", MaxTransferValues/tr.Dim(), rows, tr.Dim(), MaxTransferValues)
		}
	}
	p.rows = rows
	if p.distill {
		info := cfg.Teacher.Info()
		if info.InputSize != 0 && info.InputSize != tr.Dim() {
			return nil, configErr("teacher takes %d inputs, data has %d features", info.InputSize, tr.Dim())
		}
		if !slices.Equal(info.Labels, tr.Labels) {
			return nil, &LabelMismatchError{Teacher: slices.Clone(info.Labels), Dataset: slices.Clone(tr.Labels)}
		}
		if rv.Mode == model.RevealTopK && rv.K >= len(tr.Labels) {
			return nil, fieldErr("reveal", cfg.Reveal, "keeps every one of the teacher's %d labels: that is full", len(tr.Labels))
		}
	}

	p.epochs, p.batch, p.queryRows = cfg.Epochs, cfg.BatchSize, cfg.QueryBatch
	if p.epochs == 0 {
		p.epochs = DefaultEpochs
	}
	if p.batch == 0 {
		p.batch = DefaultBatchSize
	}
	if p.queryRows == 0 {
		p.queryRows = DefaultQueryBatch
	}
	for _, c := range []struct {
		field string
		n     int
	}{{"epochs", p.epochs}, {"batch_size", p.batch}, {"query_batch", p.queryRows}, {"patience", cfg.Patience}, {"warmup", cfg.Warmup}} {
		if c.n < 0 {
			return nil, fieldErr(c.field, c.n, "want 0 or more")
		}
	}
	// A batch larger than the rows of an epoch is one full batch: the
	// same steps, without buffers sized for rows that do not exist.
	p.batch = min(p.batch, rows)
	sizes := append(append([]int{tr.Dim()}, p.hidden...), len(tr.Labels))
	if cfg.Student != nil {
		sizes = cfg.Student.Sizes
	}
	if need := TrainBytes(sizes, p.batch); need > MaxTrainBytes {
		return nil, fieldErr("hidden", p.hidden, "training layer sizes %v on batches of %d rows needs about %.1f GiB of memory, more than the %d GiB lineage allows: use smaller hidden layers or batches",
			sizes, p.batch, float64(need)/(1<<30), MaxTrainBytes>>30)
	}
	if steps := p.stepsPerEpoch(rows); p.epochs > math.MaxInt32/steps {
		return nil, fieldErr("epochs", p.epochs, "want at most %d: at %d steps an epoch, more is too many steps", math.MaxInt32/steps, steps)
	}

	if p.opt, err = ParseOptimizer(cfg.Optimizer); err != nil {
		return nil, parseErr("optimizer", cfg.Optimizer, err)
	}
	if cfg.Momentum != 0 {
		if p.opt.Kind != SGD {
			// Adam and AdamW take no momentum (their moments are their
			// betas): it was ignored, and recorded in the recipe all the same.
			return nil, fieldErr("momentum", cfg.Momentum, "applies to sgd and nesterov only, not %s", p.opt.Kind)
		}
		if !(cfg.Momentum >= 0 && cfg.Momentum < 1) {
			return nil, fieldErr("momentum", cfg.Momentum, "want a number in [0, 1)")
		}
		p.opt.Momentum = cfg.Momentum
	}
	switch wd := cfg.WeightDecay; {
	case wd == 0:
		p.opt.WeightDecay = DefaultWeightDecay
	case math.IsNaN(wd) || math.IsInf(wd, 0):
		return nil, fieldErr("weight_decay", wd, "want a finite number")
	case wd > 0:
		p.opt.WeightDecay = wd
	}
	if err := p.opt.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	p.lr = cfg.LR
	if p.lr == 0 {
		p.lr = DefaultLR
		if p.opt.Kind == SGD {
			p.lr = DefaultSGDLR
		}
	}
	if !(p.lr > 0) || math.IsInf(p.lr, 0) {
		return nil, fieldErr("lr", cfg.LR, "want a finite number > 0")
	}
	if !(cfg.ClipNorm >= 0) || math.IsInf(cfg.ClipNorm, 0) {
		return nil, fieldErr("clip_norm", cfg.ClipNorm, "want a finite number ≥ 0")
	}
	if p.sched, err = ParseSchedule(cfg.Schedule); err != nil {
		return nil, parseErr("schedule", cfg.Schedule, err)
	}
	p.sched.Base = p.lr
	p.sched.Warmup = cfg.Warmup
	if p.sched.Kind == Cosine {
		p.sched.Min = p.lr * DefaultMinLRFrac
	}
	return p, nil
}

// MaxTrainBytes bounds the memory a training run may need (TrainBytes):
// 8 GiB. Models up to model.MaxParams can be stored, but training one of
// a billion parameters would take tens of GB and end in the out-of-memory
// killer, not in an error.
const MaxTrainBytes = 8 << 30

// TrainBytes estimates the memory, in bytes, of training a model of layer
// sizes on batches of batch rows: seven float32 copies of the parameters
// (weights, gradients, Adam's two moments, the best epoch's weights, a
// checkpoint's encoding and a spare) and three of the activations (inputs,
// pre-activations, gradients) of every layer for a batch,
//
//	28·P + 12·batch·Σ sizes.
//
// It saturates at math.MaxInt64 instead of overflowing.
func TrainBytes(sizes []int, batch int) int64 {
	p := model.NumParams(sizes)
	if p < 0 {
		return math.MaxInt64
	}
	var width int64
	for _, s := range sizes {
		width += int64(s)
	}
	b := int64(batch)
	if width > 0 && b > math.MaxInt64/24/width || p > math.MaxInt64/56 {
		return math.MaxInt64
	}
	return 28*int64(p) + 12*b*width
}

// checkParams reports an error unless an MLP with the given layer sizes
// has at most model.MaxParams parameters (the most a model file holds).
func checkParams(sizes []int) error {
	if tooManyParams(sizes) {
		return configErr("a model with layer sizes %v has more than %d parameters", sizes, model.MaxParams)
	}
	return nil
}

// tooManyParams reports whether an MLP with the given layer sizes has
// more than model.MaxParams parameters.
func tooManyParams(sizes []int) bool {
	n := model.NumParams(sizes)
	return n < 0 || n > model.MaxParams
}

// distinctClasses returns the number of distinct values in y, up to 2.
func distinctClasses(y []int) int {
	for _, c := range y {
		if c != y[0] {
			return 2
		}
	}
	return min(len(y), 1)
}

// stepsPerEpoch returns the number of optimizer steps per epoch of rows rows.
func (p *plan) stepsPerEpoch(rows int) int { return (rows + p.batch - 1) / p.batch }
