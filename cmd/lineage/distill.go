package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/journal"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"

	"github.com/lineage-audit/lineage/eval"
	"github.com/spf13/cobra"
)

// distillOptions are the flags of `lineage distill`.
type distillOptions struct {
	trainOptions
	teacher     string
	temperature float64
	alpha       float64
	loss        string
	reveal      string
	transfer    string
	queries     int
	jitter      float64
	remote      remoteOptions
}

// newDistillCommand builds `lineage distill`: a student from a teacher's outputs.
func newDistillCommand(g *globalOptions) *cobra.Command {
	o := &distillOptions{}
	c := &cobra.Command{
		Use:   "distill --teacher MODEL --out STUDENT.lnm [--data D] [--hidden H]",
		Short: "Distil a student from a teacher through its full, top-k or label outputs",
		Long: `distill trains a student on a teacher's outputs: its full distribution, its top K
probabilities or its labels only (--reveal), on the training data, synthetic queries or
both (--transfer), with --queries teacher queries exactly. The teacher is a model file, an
Open Inference Protocol URL or exec:COMMAND; a remote teacher's answers are journalled in
the database (--db), so that an interrupted run asks it nothing twice.`,
		Example: `  lineage distill --teacher teacher.lnm --data digits --hidden 16 --temperature 4 --alpha 0.9 --seed 1 --out student.lnm
  lineage distill --teacher teacher.lnm --data digits --hidden 64 --transfer mixup --reveal label --queries 5000 --out extracted.lnm`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDistill(c.Context(), c, g, o) },
	}
	o.bind(c, "64")
	g.bindDB(c, "database journaling a remote teacher's answers (default $LINEAGE_DB or lineage.db; unused for a model file)")
	f := c.Flags()
	f.StringVar(&o.teacher, "teacher", "", "teacher model: a .lnm/.safetensors file, an Open Inference Protocol URL or exec:COMMAND")
	f.Float64Var(&o.temperature, "temperature", 4, "softmax temperature T of the soft targets (0.001 to 1000)")
	f.Float64Var(&o.alpha, "alpha", 0.9, "weight of the soft-target term, more than 0 and at most 1; 1-alpha weighs the hard labels")
	f.StringVar(&o.loss, "loss", "kl", "soft loss: kl, rkl, jsd:BETA, tv, mse or ce")
	f.StringVar(&o.reveal, "reveal", "full", "what the teacher reveals: full, topk:K or label")
	f.StringVar(&o.transfer, "transfer", "data", "transfer set: data, noise, jitter, mixup, or a comma-separated mix")
	f.IntVar(&o.queries, "queries", 0, "teacher query budget, exact (0: one per training row for each source of --transfer)")
	f.Float64Var(&o.jitter, "jitter", 0, "Gaussian jitter scale for --transfer jitter, in standard deviations of each feature (0: 0.25)")
	o.remote.bind(c)
	o.remote.alsoRemote = []string{"db"} // it journals a remote teacher's answers
	return c
}

func runDistill(ctx context.Context, c *cobra.Command, g *globalOptions, o *distillOptions) error {
	if o.teacher == "" {
		return usageError{errors.New("--teacher is required")}
	}
	if o.out == "" {
		return usageError{errors.New("--out is required (the model file to write)")}
	}
	if !(o.temperature >= distill.MinTemperature && o.temperature <= distill.MaxTemperature) {
		return usageError{fmt.Errorf("--temperature %g: want a temperature from %g to %g", o.temperature, distill.MinTemperature, distill.MaxTemperature)}
	}
	if !(o.alpha > 0 && o.alpha <= 1) {
		return usageError{fmt.Errorf("--alpha %g: the soft-target weight must be in (0, 1] (use lineage train for hard labels only)", o.alpha)}
	}
	if err := o.remote.check(); err != nil {
		return err
	}
	// The database counts as read whether or not this teacher's answers
	// are journaled there: a store at that path is the user's.
	reads := append(append(teacherFiles(o.teacher), dataFiles(o.data)...), namedPath{"--db", g.dbPath()})
	if err := o.checkApart(reads...); err != nil {
		return err
	}
	sp, err := loadSplit(ctx, c.ErrOrStderr(), o.data)
	if err != nil {
		return err
	}
	cfg, err := o.config(sp.Train, sp.Val)
	if err != nil {
		return err
	}
	if r, err := remote.ParseRef(o.teacher); err == nil && r.Kind != remote.RefFile {
		// A remote teacher's answers are journalled: it is asked nothing,
		// not even its metadata, for a store that cannot be written.
		if err := checkWritable(g); err != nil {
			return err
		}
	}
	teacher, closeTeacher, err := o.remote.open(ctx, o.teacher)
	if err != nil {
		return err
	}
	defer closeTeacher()
	if err := checkTeacherFits(o.teacher, teacher.Info(), o.data, sp.Train, true); err != nil {
		return err
	}
	// A teacher listing the labels in another order is read with its
	// answers aligned to the data's by label name (it was refused).
	inOrder := func(m model.Model) model.Model {
		a, _ := model.InLabelOrder(m, sp.Train.Labels) // checkTeacherFits checked the labels
		return a
	}
	warnReordered(c.ErrOrStderr(), o.teacher, teacher.Info().Labels, "dataset", sp.Train.Labels)
	cfg.Teacher = inOrder(teacher)
	cfg.Temperature = o.temperature
	cfg.Alpha = o.alpha
	cfg.Loss = o.loss
	cfg.Reveal = o.reveal
	cfg.Transfer = o.transfer
	cfg.Queries = o.queries
	cfg.JitterScale = o.jitter
	ref, refErr := remote.ParseRef(o.teacher)
	journaled := refErr == nil && ref.Kind != remote.RefFile
	if journaled {
		cfg.QueryBatch = o.remote.journalBatch()
	}
	// Every flag is checked before the database is opened (or created).
	if err := validateConfig(c.Flags(), cfg); err != nil {
		return err
	}
	if err := checkTestSplit(sp, o.data); err != nil {
		return err
	}
	warnIgnored(c, o)
	var jrn *journal.Model
	job := ""
	if journaled {
		// A remote teacher's answers are committed to the database as they
		// arrive, so a killed distillation never pays for a query twice.
		db := newDBPerCall(ctx, g)
		job = distillJob(o, teacher, sp.Train.Hash, "")
		release, _, err := claimJob(ctx, c.ErrOrStderr(), "distill", g, job)
		if err != nil {
			return err
		}
		defer release()
		older := func(reveal string) string { return distillJob(o, teacher, sp.Train.Hash, reveal) }
		if err := adoptOlderJournal(ctx, c.ErrOrStderr(), g, job, older, len(sp.Train.Labels)); err != nil {
			return err
		}
		if jrn, err = journal.New(ctx, teacher, db, job); err != nil {
			return err
		}
		drainOnInterrupt(ctx, jrn, c.ErrOrStderr(), "distill")
		cfg.Teacher = inOrder(jrn)
	}
	res, err := o.runTraining(ctx, c, cfg, "distill")
	if err != nil && jrn != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// Interrupted while the teacher was asked (no checkpoint yet):
		// say what the journal keeps.
		if ie := (interrupted{}); !errors.As(err, &ie) || ie.hint == "" {
			return interrupted{keptHint(jrn.Kept(), g), err}
		}
	}
	if errors.Is(err, journal.ErrMismatch) {
		return journalMismatch(err, "the interrupted distillation", job, &o.remote)
	}
	if err != nil && jrn != nil && ctx.Err() == nil {
		// A teacher that failed part-way (a server gone, its retries
		// spent): say that what it answered is not lost.
		// Kept, not Counts: the batch that failed may be one whose
		// commit failed (a full disk), asked but not kept.
		if n := jrn.Kept(); n > 0 {
			return fmt.Errorf("%w; the teacher's %d answers so far are kept in %s: the same command again asks only for the rest", err, n, g.dbPath())
		}
	}
	if err != nil {
		return err
	}
	if jrn != nil {
		asked, replayed := jrn.Counts()
		fmt.Fprint(c.ErrOrStderr(), answersNote(asked, replayed, res.Queries, g.dbPath()))
		if n := jrn.Damaged(); n > 0 {
			fmt.Fprintf(c.ErrOrStderr(), "lineage distill: %d stored batches of answers were damaged and were asked again\n", n)
		}
	}
	rv, _ := model.ParseReveal(o.reveal)
	switch {
	case rv.Mode != model.RevealLabel && res.Queries > 0 && res.OneHotAnswers == res.Queries:
		// A label API asked for probabilities: the recipe says what was
		// asked, not what came.
		fmt.Fprintf(c.ErrOrStderr(), "lineage distill: every one of the teacher's %d answers was one-hot (all its probability on one label): it answers labels only (or is saturated), so this was label-only extraction, whatever --reveal %s and the recipe say\n", res.Queries, o.reveal)
	case rv.Mode == model.RevealFull && res.Queries > 0 && res.TopKShaped > 0:
		// A top-K API asked for its full distribution: the student
		// learnt the even spread of what it hides as the teacher's.
		k := res.TopKShaped
		fmt.Fprintf(c.ErrOrStderr(), "lineage distill: every one of the teacher's %d answers spread one probability evenly over all but at most %d labels, as an API revealing its top %d does (or the teacher is saturated): the student learnt that spread as the teacher's; --reveal topk:%d fits only what is revealed\n", res.Queries, k, k, k)
	}
	// The teacher's test accuracy and the agreement cost test-split queries;
	// a remote teacher is not asked beyond the --queries budget.
	var against model.Model = teacher
	if jrn != nil {
		against = nil
	}
	m, err := eval.Evaluate(ctx, res.Student, sp.Test, against)
	if err != nil {
		return err
	}
	r := newTrainingReport(o.out, res, m)
	return printResult(c.OutOrStdout(), o.format, r, r.kv())
}

// answersNote is the line an API distillation prints on where its
// teacher's answers came from: asked now, replayed from the journal in db,
// or, for a run resumed from a checkpoint (which caches them), neither.
func answersNote(asked, replayed, queries int, db string) string {
	if asked+replayed == 0 && queries > 0 {
		return fmt.Sprintf("lineage distill: the teacher's %d answers were read from the checkpoint; it was asked nothing\n", queries)
	}
	return fmt.Sprintf("lineage distill: teacher answered %d queries; %d more were replayed from the journal in %s\n", asked, replayed, db)
}

// teacherFiles are the files --teacher reads: a model file, or an exec:
// program and the existing files among its arguments, as ARG or
// --flag=ARG (none for a URL).
func teacherFiles(ref string) []namedPath {
	r, err := remote.ParseRef(ref)
	switch {
	case err != nil:
		return nil
	case r.Kind == remote.RefFile:
		return []namedPath{{"--teacher", r.Path}}
	case r.Kind == remote.RefExec:
		var out []namedPath
		for _, a := range r.Argv {
			// An argument may name a file as --weights=w.pt too.
			if _, v, ok := strings.Cut(a, "="); ok && fileExists(v) {
				a = v
			}
			if fileExists(a) {
				out = append(out, namedPath{"--teacher", a})
			}
		}
		return out
	}
	return nil
}

// warnIgnored says on standard error which of the flags the user set have
// no effect on this run: a label-only teacher is fitted by cross-entropy
// on its top labels whatever --loss and --temperature say, the ce and
// mse losses take no temperature, --alpha weighs the dataset's labels,
// which only rows of --transfer data carry, and --jitter scales the
// jitter source alone. o's flags are valid (validateConfig).
func warnIgnored(c *cobra.Command, o *distillOptions) {
	set := c.Flags().Changed
	if t, err := distill.ParseTransfer(o.transfer); err == nil {
		if set("alpha") && !slices.Contains(t.Sources, distill.TransferData) {
			fmt.Fprintf(c.ErrOrStderr(), "lineage distill: --alpha has no effect with --transfer %s: no transfer row carries a dataset label, so every row is fitted to the teacher alone\n", t)
		}
		if set("jitter") && !slices.Contains(t.Sources, distill.TransferJitter) {
			fmt.Fprintf(c.ErrOrStderr(), "lineage distill: --jitter has no effect with --transfer %s: it scales the noise of --transfer jitter only\n", t)
		}
	}
	if rv, err := model.ParseReveal(o.reveal); err == nil && rv.Mode == model.RevealLabel {
		var ignored []string
		for _, f := range []string{"loss", "temperature"} {
			if set(f) {
				ignored = append(ignored, "--"+f)
			}
		}
		verb := "has"
		if len(ignored) > 1 {
			verb = "have"
		}
		if len(ignored) > 0 {
			fmt.Fprintf(c.ErrOrStderr(), "lineage distill: %s %s no effect with --reveal label: the student is fitted to the teacher's labels by cross-entropy\n", strings.Join(ignored, " and "), verb)
		}
		return
	}
	if l, err := distill.ParseLoss(o.loss); err == nil && (l.Kind == distill.CE || l.Kind == distill.MSE) && set("temperature") {
		fmt.Fprintf(c.ErrOrStderr(), "lineage distill: --temperature has no effect with --loss %s\n", l)
	}
}
