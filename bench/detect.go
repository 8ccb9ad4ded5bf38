package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/eval"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"golang.org/x/sync/errgroup"
)

// Defaults of DetectOptions.
const (
	DefaultWorkers = 2
	// EnrolmentName is the name the zoo teacher is enrolled under.
	EnrolmentName = "zoo-teacher"
	// QuickControls and QuickSuiteSize are the enrolment options of a
	// quick run: enough calibration negatives for audit's smallest null
	// (the calibration half holds half the negatives).
	QuickControls  = 6
	QuickSuiteSize = 60
)

// DefaultTeacherHidden is the protected teacher's hidden layers in a full
// run (the 256-256 relu teacher); QuickTeacherHidden in a quick one.
var (
	DefaultTeacherHidden = []int{256, 256}
	QuickTeacherHidden   = []int{64, 64}
)

// Alphas are the significance levels the experiment reports.
var Alphas = []float64{0.01, 0.05}

// DetectOptions configures Detect. The zero value runs the full experiment
// with seed 0 on two workers.
type DetectOptions struct {
	// Seed drives everything: the teacher, the enrolment (its Seed), the
	// extra teachers and every suspect.
	Seed uint64
	// Quick runs a small experiment for tests: a 64-64 teacher, an
	// enrolment with QuickControls controls and QuickSuiteSize probes, one
	// extra teacher and one suspect in each of QuickFamilies.
	Quick bool
	// Workers bounds the models trained at once; 0 means DefaultWorkers.
	Workers int
	// TeacherHidden overrides the protected teacher's hidden layers; nil
	// means DefaultTeacherHidden (QuickTeacherHidden when Quick).
	TeacherHidden []int
	// TeacherActivation is the protected (and the extra) teachers' hidden
	// activation; "" means relu.
	TeacherActivation model.Activation
	// Families overrides the zoo; nil means Families(Quick, …).
	Families []Family
	// OtherTeachers is the number of extra independent teachers; 0 means
	// DefaultOtherTeachers (1 when Quick).
	OtherTeachers int
	// Enroll overrides the enrolment options (Seed, Workers and Progress
	// are always set by Detect); its zero value means audit's defaults, or
	// QuickControls and QuickSuiteSize when Quick.
	Enroll audit.EnrollOptions
	// Data is the dataset the teacher, the controls and the zoo are
	// trained on (its standard split); nil means the embedded digits
	// (dataset.Digits). The families' Reason texts were measured on
	// digits; on other data they say so.
	Data *dataset.Dataset
	// Progress, when set, is called as work completes with a short
	// description, the units done and the (estimated) total. Calls come
	// from several goroutines but never at the same time.
	Progress func(desc string, done, total int)
}

func (o DetectOptions) withDefaults() DetectOptions {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.TeacherActivation == "" {
		o.TeacherActivation = model.ActReLU
	}
	if o.TeacherHidden == nil {
		o.TeacherHidden = DefaultTeacherHidden
		if o.Quick {
			o.TeacherHidden = QuickTeacherHidden
		}
	}
	if o.OtherTeachers <= 0 {
		o.OtherTeachers = DefaultOtherTeachers
		if o.Quick {
			o.OtherTeachers = 1
		}
	}
	if o.Quick {
		if o.Enroll.Controls == 0 {
			o.Enroll.Controls = QuickControls
		}
		if o.Enroll.SuiteSize == 0 {
			o.Enroll.SuiteSize = QuickSuiteSize
		}
	}
	if o.Data == nil {
		o.Data = dataset.Digits()
	}
	if o.Families == nil {
		o.Families = Families(o.Quick, o.TeacherHidden, o.TeacherActivation)
		if o.Data.Name != "digits" {
			o.Families = slices.Clone(o.Families)
			for i := range o.Families {
				if r := o.Families[i].Reason; r != "" {
					o.Families[i].Reason = "measured on digits, not on " + o.Data.Name + ": " + r
				}
			}
		}
	}
	return o
}

// Detect runs the detection experiment: it trains a teacher on opts.Data
// (digits unless set), enrols it with audit.Enroll, trains the zoo's suspects (which the
// enrolment never saw, on fresh seeds), fingerprints each through its
// serving wrapper on the enrolment's suite, audits it against the single
// enrolled teacher, computes the mistake-agreement baseline beside it, and
// summarises detection power and calibration per family. See the package
// documentation for what each figure means.
func Detect(ctx context.Context, opts DetectOptions) (*DetectReport, error) {
	start := time.Now()
	o := opts.withDefaults()
	data := o.Data
	sp := data.Split(dataset.SplitOptions{})

	// Seeds: the teachers first, then the suspects, all disjoint.
	used := map[uint64]bool{}
	trng := rand.New(rand.NewPCG(o.Seed, streamTeachers))
	teacherSeed := freshSeed(trng, used)
	otherSeeds := make([]uint64, o.OtherTeachers)
	for i := range otherSeeds {
		otherSeeds[i] = freshSeed(trng, used)
	}
	reserved := append([]uint64{teacherSeed}, otherSeeds...)
	suspects := Suspects(o.Families, o.Seed, o.OtherTeachers, reserved...)

	var (
		mu    sync.Mutex
		done  int
		total = 1 + estimateEnrolSteps(o) + o.OtherTeachers + len(suspects)
	)
	step := func(desc string, n int) {
		mu.Lock()
		defer mu.Unlock()
		done += n
		if o.Progress != nil {
			o.Progress(desc, done, total)
		}
	}

	// 1. The protected teacher and its enrolment.
	tres, err := distill.Train(ctx, distill.Config{
		Train: sp.Train, Hidden: o.TeacherHidden, Activation: o.TeacherActivation, Seed: teacherSeed, Name: EnrolmentName,
	})
	if err != nil {
		return nil, fmt.Errorf("bench: train the teacher: %w", err)
	}
	teacher := tres.Student
	step("teacher", 1)
	eo := o.Enroll
	eo.Seed, eo.Workers = o.Seed, o.Workers
	est := estimateEnrolSteps(o)
	prev := 0
	eo.Progress = func(desc string, d, t int) {
		mu.Lock()
		total += t - est
		est = t
		delta := d - prev
		prev = d
		mu.Unlock()
		step("enrol: "+desc, delta)
	}
	enr, err := audit.Enroll(ctx, EnrolmentName, teacher, data, eo)
	if err != nil {
		return nil, fmt.Errorf("bench: enrol the teacher: %w", err)
	}
	// A control may share a seed with no teacher and no suspect.
	for _, sp := range suspects {
		used[sp.Recipe.Seed] = true
	}
	if err := checkSeeds(enr, used); err != nil {
		return nil, err
	}
	bl := newBaseline(&enr.Case)

	// 2. The extra independent teachers.
	others := make([]*model.MLP, o.OtherTeachers)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for i, s := range otherSeeds {
		g.Go(func() error {
			r, err := distill.Train(gctx, distill.Config{
				Train: sp.Train, Hidden: o.TeacherHidden, Activation: o.TeacherActivation, Seed: s, Name: fmt.Sprintf("other-teacher-%d", i),
			})
			if err != nil {
				return fmt.Errorf("bench: train extra teacher %d: %w", i, err)
			}
			others[i] = r.Student
			step("extra teacher", 1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	// 3. The suspects: make, serve, fingerprint, audit.
	results := make([]SuspectResult, len(suspects))
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(o.Workers)
	for i, s := range suspects {
		g.Go(func() error {
			r, err := runSuspect(gctx, s, audit.Teachers{Teacher: teacher, Other: others[s.Other]}, sp, enr, bl, o)
			if err != nil {
				return fmt.Errorf("bench: suspect %s: %w", s.Name, err)
			}
			results[i] = r
			step(s.Family, 1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}

	tp, err := teacher.Predict(ctx, sp.Test.X)
	if err != nil {
		return nil, fmt.Errorf("bench: teacher accuracy: %w", err)
	}
	rep := summarize(o, results, bl)
	rep.Teacher = TeacherSummary{
		Hidden: o.TeacherHidden, Activation: teacher.Act, Seed: teacherSeed,
		TestAccuracy: eval.Accuracy(tp, sp.Test.Y), Hash: teacher.Info().Hash,
	}
	rep.Enrolment = enrolSummary(enr)
	rep.OtherTeachers = o.OtherTeachers
	rep.WallTimeS = time.Since(start).Seconds()
	return rep, nil
}

// estimateEnrolSteps is the number of progress steps the enrolment is
// expected to report (corrected once it reports its own total).
func estimateEnrolSteps(o DetectOptions) int {
	if o.Enroll.Recipes != nil {
		return len(o.Enroll.Recipes) + 2
	}
	k := o.Enroll.Controls
	if k == 0 {
		k = audit.DefaultControls
	}
	return len(audit.ControlRecipes(k, o.Seed, o.TeacherHidden, o.TeacherActivation)) + 2
}

// checkSeeds verifies that no zoo model shares a training seed with one of
// the enrolment's controls (guaranteed by construction; checked because the
// claim "suspects the enrolment never saw" rests on it).
func checkSeeds(enr *audit.Enrolled, used map[uint64]bool) error {
	for _, c := range enr.Enrolment.Controls {
		var fam string
		var s uint64
		if _, err := fmt.Sscanf(c.Recipe, "%s seed=%d", &fam, &s); err != nil {
			continue // recipe strings are descriptive; nothing to check
		}
		if used[s] {
			return fmt.Errorf("bench: control %s reuses zoo seed %d", c.FP, s)
		}
	}
	return nil
}

// runSuspect makes one suspect and audits it.
func runSuspect(ctx context.Context, s Suspect, t audit.Teachers, sp dataset.Split, enr *audit.Enrolled, bl *baseline, o DetectOptions) (SuspectResult, error) {
	res := SuspectResult{Name: s.Name, Family: s.Family, Kind: s.Kind, Recipe: s.Recipe.String(), Seed: s.Recipe.Seed}
	m, err := audit.Make(ctx, s.Recipe, t, sp.Train, nil)
	if err != nil {
		return res, err
	}
	served, err := s.Recipe.ServeModel(m)
	if err != nil {
		return res, err
	}
	p, err := served.Predict(ctx, sp.Test.X)
	if err != nil {
		return res, err
	}
	res.TestAccuracy = eval.Accuracy(p, sp.Test.Y)
	fp, err := fingerprint.Take(ctx, served, enr.Suite, fingerprint.Options{ID: "zoo/" + s.Name})
	if err != nil {
		return res, err
	}
	res.Queries = fp.Queries
	ar, err := audit.Audit([]*audit.Case{&enr.Case}, []*fingerprint.Fingerprint{fp}, s.Name, audit.Options{Alpha: Alphas[0]})
	if err != nil {
		return res, err
	}
	tr := ar.Results[0]
	res.P, res.Verdict, res.Reason, res.Best, res.LabelOnly = tr.PValue, tr.Verdict, tr.Reason, tr.Best, tr.LabelOnly
	res.NullFamily, res.Caution = tr.NullFamily, tr.Caution != ""
	if nb := tr.Nearest; nb != nil {
		res.Nearest = nb.Role + ":" + nb.Family()
	}
	res.Agreement = tr.PerKind["agreement"]
	res.MinP, res.Statistics = minP(&tr, enr.Suite)
	res.BaselineP = 1 // no baseline: nothing flagged
	if bl.ok() {
		if res.BaselineP, err = bl.pValue(fp); err != nil {
			return res, fmt.Errorf("baseline: %w", err)
		}
	}
	return res, nil
}

// minP returns a suspect's MinP, the score bench detect's AUC ranks, and
// the evidence of the statistics it looked at. MinP ranges over the
// statistics the audit combines only (it also reports informational ones
// with their own p-values), the watermark aside as before; when none of
// them is reported it is the combined p-value itself, and so it is for a
// suspect outside the null, whose lineage test is not applied. The
// statistics map keeps their evidence, the watermark's too.
func minP(tr *audit.TeacherResult, suite *probe.Suite) (float64, map[string]audit.StatEvidence) {
	p := tr.PCombined
	stats := map[string]audit.StatEvidence{}
	for _, k := range append(audit.StatisticKeys(suite, tr.LabelOnly), audit.StatWatermark) {
		if st, ok := tr.Statistics[k]; ok {
			stats[k] = st
			if k != audit.StatWatermark && tr.Outside == "" {
				p = math.Min(p, st.P)
			}
		}
	}
	return p, stats
}
