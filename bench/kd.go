package bench

// This file is the Hinton-shape distillation experiment behind
// `lineage bench kd` (issue 2, item 4).
//
// # The KD experiment
//
// For each dataset (KDSpec) and each seed 1..Seeds, RunKD trains, all with
// distill.Train on the dataset's standard training split:
//
//  1. a teacher (KDSpec.TeacherHidden) on the hard labels;
//  2. a small student (KDSpec.StudentHidden) on the hard labels;
//  3. the same student architecture distilled from that seed's teacher at
//     every temperature in KDOptions.Temperatures (default 1, 4, 10), with
//     α = 0.9 soft weight mixed with the hard-label cross-entropy, the
//     training inputs as transfer set and the full teacher distribution
//     revealed.
//
// All models of one seed start from the same seed (so the hard-label and
// distilled students have identical initial weights), train for the same
// number of epochs with the engine's defaults otherwise (Adam, cosine decay,
// weight decay 1e-3), and are reported with their LAST epoch's weights —
// never the best validation epoch. Each model is evaluated once on the test
// split (eval.Evaluate, against the teacher of its seed), and KDResult
// aggregates the seeds into mean ± sample standard deviation per model.
//
// Fashion-MNIST keeps its official 10,000-image test set (dataset.Split), so
// its figures are comparable with the literature; digits uses lineage's
// fixed stratified 20% test split (359 rows).

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/eval"
	"github.com/lineage-audit/lineage/model"
)

// KD experiment defaults, used when the corresponding KDOptions field is
// zero.
const (
	DefaultKDSeeds = 3
	DefaultKDAlpha = 0.9
)

// DefaultKDTemperatures are the distillation temperatures RunKD uses when
// KDOptions.Temperatures is empty.
var DefaultKDTemperatures = []float64{1, 4, 10}

// DefaultKDDatasets are the datasets RunKD uses when KDOptions.Datasets and
// KDOptions.Specs are both empty.
var DefaultKDDatasets = []string{"digits", "fashion-mnist"}

// ErrKDOptions is wrapped by RunKD's errors about invalid options.
var ErrKDOptions = errors.New("invalid kd bench options")

// KDSpec is the experiment for one dataset: which dataset, the teacher and
// student hidden layers, and the training length. Zero Epochs and BatchSize
// mean the distill package defaults.
type KDSpec struct {
	Dataset       string `json:"dataset"`
	TeacherHidden []int  `json:"teacher_hidden"`
	StudentHidden []int  `json:"student_hidden"`
	Epochs        int    `json:"epochs"`
	BatchSize     int    `json:"batch_size"`
}

// DefaultKDSpec returns the experiment RunKD runs for a dataset name:
//
//   - digits: teacher 64-256-256-10, student 64-16-10, 40 epochs, batch 32
//     (the distill defaults; ~1,259 training rows);
//   - fashion-mnist: teacher 784-512-512-10 (the benchmark shape), student
//     784-32-10 (Hinton et al. used 30 hidden units for their small
//     student), 12 epochs, batch 128 (52,500 training rows).
//
// Any other name (a CSV or IDX path, fashion-mnist-small) gets the digits
// shape.
func DefaultKDSpec(name string) KDSpec {
	switch name {
	case "fashion-mnist":
		return KDSpec{Dataset: name, TeacherHidden: []int{512, 512}, StudentHidden: []int{32}, Epochs: 12, BatchSize: 128}
	default:
		return KDSpec{Dataset: name, TeacherHidden: []int{256, 256}, StudentHidden: []int{16}, Epochs: 40, BatchSize: 32}
	}
}

// KDOptions configures RunKD. The zero value runs DefaultKDDatasets with
// their DefaultKDSpec, seeds 1, 2, 3, temperatures 1, 4, 10 and α = 0.9.
type KDOptions struct {
	// Datasets names the datasets (dataset.Load names); empty means
	// DefaultKDDatasets. Ignored when Specs is set.
	Datasets []string
	// Specs, when set, gives the exact experiments (tests use it for a
	// quick run); empty means DefaultKDSpec of each of Datasets.
	Specs []KDSpec
	// Seeds is the number of seeds, run as 1..Seeds; 0 means
	// DefaultKDSeeds.
	Seeds int
	// Temperatures are the distillation temperatures; empty means
	// DefaultKDTemperatures.
	Temperatures []float64
	// Alpha is the soft-target weight; 0 means DefaultKDAlpha.
	Alpha float64
	// Load options, e.g. a non-default Fashion-MNIST directory.
	Load dataset.LoadOptions
	// Progress, when set, is called after every trained model (from
	// RunKD's goroutine) with the finished run, its 1-based number and the
	// total number of runs.
	Progress func(r KDRun, done, total int)
}

// KDRun is one trained and evaluated model.
type KDRun struct {
	Dataset string `json:"dataset"`
	// Model is "teacher", "student" (hard labels) or "kd" (distilled).
	Model       string  `json:"model"`
	Hidden      []int   `json:"hidden"`
	Temperature float64 `json:"temperature,omitempty"` // 0 unless Model is "kd"
	Seed        uint64  `json:"seed"`
	Epochs      int     `json:"epochs"`
	Params      int     `json:"params"`
	// TestAccuracy and TestErrors are measured on TestRows rows of the
	// test split, with the last epoch's weights.
	TestAccuracy float64 `json:"test_accuracy"`
	TestErrors   int     `json:"test_errors"`
	TestRows     int     `json:"test_rows"`
	// Agreement is the top-1 agreement with the same seed's teacher on the
	// test split (1 for the teacher itself).
	Agreement    float64 `json:"agreement"`
	TrainSeconds float64 `json:"train_s"`
}

// Label returns the run's row name, e.g. "teacher 512-512",
// "student 32 (hard labels)" or "student 32, KD T=4".
func (r KDRun) Label() string {
	h := hiddenString(r.Hidden)
	switch r.Model {
	case "teacher":
		return "teacher " + h
	case "student":
		return "student " + h + " (hard labels)"
	default:
		return "student " + h + ", KD T=" + strconv.FormatFloat(r.Temperature, 'g', -1, 64)
	}
}

// KDRow aggregates the seeds of one model of one dataset: means and sample
// standard deviations (NaN for a single seed, where a spread is not
// measured: null in JSON, left out of the tables).
type KDRow struct {
	Label        string  `json:"model"`
	Seeds        int     `json:"seeds"`
	Params       int     `json:"params"`
	AccMean      float64 `json:"test_accuracy_mean"`
	AccSD        float64 `json:"test_accuracy_sd"`
	ErrorsMean   float64 `json:"test_errors_mean"`
	AgreeMean    float64 `json:"agreement_mean"`
	AgreeSD      float64 `json:"agreement_sd"`
	TrainSeconds float64 `json:"train_s_mean"`
}

// KDDatasetResult is the experiment on one dataset.
type KDDatasetResult struct {
	Spec      KDSpec  `json:"spec"`
	InputDim  int     `json:"input_dim"`
	Classes   int     `json:"classes"`
	TrainRows int     `json:"train_rows"`
	TestRows  int     `json:"test_rows"`
	Rows      []KDRow `json:"rows"`
	Runs      []KDRun `json:"runs"`
	// TeacherTrainAccuracy and TeacherTrainConfidence are the teachers'
	// accuracy and mean top-1 probability (at T = 1) on the training split,
	// which is the transfer set, averaged over seeds. A confidence near 1
	// means the soft targets at T = 1 are almost the hard labels.
	TeacherTrainAccuracy   float64 `json:"teacher_train_accuracy"`
	TeacherTrainConfidence float64 `json:"teacher_train_confidence"`
}

// KDResult is RunKD's outcome.
type KDResult struct {
	Seeds        []uint64          `json:"seeds"`
	Temperatures []float64         `json:"temperatures"`
	Alpha        float64           `json:"alpha"`
	Datasets     []KDDatasetResult `json:"datasets"`
	Elapsed      float64           `json:"elapsed_s"` // wall time of RunKD
	CPUs         int               `json:"cpus"`      // runtime.NumCPU
	BLAS         string            `json:"blas"`      // model.BLASImplementation
}

// RunKD runs the KD experiment (see the package documentation in kd.go).
// It stops with ctx's error when ctx is cancelled.
func RunKD(ctx context.Context, opts KDOptions) (*KDResult, error) {
	start := time.Now()
	specs := opts.Specs
	if len(specs) == 0 {
		names := opts.Datasets
		if len(names) == 0 {
			names = DefaultKDDatasets
		}
		for _, n := range names {
			specs = append(specs, DefaultKDSpec(n))
		}
	}
	seeds := opts.Seeds
	if seeds == 0 {
		seeds = DefaultKDSeeds
	}
	temps := opts.Temperatures
	if len(temps) == 0 {
		temps = DefaultKDTemperatures
	}
	alpha := opts.Alpha
	if alpha == 0 {
		alpha = DefaultKDAlpha
	}
	if seeds < 0 {
		return nil, fmt.Errorf("kd bench: seeds must be ≥ 1, got %d: %w", seeds, ErrKDOptions)
	}
	for i, T := range temps {
		if !(T >= distill.MinTemperature && T <= distill.MaxTemperature) {
			return nil, fmt.Errorf("kd bench: temperature must lie in [%g, %g], got %g: %w", distill.MinTemperature, distill.MaxTemperature, T, ErrKDOptions)
		}
		// A temperature listed twice was trained twice per seed and its
		// row pooled both runs: a spread over identical runs (± 0) and
		// twice the samples the notes count.
		if slices.Contains(temps[:i], T) {
			return nil, fmt.Errorf("kd bench: temperature %g is listed twice: %w", T, ErrKDOptions)
		}
	}
	if !(alpha >= 0 && alpha <= 1) {
		return nil, fmt.Errorf("kd bench: alpha must lie in [0,1], got %g: %w", alpha, ErrKDOptions)
	}
	res := &KDResult{Temperatures: slices.Clone(temps), Alpha: alpha,
		CPUs: runtime.NumCPU(), BLAS: model.BLASImplementation()}
	for s := 1; s <= seeds; s++ {
		res.Seeds = append(res.Seeds, uint64(s))
	}
	// Load every dataset and check every configuration before training
	// anything, so that a bad last dataset or temperature does not cost
	// the runs before it.
	type loaded struct {
		d     *dataset.Dataset
		split dataset.Split
	}
	data := make([]loaded, len(specs))
	for i, sp := range specs {
		d, err := dataset.Load(ctx, sp.Dataset, opts.Load)
		if err != nil {
			return nil, fmt.Errorf("kd bench: %w", err)
		}
		data[i] = loaded{d, d.Split(dataset.SplitOptions{})}
		for _, cfg := range kdConfigs(sp, data[i].split.Train, 1, temps, alpha) {
			if err := cfg.Validate(); err != nil {
				return nil, fmt.Errorf("kd bench: %s, %s: %w: %w", sp.Dataset, cfg.Name, ErrKDOptions, err)
			}
		}
	}
	total := len(specs) * seeds * (2 + len(temps))
	done := 0
	for i, sp := range specs {
		d, split := data[i].d, data[i].split
		data[i] = loaded{} // let a finished dataset be collected
		dr := KDDatasetResult{Spec: sp, InputDim: d.Dim(), Classes: len(d.Labels),
			TrainRows: split.Train.Len(), TestRows: split.Test.Len()}
		for _, seed := range res.Seeds {
			runs, tacc, tconf, err := kdSeed(ctx, sp, split, seed, temps, alpha, func(r KDRun) {
				done++
				if opts.Progress != nil {
					opts.Progress(r, done, total)
				}
			})
			if err != nil {
				return nil, fmt.Errorf("kd bench: %s seed %d: %w", sp.Dataset, seed, err)
			}
			dr.Runs = append(dr.Runs, runs...)
			dr.TeacherTrainAccuracy += tacc / float64(seeds)
			dr.TeacherTrainConfidence += tconf / float64(seeds)
		}
		dr.Rows = aggregate(dr.Runs)
		res.Datasets = append(res.Datasets, dr)
	}
	res.Elapsed = time.Since(start).Seconds()
	return res, nil
}

// kdSeed trains and evaluates the teacher, the hard-label student and the
// distilled students of one seed; it also returns the teacher's accuracy
// and mean top-1 probability on the training split.
func kdSeed(ctx context.Context, sp KDSpec, split dataset.Split, seed uint64, temps []float64, alpha float64, done func(KDRun)) (runs []KDRun, tacc, tconf float64, err error) {
	cfgs := kdConfigs(sp, split.Train, seed, temps, alpha)
	tcfg, scfg, kcfgs := cfgs[0], cfgs[1], cfgs[2:]
	tres, err := distill.Train(ctx, tcfg)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("teacher: %w", err)
	}
	teacher := tres.Student
	p, err := teacher.Predict(ctx, split.Train.X)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("teacher on training data: %w", err)
	}
	tacc = eval.Accuracy(p, split.Train.Y)
	for i := 0; i < p.Rows; i++ {
		tconf += float64(slices.Max(p.Data[i*p.Stride : i*p.Stride+p.Cols]))
	}
	tconf /= float64(p.Rows)
	add := func(r KDRun, res *distill.Result) error {
		met, err := eval.Evaluate(ctx, res.Student, split.Test, teacher)
		if err != nil {
			return err
		}
		r.Dataset, r.Seed, r.Epochs = sp.Dataset, seed, res.Epochs
		r.Params, r.TestRows = met.Params, met.Rows
		r.TestAccuracy = met.TestAccuracy
		r.TestErrors = int(math.Round((1 - met.TestAccuracy) * float64(met.Rows)))
		r.Agreement = *met.Agreement
		r.TrainSeconds = res.Elapsed
		runs = append(runs, r)
		done(r)
		return nil
	}
	if err := add(KDRun{Model: "teacher", Hidden: sp.TeacherHidden}, tres); err != nil {
		return nil, 0, 0, fmt.Errorf("teacher: %w", err)
	}
	sres, err := distill.Train(ctx, scfg)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("hard-label student: %w", err)
	}
	if err := add(KDRun{Model: "student", Hidden: sp.StudentHidden}, sres); err != nil {
		return nil, 0, 0, fmt.Errorf("hard-label student: %w", err)
	}
	for i, T := range temps {
		kcfg := kcfgs[i]
		kcfg.Teacher = teacher
		kres, err := distill.Train(ctx, kcfg)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("student at T=%g: %w", T, err)
		}
		if err := add(KDRun{Model: "kd", Hidden: sp.StudentHidden, Temperature: T}, kres); err != nil {
			return nil, 0, 0, fmt.Errorf("student at T=%g: %w", T, err)
		}
	}
	return runs, tacc, tconf, nil
}

// kdConfigs returns the training configurations of one seed: the
// teacher's, the hard-label student's and one distillation per
// temperature (without its Teacher, which the first one trains).
func kdConfigs(sp KDSpec, train *dataset.Dataset, seed uint64, temps []float64, alpha float64) []distill.Config {
	base := distill.Config{Train: train, Epochs: sp.Epochs, BatchSize: sp.BatchSize, Seed: seed}
	tcfg := base
	tcfg.Hidden, tcfg.Name = sp.TeacherHidden, "teacher"
	scfg := base
	scfg.Hidden, scfg.Name = sp.StudentHidden, "student"
	cfgs := []distill.Config{tcfg, scfg}
	for _, T := range temps {
		kcfg := scfg
		kcfg.Temperature, kcfg.Alpha = T, alpha
		kcfg.Loss, kcfg.Reveal, kcfg.Transfer = "kl", "full", "data"
		kcfg.Name = fmt.Sprintf("kd-T%g", T)
		cfgs = append(cfgs, kcfg)
	}
	return cfgs
}

// aggregate groups runs by Label in first-seen order.
func aggregate(runs []KDRun) []KDRow {
	var order []string
	by := map[string][]KDRun{}
	for _, r := range runs {
		l := r.Label()
		if _, ok := by[l]; !ok {
			order = append(order, l)
		}
		by[l] = append(by[l], r)
	}
	rows := make([]KDRow, 0, len(order))
	for _, l := range order {
		rs := by[l]
		acc := make([]float64, len(rs))
		agr := make([]float64, len(rs))
		var errs, secs float64
		for i, r := range rs {
			acc[i], agr[i] = r.TestAccuracy, r.Agreement
			errs += float64(r.TestErrors)
			secs += r.TrainSeconds
		}
		n := float64(len(rs))
		row := KDRow{Label: l, Seeds: len(rs), Params: rs[0].Params, ErrorsMean: errs / n, TrainSeconds: secs / n}
		row.AccMean, row.AccSD = meanSD(acc)
		row.AgreeMean, row.AgreeSD = meanSD(agr)
		rows = append(rows, row)
	}
	return rows
}

// meanSD returns the mean and the sample (n−1) standard deviation of x; the
// deviation is NaN (undefined) for fewer than two values, the mean NaN for
// none.
func meanSD(x []float64) (mean, sd float64) {
	if len(x) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	if len(x) < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(x)-1))
}

func hiddenString(h []int) string {
	s := make([]string, len(h))
	for i, v := range h {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "-")
}

func seedList(s []uint64) string {
	p := make([]string, len(s))
	for i, v := range s {
		p[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(p, ",")
}
