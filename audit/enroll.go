package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/parallel"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"github.com/lineage-audit/lineage/watermark"
	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/blas/blas32"
)

// Enrolled is the result of Enroll: everything that is stored.
type Enrolled struct {
	Case
	Report EnrolReport
}

// ErrTooFewControls is wrapped when an enrolment would have too few
// negative controls to calibrate on.
var ErrTooFewControls = errors.New("too few controls")

// ErrTeacher is wrapped by errors about an unusable teacher or dataset.
var ErrTeacher = errors.New("unusable teacher")

// Enroll protects teacher under name: it trains positive controls
// (students of the teacher made with varied recipes) and negative controls
// (independent models, including students of a second, independently
// trained teacher), splits them alternately into a selection half and a
// calibration half, builds a candidate probe pool from the held-out part of
// data and conferrable adversarial probes crafted against the selection
// half, keeps SuiteSize probes on which the teacher departs most from the
// consensus of the selection half's negatives (with places reserved for
// conferrable, data, mistake and watermark probes; see the package
// documentation), fingerprints the
// teacher and every control on the resulting suite, and measures TPR and
// FPR on the calibration half, which took no part in choosing probes.
//
// data is split the documented way (dataset.SplitOptions{}): controls train
// on the training split, probes come from validation + test.
func Enroll(ctx context.Context, name string, teacher *model.MLP, data *dataset.Dataset, opts EnrollOptions) (*Enrolled, error) {
	start := time.Now()
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if teacher.Sizes[0] != data.Dim() {
		return nil, fmt.Errorf("teacher %q takes %d inputs, dataset %q has %d features: %w", teacher.Name, teacher.Sizes[0], data.Name, data.Dim(), ErrTeacher)
	}
	if !slices.Equal(teacher.Labels, data.Labels) {
		return nil, fmt.Errorf("teacher %q labels %s do not match dataset %q labels %s (%s): %w", teacher.Name, model.LabelList(teacher.Labels), data.Name, model.LabelList(data.Labels), model.LabelDiff(teacher.Labels, data.Labels), ErrTeacher)
	}
	k := opts.Controls
	if k == 0 {
		k = DefaultControls
	}
	n := opts.SuiteSize
	if n == 0 {
		n = DefaultSuiteSize
	}
	workers := opts.Workers
	if workers == 0 {
		workers = DefaultWorkers
	}
	sp := data.Split(dataset.SplitOptions{})
	held := heldOut(sp)
	if err := checkTeacherOutputs(ctx, teacher, held, data.Name); err != nil {
		return nil, err
	}
	recipes := opts.Recipes
	if recipes == nil {
		recipes = ControlRecipes(k, opts.Seed, teacher.Sizes[1:len(teacher.Sizes)-1], teacher.Act)
	}
	calNeg := 0
	for i, r := range recipes {
		if i%2 == 1 && !r.Derived() && !r.UnderTrained {
			calNeg++
		}
	}
	if calNeg < DefaultMinNull {
		// Fewer would leave every audit without references INCONCLUSIVE.
		return nil, fmt.Errorf("%w: %d negative controls in the calibration half, need at least %d (raise the number of controls)", ErrTooFewControls, calNeg, DefaultMinNull)
	}
	needOther := slices.ContainsFunc(recipes, func(r Recipe) bool { return r.Source == FromOther })
	nc := opts.Conferrable
	if nc == 0 {
		nc = int(DefaultConferrable * float64(n))
	}
	nw := opts.watermarkProbes(n)
	nr := opts.Contrast
	if nr == 0 {
		nr = int(DefaultContrast * float64(n))
	}
	// Leave at least one probe to select.
	nr = max(0, min(nr, n/2, n-nw-1))
	total := len(recipes) + 2 // + the other teacher + probes/fingerprints
	if nc > 0 {
		total++ // + conferrable probes
	}
	if nw > 0 {
		total++ // + watermark probes
	}
	// Controls finish on several goroutines; one lock around the count and
	// the call keeps the reports in order (done never goes back).
	var (
		progressMu sync.Mutex
		done       int
	)
	progress := func(desc string) {
		if opts.Progress == nil {
			return
		}
		progressMu.Lock()
		defer progressMu.Unlock()
		done++
		opts.Progress(desc, done, total)
	}

	if opts.Progress != nil {
		opts.Progress("starting", 0, total)
	}
	teachers := Teachers{Teacher: teacher}
	if needOther {
		other, err := distill.Train(ctx, distill.Config{
			Train: sp.Train, Hidden: teacher.Sizes[1 : len(teacher.Sizes)-1], Activation: teacher.Act,
			Seed: jitterSeed(opts.Seed, 1<<20), Name: "other-teacher",
		})
		if err != nil {
			return nil, fmt.Errorf("train the independent teacher: %w", err)
		}
		teachers.Other = other.Student
	}
	progress("independent teacher")

	models := make([]*model.MLP, len(recipes))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, r := range recipes {
		g.Go(func() error {
			m, err := Make(gctx, r, teachers, sp.Train, nil)
			if err != nil {
				return err
			}
			m.Name = fmt.Sprintf("%s-%s-%02d", name, r.Family, i)
			models[i] = m
			progress(r.Family)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("train controls: %w", err)
	}

	// Candidate pool and everybody's outputs on it.
	bo := opts.Candidates
	bo.Name = name
	if bo.Seed == 0 {
		bo.Seed = opts.Seed
	}
	var confOpts probe.ConferrableOptions
	if probe.MixedScales(held) {
		// The global range put these probes so far from unscaled tabular
		// data that every control answered exact zeros there.
		bo.NoiseOptions.PerFeature = true
		bo.AdversarialOptions.PerFeature = true
		confOpts.PerFeature = true
	}
	cand, err := candidates(ctx, teacher, held, bo, opts.Mixup)
	if err != nil {
		return nil, fmt.Errorf("build candidate probes: %w", err)
	}
	halves := make([]string, len(recipes))
	var posM, negM []*model.MLP // the selection half's controls
	for i, r := range recipes {
		halves[i] = store.HalfCalibration
		if r.UnderTrained {
			halves[i] = store.HalfUnderTrained
			continue
		}
		if i%2 == 0 {
			halves[i] = store.HalfSelection
			if r.Derived() {
				posM = append(posM, models[i])
			} else {
				negM = append(negM, models[i])
			}
		}
	}
	if nc > 0 {
		conf, err := probe.ConferrableProbes(ctx, teacher, posM, negM, held, nc, bo.Seed^0xc0f, confOpts)
		if err != nil {
			return nil, fmt.Errorf("conferrable probes: %w", err)
		}
		progress("conferrable probes")
		if cand, err = probe.Finalize(cand.Name, cand.Labels, append(splitBatches(cand), conf)...); err != nil {
			return nil, fmt.Errorf("build candidate probes: %w", err)
		}
	}
	tOut, err := teacher.Predict(ctx, cand.X)
	if err != nil {
		return nil, err
	}
	// Each control's outputs in a slot of its own, several at once.
	outputs := func(ms []*model.MLP) ([]blas32.General, error) {
		outs := make([]blas32.General, len(ms))
		errs := make([]error, len(ms))
		if err := parallel.ForEach(ctx, len(ms), func(i int) { outs[i], errs[i] = ms[i].Predict(ctx, cand.X) }); err != nil {
			return nil, err
		}
		for _, err := range errs { // the first in order, as a loop would stop at
			if err != nil {
				return nil, err
			}
		}
		return outs, nil
	}
	selPos, err := outputs(posM)
	if err != nil {
		return nil, err
	}
	selNeg, err := outputs(negM)
	if err != nil {
		return nil, err
	}
	// Watermark probes are reserved, not selected: the test's validity
	// needs them chosen without looking at any model but the teacher.
	var wm probe.Batch
	if nw > 0 {
		if wm, err = probe.WatermarkProbes(ctx, teacher, sp.Train, nw, bo.Seed^0x3a7e); err != nil {
			return nil, fmt.Errorf("watermark probes: %w", err)
		}
		progress("watermark probes")
	}
	// So are the replica contrast's random mixup probes: unselected, so
	// that no model's answers shaped them.
	var reserved []probe.Batch
	if nr > 0 {
		reserved = append(reserved, probe.MixupProbes(held, nr, bo.Seed^0xc0a7))
	}
	if wm.X.Rows > 0 {
		reserved = append(reserved, wm)
	}
	left := n - nr - wm.X.Rows
	counts := cand.Counts()
	quota := map[probe.Kind]int{probe.Mistake: min(counts[probe.Mistake], n/20), probe.Data: n / 10, probe.Conferrable: min(counts[probe.Conferrable], nc)}
	suite, _, err := probe.SelectIdiosyncratic(cand, tOut, selPos, selNeg, min(left, cand.Len()), quota)
	if err != nil {
		return nil, fmt.Errorf("select probes: %w", err)
	}
	if len(reserved) > 0 {
		if suite, err = probe.Finalize(name, suite.Labels, append(splitBatches(suite), reserved...)...); err != nil {
			return nil, fmt.Errorf("select probes: %w", err)
		}
	}
	suite.Name = name

	// Fingerprints.
	tfp, err := fingerprint.Take(ctx, teacher, suite, fingerprint.Options{ID: TeacherID(name)})
	if err != nil {
		return nil, err
	}
	enr := &store.Enrolment{Name: name, TeacherFP: tfp.ID, Suite: suite.Hash, Teacher: teacher.Info()}
	if wm.X.Rows > 0 {
		var key watermark.Key
		if opts.WatermarkKey != nil {
			key = *opts.WatermarkKey
		} else {
			key = watermark.DeriveKey(teacher)
		}
		text, _ := key.MarshalText()
		enr.Watermark = &store.Watermark{Key: string(text), Mean: teacher.Norm.Mean, Std: teacher.Norm.Std}
	}
	out := &Enrolled{Case: Case{Suite: suite, Teacher: tfp, Enrolment: enr}}
	for i, r := range recipes {
		role := store.RoleNegative
		if r.Derived() {
			role = store.RolePositive
		}
		fp, err := fingerprint.Take(ctx, models[i], suite, fingerprint.Options{ID: ControlID(name, i)})
		if err != nil {
			return nil, err
		}
		out.Controls = append(out.Controls, fp)
		enr.Controls = append(enr.Controls, store.Control{FP: fp.ID, Role: role, Half: halves[i], Recipe: r.String()})
	}
	progress("probe suite")

	// The watermark panel is the longest step without a context of its
	// own below (seconds for a suite of thousands of probes): prepared
	// here, a Ctrl-C stops it; calibrationReport reuses it.
	if _, err := out.Case.markContext(ctx); err != nil {
		return nil, err
	}
	rep, err := calibrationReport(ctx, &out.Case, recipes)
	if err != nil {
		return nil, err
	}
	rep.Name, rep.Teacher, rep.Seed = name, teacher.Info(), opts.Seed
	rep.Data, rep.WatermarkProbes = &DataRef{Name: data.Name, Hash: data.Hash}, nw
	rep.Candidates = cand.Len()
	rep.ElapsedS = time.Since(start).Seconds()
	out.Report = rep
	if enr.Report, err = json.Marshal(rep); err != nil {
		return nil, err
	}
	return out, nil
}

// heldOut returns validation + test rows: the data no control trained on.
func heldOut(sp dataset.Split) *dataset.Dataset {
	x := blas32.General{Rows: sp.Val.Len() + sp.Test.Len(), Cols: sp.Test.Dim(), Stride: sp.Test.Dim()}
	x.Data = append(append([]float32(nil), sp.Val.X.Data[:sp.Val.Len()*x.Cols]...), sp.Test.X.Data[:sp.Test.Len()*x.Cols]...)
	y := append(append([]int(nil), sp.Val.Y...), sp.Test.Y...)
	d, err := dataset.New(sp.Test.Name+"/held-out", x, y, sp.Test.Labels)
	if err != nil {
		panic("audit: held-out data: " + err.Error())
	}
	return d
}

// checkTeacherOutputs refuses a teacher whose outputs on the held-out rows
// are degenerate (compare.CheckDegenerate), save for the same top label on
// every row: the same answer to every row, as a teacher of all-zero
// weights gives, carries no evidence, and every audit against it would be
// INCONCLUSIVE, after the whole enrolment's training. A teacher whose top
// label is the same on every held-out row (the majority class of data 99 %
// of one class) still answers them with probabilities that vary, and the
// probes the enrolment crafts beyond the data cross its boundaries: its
// enrolment and audits work, if weakly, and are not refused.
func checkTeacherOutputs(ctx context.Context, teacher *model.MLP, held *dataset.Dataset, data string) error {
	p, err := teacher.Predict(ctx, held.X)
	if err != nil {
		return fmt.Errorf("teacher %q on the held-out rows of %q: %w", teacher.Name, data, err)
	}
	var de *compare.DegenerateError
	if err := compare.CheckDegenerate(p); errors.As(err, &de) && de.Reason != compare.ReasonEmpty && de.Reason != compare.ReasonConstant {
		return fmt.Errorf("teacher %q has degenerate outputs on the %d held-out rows of %q (%s): audits would find no evidence in a copy's answers: %w",
			teacher.Name, held.Len(), data, de.Reason, ErrTeacher)
	}
	return nil
}

// candidates builds the candidate probe pool: probe.Build's kinds plus
// mixup points between held-out samples.
func candidates(ctx context.Context, teacher *model.MLP, held *dataset.Dataset, bo probe.BuildOptions, mixup int) (*probe.Suite, error) {
	base, err := probe.Build(ctx, teacher, held, bo)
	if err != nil {
		return nil, err
	}
	if mixup == 0 {
		mixup = DefaultMixup
	}
	if mixup < 0 {
		return base, nil
	}
	batches := splitBatches(base)
	batches = append(batches, probe.MixupProbes(held, mixup, bo.Seed^0x5eed))
	return probe.Finalize(base.Name, base.Labels, batches...)
}

// splitBatches cuts a suite back into its generators' batches (rows are
// stored in generator order).
func splitBatches(s *probe.Suite) []probe.Batch {
	var out []probe.Batch
	r := 0
	for _, g := range s.Generators {
		x := blas32.General{Rows: g.Count, Cols: s.Dim(), Stride: s.Dim(), Data: s.X.Data[r*s.X.Stride : (r+g.Count)*s.X.Stride]}
		out = append(out, probe.Batch{X: x, Gen: g})
		r += g.Count
	}
	return out
}
