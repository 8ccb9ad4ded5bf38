package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/eval"
	"github.com/lineage-audit/lineage/internal/tmpfile"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/report"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// trainOptions are the flags train and distill share.
type trainOptions struct {
	data        string
	hidden      string
	activation  string
	init        string
	seed        uint64
	out         string
	name        string
	format      report.Format
	epochs      int
	batchSize   int
	optimizer   string
	lr          float64
	momentum    float64
	weightDecay float64
	clipNorm    float64
	schedule    string
	warmup      int
	patience    int
	restoreBest bool
	checkpoint  string
	resume      bool
	logPath     string
	noProgress  bool
}

func (o *trainOptions) bind(c *cobra.Command, defaultHidden string) {
	f := c.Flags()
	f.StringVar(&o.data, "data", "digits", "dataset: digits, fashion-mnist, fashion-mnist-small, a .csv file or an IDX images file")
	f.StringVar(&o.hidden, "hidden", defaultHidden, "hidden layer sizes, comma-separated (e.g. 256,256)")
	f.StringVar(&o.activation, "activation", "relu", "hidden activation: relu, tanh or gelu")
	f.StringVar(&o.init, "init", "", "a new model's initial weights: normal (default: He or Xavier, zero biases) or uniform (PyTorch nn.Linear's default)")
	f.Uint64Var(&o.seed, "seed", 1, "random seed (same seed, same bytes)")
	f.StringVar(&o.out, "out", "", "output model file (.lnm, or .safetensors)")
	f.StringVar(&o.name, "name", "", "model name recorded in the file (default: the output file's base name)")
	o.format = report.FormatTable
	f.Var(&o.format, "format", formatUsage)
	f.IntVar(&o.epochs, "epochs", 0, "training epochs (0: the default, 40)")
	f.IntVar(&o.batchSize, "batch-size", 0, "mini-batch size (0: the default, 32; more than the rows of an epoch: one batch of them all)")
	f.StringVar(&o.optimizer, "optimizer", "", "optimizer: adam (default), adamw, sgd, nesterov")
	f.Float64Var(&o.lr, "lr", 0, "learning rate (0: the optimizer's default)")
	f.Float64Var(&o.momentum, "momentum", 0, "momentum of --optimizer sgd or nesterov (0: none for sgd, 0.9 for nesterov; refused with adam and adamw)")
	f.Float64Var(&o.weightDecay, "weight-decay", 0, "weight decay (L2 for sgd/adam, decoupled for adamw; 0: 1e-3, negative: none)")
	f.Float64Var(&o.clipNorm, "clip", 0, "clip gradients to this global norm (0: no clipping)")
	f.StringVar(&o.schedule, "schedule", "", "learning-rate schedule: cosine (default), constant, step or step:GAMMA (the rate times GAMMA, default 0.1, after each third of the steps)")
	f.IntVar(&o.warmup, "warmup", 0, "linear warm-up steps")
	f.IntVar(&o.patience, "patience", 0, "stop when validation accuracy has not improved for this many epochs (0: never)")
	f.BoolVar(&o.restoreBest, "restore-best", false, "keep the weights of the best validation epoch instead of the last")
	f.StringVar(&o.checkpoint, "checkpoint", "", "checkpoint file written every epoch (default OUT.ckpt)")
	f.BoolVar(&o.resume, "resume", false, "resume from the checkpoint if it exists")
	f.StringVar(&o.logPath, "log", "", "write one JSON line per epoch to this file (with --resume, rewritten from the checkpoint's epochs, so every epoch appears once)")
	f.BoolVar(&o.noProgress, "no-progress", false, "never show a progress bar")
}

// parseLayerSizes parses the value of flag, comma-separated layer sizes
// such as "256,256", each a whole number of at least 1; "" gives nil.
// Errors are usage errors naming the flag.
func parseLayerSizes(flag, s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, usageError{fmt.Errorf("--%s %q: %q is not a positive layer size (a whole number of at least 1)", flag, s, f)}
		}
		out = append(out, n)
	}
	return out, nil
}

// config builds the distill.Config shared by train and distill.
func (o *trainOptions) config(tr, val *dataset.Dataset) (distill.Config, error) {
	if o.out == "" {
		return distill.Config{}, usageError{errors.New("--out is required (the model file to write)")}
	}
	if err := checkOut(o.out); err != nil {
		return distill.Config{}, err
	}
	hidden, err := parseLayerSizes("hidden", o.hidden)
	if err != nil {
		return distill.Config{}, err
	}
	if len(hidden) == 0 {
		// distill.Config reads no hidden layers as its own default, not the flag's.
		return distill.Config{}, usageError{fmt.Errorf("--hidden %q: want at least one layer size (e.g. 256,256)", o.hidden)}
	}
	name := o.name
	if name == "" {
		name = baseName(o.out)
	}
	ckpt := o.checkpointPath()
	if err := checkDest("--checkpoint", ckpt); err != nil {
		return distill.Config{}, err
	}
	if err := tmpfile.Check(ckpt); err != nil {
		return distill.Config{}, usageError{fmt.Errorf("--checkpoint: %w", err)}
	}
	if o.logPath != "" {
		// The log is opened (and emptied) when training starts: a log
		// in a missing directory, or a directory, failed only then, with
		// exit 1 ("open log: open /nonexist/l.jsonl: no such file or
		// directory"). It may be a pipe or a device (/dev/stderr).
		if err := checkDestDir("--log", o.logPath); err != nil {
			return distill.Config{}, err
		}
		// A link to a missing file is refused, as the files written
		// whole are (checkDest): the open made the link's target, or
		// failed on a missing directory once training started.
		if _, err := os.Stat(o.logPath); errors.Is(err, fs.ErrNotExist) {
			if target, lerr := os.Readlink(o.logPath); lerr == nil {
				return distill.Config{}, usageError{fmt.Errorf("--log %q is a symbolic link to %q, which leads to no file: lineage makes no file through a link (give the path the log is to have)", o.logPath, target)}
			}
		}
		if _, err := os.Lstat(o.logPath); errors.Is(err, fs.ErrNotExist) {
			// Opened in place, an existing log needs no room in its
			// directory; a new one does.
			if err := checkWritableDir("--log", o.logPath); err != nil {
				return distill.Config{}, err
			}
		}
	}
	if samePath(ckpt, o.out) {
		// The checkpoint is removed once the model is saved.
		return distill.Config{}, usageError{fmt.Errorf("--checkpoint %q is the --out file: the checkpoint is deleted after training, so it must be another file", o.checkpoint)}
	}
	return distill.Config{
		Train: tr, Val: val, Name: name,
		Hidden: hidden, Activation: model.Activation(o.activation), Init: o.init,
		Epochs: o.epochs, BatchSize: o.batchSize, Optimizer: o.optimizer, LR: o.lr,
		Momentum: o.momentum, WeightDecay: o.weightDecay, ClipNorm: o.clipNorm,
		Schedule: o.schedule, Warmup: o.warmup, Patience: o.patience, RestoreBest: o.restoreBest,
		Seed: o.seed, CheckpointPath: ckpt, Resume: o.resume,
	}, nil
}

// checkpointPath is --checkpoint, by default OUT.ckpt.
func (o *trainOptions) checkpointPath() string {
	if o.checkpoint == "" {
		return o.out + ".ckpt"
	}
	return o.checkpoint
}

// namedPath is a file a command reads or writes, with the flag naming it.
type namedPath struct{ flag, path string }

// checkApart refuses, before any work, a file the command writes (--out,
// the checkpoint, --log) that is another file it writes or one it reads
// (reads: --data, --teacher, the database): --log, opened for writing at
// the start, emptied the database, the teacher or the training data it
// named (exit 1 or even 0, the file gone), and --out replaced them at the
// end. A written file that holds a database (notADatabase) is refused too:
// train has no --db, and `train --log case.db` replaced a database.
func (o *trainOptions) checkApart(reads ...namedPath) error {
	writes := []namedPath{{"--out", o.out}, {"--checkpoint", o.checkpointPath()}}
	if o.logPath != "" {
		writes = append(writes, namedPath{"--log", o.logPath})
	}
	for i, w := range writes {
		for _, other := range append(slices.Clone(writes[:i]), reads...) {
			if other.path != "" && samePath(w.path, other.path) {
				return usageError{fmt.Errorf("%s %q is the %s file: it would be written over; choose another file", w.flag, w.path, other.flag)}
			}
		}
		if err := notADatabase(w.flag, w.path); err != nil {
			return err
		}
		if w.flag != "--out" && isModelFile(w.path) {
			// --out replaces a model by design; the log and the
			// checkpoint wrote over one (the checkpoint's file was
			// said to hold an interrupted run, to be removed).
			return usageError{fmt.Errorf("%s %q is a model file: it would be written over; choose another file", w.flag, w.path)}
		}
	}
	return nil
}

// dataFiles are the files --data names that the command reads: none for a
// built-in dataset's name (a file of that name in the working directory is
// not read), the labels file beside IDX images as well as the images.
func dataFiles(data string) []namedPath {
	var out []namedPath
	for _, f := range dataset.Files(data) {
		out = append(out, namedPath{"--data", f})
	}
	return out
}

// samePath reports whether a and b name the same file: the same absolute
// path once cleaned, or the same existing file (a link).
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	ba, err2 := filepath.Abs(b)
	if err1 == nil && err2 == nil && aa == ba {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// validateConfig checks cfg as distill.Train will, before any work (or a
// database) is started; an invalid configuration is a usage error, one
// naming the flag at fault first when the error names a field
// (configFlagError).
func validateConfig(f *pflag.FlagSet, cfg distill.Config) error {
	if err := cfg.Validate(); err != nil {
		return configError(configFlagError(f, err))
	}
	return nil
}

// configFlagError is err, a *distill.FieldError of a field set by one of
// f's flags (configFlags), as the usage error naming that flag and the value given
// first: "--epochs -1: want 0 or more" (it read "epochs must be ≥ 0, got
// -1: invalid training configuration"). Other errors are returned as
// they are.
func configFlagError(f *pflag.FlagSet, err error) error {
	var fe *distill.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	// configFlags names a field's flag, or says what else sets it.
	name, ok := strings.CutPrefix(configFlags[fe.Field], "--")
	fl := f.Lookup(name)
	if !ok || fl == nil {
		return err
	}
	v := fl.Value.String()
	if short := fmt.Sprintf("%.57s", v); short != v {
		v = short + "…" // thousands of --hidden layers are not worth printing
	}
	return usageError{fmt.Errorf("--%s %s: %s", name, v, fe.Problem)}
}

// configError makes errors about the training configuration usage errors;
// those about the data itself (a single class, no labels) stay errors of
// the data file.
func configError(err error) error {
	if errors.Is(err, distill.ErrConfig) && !errors.Is(err, distill.ErrData) {
		return usageError{err}
	}
	return err
}

// checkTestSplit fails when the split of data that train, distill and eval
// report on is empty: its metrics would be zeros.
func checkTestSplit(sp dataset.Split, data string) error {
	if sp.Test.Len() == 0 {
		return fmt.Errorf("test split of %s is empty: %d rows are too few to hold any out for testing", data, sp.Train.Len()+sp.Val.Len())
	}
	return nil
}

func baseName(path string) string {
	b := path
	if i := strings.LastIndexAny(b, `/\`); i >= 0 {
		b = b[i+1:]
	}
	if i := strings.LastIndex(b, "."); i > 0 {
		b = b[:i]
	}
	return b
}

// isTerminal reports whether w is a terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// runTraining runs cfg with progress, the JSON-lines log and checkpoints,
// then saves the model to out. On cancellation the checkpoint is kept and
// no model file is written.
func (o *trainOptions) runTraining(ctx context.Context, c *cobra.Command, cfg distill.Config, desc string) (*distill.Result, error) {
	release, err := claimOut(o.out)
	if err != nil {
		return nil, err
	}
	defer release()
	if !cfg.Resume && fileExists(cfg.CheckpointPath) {
		// A fresh run would write over it at its first epoch and remove it
		// at the end: the interrupted run's training would be lost.
		return nil, fmt.Errorf("checkpoint %q holds an interrupted run: pass --resume to continue it, or remove the file to start afresh", cfg.CheckpointPath)
	}
	epochs := cfg.Epochs
	if epochs == 0 {
		epochs = distill.DefaultEpochs
	}
	// A log line that cannot be written (a full disk) stops the training
	// at the end of its epoch, which is checkpointed: the run would train
	// on, for hours maybe, only to fail without saving the model.
	ctx, stopTraining := context.WithCancel(ctx)
	defer stopTraining()
	bar := report.NewProgress(c.ErrOrStderr(), epochs, desc, !o.noProgress && isTerminal(c.ErrOrStderr()))
	// An empty validation split validates no epoch: the bar and the log
	// show its accuracy as n/a and null, not 0.
	noVal := cfg.Val == nil || cfg.Val.Len() == 0 || cfg.Val.Y == nil
	var elog *epochLog
	if o.logPath != "" {
		elog = &epochLog{path: o.logPath, noVal: noVal}
		defer elog.close()
		// A run that resumes from a checkpoint rewrites the log from the
		// checkpoint's history (OnResume); until then the log of the run
		// it resumes is left alone, in case the checkpoint is refused.
		if !cfg.Resume || !fileExists(cfg.CheckpointPath) {
			if err := elog.start(nil); err != nil {
				return nil, err
			}
		}
	}
	cfg.OnResume = func(history []distill.EpochStats) error {
		// The bar counts this run's epochs (its description, all of them).
		bar.Skip(len(history))
		if elog == nil {
			return nil
		}
		return elog.start(history)
	}
	cfg.Progress = func(s distill.EpochStats) {
		val := "n/a"
		if !noVal {
			val = fmt.Sprintf("%.4f", s.ValAccuracy)
		}
		bar.Describe(fmt.Sprintf("%s epoch %d/%d loss %.4f val %s", desc, s.Epoch, s.Epochs, s.TrainLoss, val))
		bar.Add(1)
		if elog.add(s) != nil {
			stopTraining()
		}
	}
	res, err := distill.Train(ctx, cfg)
	bar.End(err) // an interrupted or failed run's bar stays at the epochs done
	if err == nil && elog != nil && elog.err != nil {
		// Every epoch trained, a log line failed (the last's): the
		// model is not lost for want of its log.
		if err := saveModel(o.out, res.Student); err != nil {
			return nil, err
		}
		return nil, elog.finished(o.out, cfg.CheckpointPath)
	}
	if err := elog.failure(cfg.CheckpointPath); err != nil {
		return nil, err
	}
	if err != nil {
		var ie *distill.InterruptedError
		if errors.As(err, &ie) {
			if ie.Checkpoint != "" {
				return nil, interrupted{fmt.Sprintf("checkpoint saved to %q; rerun with --resume to continue", ie.Checkpoint), err}
			}
			return nil, err
		}
		if se := (*distill.SaveError)(nil); errors.As(err, &se) && fileExists(se.Path) {
			return nil, fmt.Errorf("%w; the checkpoint of the last epoch saved, %q, is kept: rerun with --resume once there is room", err, se.Path)
		}
		if errors.Is(err, distill.ErrDiverged) && fileExists(cfg.CheckpointPath) {
			// A rerun refuses to start beside it, and --resume would
			// diverge again, step for step.
			return nil, fmt.Errorf("%w; the checkpoint of an earlier epoch, %q, is kept but --resume would diverge again: remove it to train afresh with other settings (a smaller --lr, say)", err, cfg.CheckpointPath)
		}
		return nil, configError(resumeChanged(err))
	}
	if err := saveModel(o.out, res.Student); err != nil {
		return nil, err
	}
	_ = os.Remove(cfg.CheckpointPath)
	return res, nil
}

func saveModel(path string, m *model.MLP) error {
	if strings.HasSuffix(path, ".safetensors") {
		return model.SaveSafetensors(path, m)
	}
	return model.Save(path, m)
}

// trainingReport is the result object train and distill print.
type trainingReport struct {
	Model               string   `json:"model"`
	Recipe              string   `json:"recipe"`
	Epochs              int      `json:"epochs"`
	WeightsEpoch        int      `json:"weights_epoch,omitempty"` // --restore-best: the best validation epoch, whose weights were saved
	Queries             int      `json:"queries,omitempty"`
	Params              int      `json:"params"`
	TrainLoss           float64  `json:"train_loss"`
	ValAccuracy         *float64 `json:"val_accuracy"` // null when the validation split is empty
	TestAccuracy        float64  `json:"test_accuracy"`
	NLL                 float64  `json:"nll"`
	ECE                 float64  `json:"ece"`
	Agreement           *float64 `json:"agreement,omitempty"`
	TeacherTestAccuracy *float64 `json:"teacher_test_accuracy,omitempty"`
	Hash                string   `json:"hash"`
	ElapsedS            float64  `json:"elapsed_s"`
}

func newTrainingReport(out string, res *distill.Result, m eval.Metrics) trainingReport {
	r := trainingReport{
		Model: out, Recipe: res.Recipe, Epochs: res.Epochs, Queries: res.Queries,
		Params: len(res.Student.Theta), TrainLoss: res.TrainLoss,
		TestAccuracy: m.TestAccuracy, NLL: m.NLL, ECE: m.ECE, Agreement: m.Agreement,
		TeacherTestAccuracy: m.TeacherTestAccuracy, Hash: res.Student.Info().Hash, ElapsedS: res.Elapsed,
	}
	if res.BestEpoch > 0 { // 0: no epoch was validated, the split being empty
		r.ValAccuracy = &res.ValAccuracy
	}
	if res.RestoredBest {
		r.WeightsEpoch = res.BestEpoch
	}
	return r
}

func (r trainingReport) kv() report.KV {
	var kv report.KV
	kv.Add("model", report.Text(r.Model))
	kv.Add("recipe", report.Text(r.Recipe))
	kv.Add("epochs", report.Int(int64(r.Epochs)))
	if r.WeightsEpoch > 0 {
		// --restore-best: the loss and validation accuracy below are
		// this epoch's, as are the weights saved.
		kv.Add("weights of epoch (best validation)", report.Int(int64(r.WeightsEpoch)))
	}
	if r.Queries > 0 {
		kv.Add("teacher queries", report.Int(int64(r.Queries)))
	}
	kv.Add("parameters", report.Int(int64(r.Params)))
	kv.Add("train loss", report.Float(r.TrainLoss, 4))
	if r.ValAccuracy != nil {
		kv.Add("validation accuracy", report.Float(*r.ValAccuracy, 4))
	} else {
		kv.Add("validation accuracy", report.Text("n/a"))
		kv.Notes = append(kv.Notes, noValNote)
	}
	kv.Add("test accuracy", report.Float(r.TestAccuracy, 4))
	kv.Add("test NLL", report.Float(r.NLL, 4))
	kv.Add("test ECE", report.Float(r.ECE, 4))
	if r.Agreement != nil {
		kv.Add("top-1 agreement with teacher", report.Float(*r.Agreement, 4))
	}
	if r.TeacherTestAccuracy != nil {
		kv.Add("teacher test accuracy", report.Float(*r.TeacherTestAccuracy, 4))
	}
	kv.Add("sha256", report.Text(r.Hash))
	kv.Add("elapsed (s)", report.Float(r.ElapsedS, 2))
	return kv
}

// noValNote says why a run whose validation split is empty shows no
// validation accuracy.
const noValNote = "validation accuracy n/a: the data has too few rows to hold any out for validation, so no epoch was validated and --patience and --restore-best had nothing to go by"

// printResult writes v as one JSON object, or kv in a text format.
func printResult(w io.Writer, f report.Format, v any, kv report.KV) error {
	if f == report.FormatJSON {
		return writeJSON(w, v)
	}
	return report.RenderKV(w, kv, f)
}
