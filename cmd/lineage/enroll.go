package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// enrollOptions are the flags of `lineage enroll`.
type enrollOptions struct {
	model      string
	data       string
	seed       uint64
	controls   int
	suiteSize  int
	workers    int
	format     report.Format
	noProgress bool
	markProbes int
	markKeyEnv string
}

// newEnrollCommand builds `lineage enroll`.
func newEnrollCommand(g *globalOptions) *cobra.Command {
	o := &enrollOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "enroll NAME --model TEACHER.lnm [--data D]",
		Short: "Protect a teacher: train controls, build and commit a probe suite, measure error rates",
		Long: `enroll protects a teacher model under NAME. It trains positive controls (students of
the teacher made with varied recipes) and negative controls (independent models, including
students of another, independently trained teacher and replicas of the teacher: its own
architecture and recipe with other seeds), builds a candidate probe pool from
held-out data, keeps the probes where the teacher departs most from the negative controls'
consensus (with places kept for conferrable, data and teacher-mistake probes), and
fingerprints the teacher and every control on the resulting suite. Half of the controls take
no part in choosing probes; the true- and false-positive rates printed are measured on them.
A few more negative controls are trained for 2 epochs only: they take no part in choosing
probes either, and join the null of suspects that agree with the teacher no more than such
under-trained models do (an independent model that has learnt little otherwise looks closer
to the teacher than trained ones do).

The suite hash printed is a commitment: publish it before any dispute, so that nobody can
claim the suite was tuned afterwards. Everything is stored in one transaction, so an
interrupted enrolment leaves nothing behind and can simply be run again; run again
after it completed, with the same teacher, data, seed, controls, suite size and watermark,
it prints the stored report (with any other, it says what differs).

A quarter of the suite are conferrable adversarial probes, crafted so that the selection half's
positive controls follow the teacher there and its negative controls do not. Another quarter are
mixup probes drawn at random and kept unselected. On them, and on the suite's other mixup, data,
boundary and watermark probes, audits measure the replica contrast (how much more a suspect's
order of classes follows the teacher's than its replicas') and the replica residual (whether its
log-probabilities, once the replicas' mean is taken out, go with the teacher's).

Three tenths of the suite are watermark probes: near-ties of the teacher on mixup segments of its
training data, where audits test for the label watermark "lineage serve --reveal label" puts on
the teacher's answers (its key is derived from the teacher's weights, or taken from
--watermark-key-env as for serve). --watermark-probes -1 leaves them out.

The teacher must be a model file (.lnm or .safetensors): enrolment needs its gradients.`,
		Example: `  lineage --db case.db enroll acme --model teacher.lnm --data digits --seed 1
  lineage --db case.db enroll acme --model teacher.lnm --data digits --controls 4 --suite-size 60 --format json`,
		Args: exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error { return runEnroll(c.Context(), c, g, o, args[0]) },
	}
	g.bindDB(c, dbUsage)
	f := c.Flags()
	f.StringVar(&o.model, "model", "", "the teacher model file (.lnm or .safetensors)")
	f.StringVar(&o.data, "data", "digits", "the teacher's dataset: digits, fashion-mnist, fashion-mnist-small, a .csv or IDX file")
	f.Uint64Var(&o.seed, "seed", 1, "random seed of the controls and probes (same seed, same suite)")
	f.IntVar(&o.controls, "controls", 0, fmt.Sprintf("positive controls, %d to %d (an odd number is rounded up); negatives: %d× the number given, and under-trained ones, ¾ of the positives rounded up to a multiple of 4 (0: %d)", audit.MinControls, audit.MaxControls, audit.NegativesPerPositive, audit.DefaultControls))
	f.IntVar(&o.suiteSize, "suite-size", 0, fmt.Sprintf("probes kept in the suite, %d to %d (0: %d)", audit.DefaultMinProbes, audit.MaxSuiteSize, audit.DefaultSuiteSize))
	f.IntVar(&o.workers, "workers", 0, fmt.Sprintf("controls trained at once, 1 to %d (0: %d)", audit.MaxWorkers, audit.DefaultWorkers))
	f.Var(&o.format, "format", formatUsage)
	f.BoolVar(&o.noProgress, "no-progress", false, "never show a progress bar")
	f.IntVar(&o.markProbes, "watermark-probes", 0, fmt.Sprintf("probes testing the label watermark, at most half the suite (0: %.0f%% of the suite; -1: no watermark test)", 100*audit.DefaultWatermark))
	f.StringVar(&o.markKeyEnv, "watermark-key-env", "", "take the watermark key (64 hex digits) from this environment variable instead of deriving it from the weights")
	return c
}

// loadTeacher loads a white-box teacher model file.
func loadTeacher(ref string) (*model.MLP, error) {
	if ref == "" {
		return nil, usageError{errors.New("--model is required (the teacher model file)")}
	}
	r, err := remote.ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if r.Kind != remote.RefFile {
		return nil, fmt.Errorf("enrolment needs white-box access to the teacher (its weights, for adversarial probes and controls): %q is %s, not a model file; pass the teacher's .lnm or .safetensors file", remote.StripCredentials(ref), remoteKind(r.Kind))
	}
	if strings.HasSuffix(r.Path, ".safetensors") {
		return model.LoadSafetensors(r.Path)
	}
	return model.Load(r.Path)
}

func runEnroll(ctx context.Context, c *cobra.Command, g *globalOptions, o *enrollOptions, name string) error {
	start := time.Now()
	if err := store.CheckNewName("teacher", name); err != nil {
		return usageError{err}
	}
	opts := audit.EnrollOptions{Controls: o.controls, SuiteSize: o.suiteSize, Seed: o.seed, Workers: o.workers,
		Watermark: o.markProbes}
	if err := opts.Check(); err != nil {
		return enrollOptionsError(err)
	}
	// The name passed CheckNewName: only the length of the IDs made from
	// it can fail (found after the training, when the enrolment was saved).
	ids := opts.FingerprintIDs(name)
	if id := slices.MaxFunc(ids, func(a, b string) int { return cmp.Compare(len(a), len(b)) }); len(id) > store.MaxNameBytes {
		return usageError{fmt.Errorf("teacher name is %d bytes long: the enrolment would store fingerprint IDs of up to %d bytes (NAME%s), at most %d allowed", len(name), len(id), strings.TrimPrefix(id, name), store.MaxNameBytes)}
	}
	if o.markProbes < -1 {
		return usageError{fmt.Errorf("--watermark-probes %d: want -1 (none), 0 (default) or a positive number", o.markProbes)}
	}
	if n := cmp.Or(o.suiteSize, audit.DefaultSuiteSize); o.markProbes > n/2 {
		return usageError{fmt.Errorf("--watermark-probes %d: at most half the suite (%d of %d probes)", o.markProbes, n/2, n)}
	}
	markKey, err := watermarkKey(o.markKeyEnv)
	if err != nil {
		return err
	}
	teacher, err := loadTeacher(o.model)
	if err != nil {
		return err
	}
	noteDefaultedMetadata(c.ErrOrStderr(), o.model, teacher)
	data, err := loadDataset(ctx, o.data)
	if err != nil {
		return err
	}
	warnUnheldClasses(c.ErrOrStderr(), o.data, data.Split(dataset.SplitOptions{}))
	if err := checkTeacherFits(o.model, teacher.Info(), o.data, data, false); err != nil {
		return err
	}
	// A rerun of an enrolment that completed (killed after its commit,
	// before it printed) finds it stored with this teacher and settings:
	// there is nothing to do but print its report. Any other enrolment of
	// that name is refused before the long work (and again in the final
	// transaction, in case another process enrolled it meanwhile), without
	// creating the database yet: a failed enrolment leaves no file behind.
	opts.WatermarkKey = markKey
	var done *audit.EnrolReport
	if err := viewDBIfExists(ctx, g, func(tx *store.Tx) error {
		var diff string
		if done, diff = sameEnrolment(tx, name, teacher, data, opts); done != nil {
			return nil
		}
		return checkNewEnrolment(tx, name, opts, diff)
	}); err != nil {
		return err
	}
	if done == nil {
		if err := checkWritable(g); err != nil {
			return err
		}
	}
	if done != nil {
		fmt.Fprintf(c.ErrOrStderr(), "lineage enroll: %q is already enrolled with this teacher, data and settings (an earlier run completed); its report follows\n", name)
		return printEnrolReport(c, o.format, done)
	}

	bar := report.NewSteps(c.ErrOrStderr(), "enrol "+name, !o.noProgress && isTerminal(c.ErrOrStderr()))
	opts.Progress = bar.Report
	// Its last step, the calibration, does not watch ctx and takes seconds
	// on a large suite.
	enr, err := interruptible(ctx, func() (*audit.Enrolled, error) {
		return audit.Enroll(ctx, name, teacher, data, opts)
	})
	bar.End(err)
	if errors.Is(err, compare.ErrInsufficientNull) {
		return fmt.Errorf("enrol %q: too few negative controls to calibrate (raise --controls): %w", name, err)
	}
	if err != nil {
		return fmt.Errorf("enrol %q: %w", name, err)
	}
	if err := createDB(ctx, g, time.Since(start), func(tx *store.Tx) error {
		// The same enrolment run twice at once: the second to commit
		// finds the first's, as a rerun would.
		var diff string
		if done, diff = sameEnrolment(tx, name, teacher, data, opts); done != nil {
			return nil
		}
		if err := checkNewEnrolment(tx, name, opts, diff); err != nil {
			return err
		}
		return enr.Save(tx)
	}); err != nil {
		return fmt.Errorf("enrol %q: %w", name, err)
	}
	if done != nil {
		fmt.Fprintf(c.ErrOrStderr(), "lineage enroll: %q was enrolled with this teacher, data and settings by another run meanwhile; its report follows\n", name)
		return printEnrolReport(c, o.format, done)
	}
	return printEnrolReport(c, o.format, &enr.Report)
}

// printEnrolReport writes an enrolment report in format f.
func printEnrolReport(c *cobra.Command, f report.Format, r *audit.EnrolReport) error {
	if f == report.FormatJSON {
		return writeJSON(c.OutOrStdout(), r)
	}
	return report.RenderKV(c.OutOrStdout(), enrolKV(r), f)
}

// sameEnrolment returns the stored report of enrolment name when
// enrolling teacher from data with opts would make it again (see
// audit.Rerun), else nil and, when name is enrolled, the first setting
// that differs.
func sameEnrolment(tx *store.Tx, name string, teacher *model.MLP, data *dataset.Dataset, opts audit.EnrollOptions) (*audit.EnrolReport, string) {
	e, err := tx.Enrolment(name)
	if err != nil {
		return nil, ""
	}
	return audit.Rerun(e, teacher, data, opts)
}

// checkNewEnrolment fails when name is already enrolled, when a removed
// enrolment of that name left its suite name behind (db rm enrolment keeps
// it and the fingerprints; --purge removes them), or when a fingerprint is
// stored under one of the IDs the enrolment gives its teacher and controls
// (NAME/teacher, NAME/control-NN, which probe --name accepts): the new
// enrolment would collide with them only when it saves, after all the
// training. diff, when name is enrolled, says how that enrolment differs
// from this run's (see audit.Rerun).
func checkNewEnrolment(tx *store.Tx, name string, opts audit.EnrollOptions, diff string) error {
	if _, err := tx.Enrolment(name); err == nil {
		return fmt.Errorf("teacher %q: %w: %s (choose another name, or remove it with what it stored: `%s`)", name, store.ErrExists, diff, shellword.Command("lineage db rm enrolment", name, "--purge"))
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := tx.CheckNameForm("teacher", name); err != nil {
		return err
	}
	if h, ok := tx.SuiteHashStarting(name); ok {
		// --suite NAME would not know which suite is meant.
		return fmt.Errorf("teacher %q: the name is also the start of suite %.12s's hash, so `--suite %s` could mean either suite; choose another name", name, h, name)
	}
	if tx.HasSuiteName(name) {
		return fmt.Errorf("teacher %q: a suite of that name is stored, left by an earlier enrolment: %w (choose another name, or remove what that enrolment left: `%s`)", name, store.ErrExists, shellword.Command("lineage db rm enrolment", name, "--purge"))
	}
	for _, id := range opts.FingerprintIDs(name) {
		if tx.HasFingerprint(id) {
			// Not said to be an earlier enrolment's: with its suite
			// name gone (the check above), it is a fingerprint the user
			// stored under that ID, or one a purge kept because an audit
			// used it.
			what := "a control's fingerprint"
			if id == audit.TeacherID(name) {
				what = "its teacher's fingerprint"
			}
			return fmt.Errorf("teacher %q: fingerprint %q is stored, and the enrolment would store %s under that ID: %w (choose another name, or remove it with `%s`)", name, id, what, store.ErrExists, shellword.Command("lineage db rm fingerprint", id))
		}
	}
	return nil
}

// enrolKV is the enrolment report as key/value lines.
func enrolKV(r *audit.EnrolReport) report.KV {
	kv := report.KV{Title: "Enrolment of " + r.Name}
	kv.Add("teacher", report.Text(r.Name))
	kv.Add("teacher model", report.Text(r.Teacher.Name))
	kv.Add("teacher sha256", report.Text(r.Teacher.Hash))
	if r.Data != nil {
		kv.Add("dataset", report.Text(r.Data.Name))
		kv.Add("dataset sha256", report.Text(r.Data.Hash))
	}
	kv.Add("suite sha256 (publish this hash)", report.Text(r.Suite))
	kv.Add("probes", report.Int(int64(r.Probes)))
	kv.Add("composition", report.Text(compositionString(r)))
	kv.Add("candidate probes", report.Int(int64(r.Candidates)))
	kv.Add("positive controls", report.Int(int64(r.Positives)))
	kv.Add("negative controls", report.Int(int64(r.Negatives)))
	if r.UnderTrained > 0 {
		kv.Add("of these, under-trained (in the null of suspects like them)", report.Int(int64(r.UnderTrained)))
	}
	kv.Add("null size (calibration negatives)", report.Int(int64(r.Null)))
	kv.Add("statistics", report.Text(strings.Join(r.Statistics, ", ")))
	nPos := len(r.Calibration.PosP)
	kv.Add("calibration controls (derived / independent)", report.Text(fmt.Sprintf("%d / %d", nPos, len(r.Calibration.NegP))))
	for _, rate := range r.Calibration.Rates {
		a := strconv64(rate.Alpha)
		kv.Add("calibration TPR at α="+a, report.Float(rate.TPR, 3))
		kv.Add("calibration FPR at α="+a, report.Float(rate.FPR, 3))
		kv.Add("FPR 95% upper bound at α="+a, report.Float(rate.FPRUpper, 3))
	}
	kv.Add("calibration AUC", report.Float(r.Calibration.AUC, 3))
	if w := r.Watermark; w != nil {
		whitened := ""
		if len(w.Whitened) > 0 {
			whitened = ", leans whitened for " + strings.Join(w.Whitened, " and ")
		}
		kv.Add("watermark test", report.Text(fmt.Sprintf("%d probes, %d decoy keys%s; %d of %d independent controls at p ≤ %g (smallest p %.2g)",
			w.Probes, w.Decoys, whitened, w.Flagged, w.Negatives, w.Alpha, w.MinP)))
	}
	kv.Add("seed", report.Text(strconv.FormatUint(r.Seed, 10)))
	kv.Add("elapsed (s)", report.Float(r.ElapsedS, 1))
	kv.Notes = append(kv.Notes, "TPR and FPR are measured on the calibration half of the controls, which took no part in choosing the probes.")
	if nNeg := len(r.Calibration.NegP); r.UnderTrained > 0 && nNeg == r.Null+r.UnderTrained {
		// "null size 24" beside "3 / 32" read as a contradiction.
		kv.Notes = append(kv.Notes, fmt.Sprintf("The %d independent calibration controls are the null's %d and the %d under-trained ones, which join the null only of a suspect like them.", nNeg, r.Null, r.UnderTrained))
	}
	if !slices.Contains(r.Statistics, audit.StatResidual) {
		kv.Notes = append(kv.Notes, "This enrolment has fewer than two replicas of the teacher in its selection half (--controls 3): its features are plain similarities to the teacher, with no replica contrast or residual, and with one independent model per family in the calibration half the p-value holds against their pooled mix only, not against the hardest family. Enrol with --controls 8 or more for both.")
	}
	if nPos > 0 && nPos < audit.MinPowerControls {
		kv.Notes = append(kv.Notes, fmt.Sprintf("With %d derived controls in the calibration half, the TPR rests on too few to clear anyone: audits against this teacher say DERIVED or INCONCLUSIVE, never NOT_DERIVED (that needs %d; enrol with --controls %d or more).", nPos, audit.MinPowerControls, 2*audit.MinPowerControls))
	}
	if note := lowPowerNote(r.Calibration.Rates, nPos); note != "" {
		kv.Notes = append(kv.Notes, note)
	}
	if slices.Contains(r.Statistics, audit.StatWatermark) {
		kv.Notes = append(kv.Notes, "Audits also test for the label watermark `lineage serve --reveal label` puts on this teacher's answers; keep the store as secret as the weights.")
	}
	return kv
}

// lowPowerNote says at which of the rates' α the calibration half's
// derived controls were detected less often than an audit needs to clear
// a suspect (audit.MinPower), or returns "" when at none of them (or when
// too few derived controls were measured, which another note says). On
// small tabular datasets (breast cancer, wine, iris) default enrolments
// detected 0–38% at α=0.01, and the report gave no sign of it until every
// audit came back INCONCLUSIVE.
func lowPowerNote(rates []compare.Rate, nPos int) string {
	if nPos < audit.MinPowerControls {
		return ""
	}
	var low []string
	for _, rate := range rates {
		if rate.TPR >= 0 && rate.TPR < audit.MinPower {
			low = append(low, fmt.Sprintf("%.0f%% at α=%s", 100*rate.TPR, strconv64(rate.Alpha)))
		}
	}
	if len(low) == 0 {
		return ""
	}
	return fmt.Sprintf("Low power: the suite detected %s of the calibration half's derived controls, below the %.0f%% an audit needs to clear a suspect, so an audit at such an α says DERIVED or INCONCLUSIVE, never NOT_DERIVED (README: \"What lineage cannot tell\").", strings.Join(low, " and "), 100*audit.MinPower)
}

// compositionString formats the suite composition as "data 20, noise 5, …"
// in kind order.
func compositionString(r *audit.EnrolReport) string {
	kinds := make([]string, 0, len(r.Composition))
	for k := range r.Composition {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		for kk, n := range r.Composition {
			if string(kk) == k {
				parts[i] = fmt.Sprintf("%s %d", k, n)
			}
		}
	}
	return strings.Join(parts, ", ")
}

func strconv64(f float64) string { return fmt.Sprintf("%g", f) }

// enrollOptionsFlags are the flags of the audit.EnrollOptions fields an
// *audit.OptionError names.
var enrollOptionsFlags = map[string]string{"controls": "--controls", "suite size": "--suite-size", "workers": "--workers"}

// enrollOptionsError is the usage error of enrolment options out of
// range (audit.EnrollOptions.Check), naming the one flag at fault:
// "--controls -1: want 0 (the default) or 3 to 256". It named the three
// flags enroll checks ("--controls, --suite-size or --workers: ...").
func enrollOptionsError(err error) error {
	var oe *audit.OptionError
	flag, ok := "", false
	if errors.As(err, &oe) {
		flag, ok = enrollOptionsFlags[oe.Option]
	}
	if !ok {
		return usageError{err}
	}
	msg := fmt.Sprintf("%s %d: want %s", flag, oe.Value, oe.Want)
	if oe.Why != "" {
		msg += ": " + oe.Why
	}
	return usageError{errors.New(msg)}
}
