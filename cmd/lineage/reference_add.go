package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// referenceAddOptions are the flags of `lineage reference add`.
type referenceAddOptions struct {
	model   string
	teacher string
	recipe  string
	force   bool
	format  report.Format
	remote  remoteOptions
}

// newReferenceAddCommand builds `lineage reference add`.
func newReferenceAddCommand(g *globalOptions) *cobra.Command {
	o := &referenceAddOptions{format: report.FormatTable}
	add := &cobra.Command{
		Use:   "add NAME --model M --for TEACHER",
		Short: "Fingerprint an independent model on a teacher's suite and add it to the teacher's null",
		Long: `reference add fingerprints model M (a file, an OIP URL or exec:COMMAND) on TEACHER's
suite, stores the fingerprint under ID NAME and adds it to the teacher's controls as a
reference: a model you know to be independent of the teacher. Later audits compare
suspects with the calibration half's negative controls and every reference, so more
references mean a better-estimated null (the references also count as one family of their
own, against which the p-value must hold too). Only add models you are sure were not derived
from the teacher: reference add audits the model first and refuses it when its p-value
against the teacher is at most 0.05, since one derived model among the references can clear
every copy that resembles it, or when the audit puts it outside the null (it follows the
teacher's top answer far less often than any independent model does, as an untrained model
does); --force adds it anyway. A suspect is never compared with
itself: an audit leaves a reference with the suspect's outputs out of its null.
A reference whose answers are labels only (an endpoint that serves no probabilities)
joins the null of label-only suspects only. A remote model's answers are committed as they
arrive, as 'lineage probe' does: an interrupted or refused reference add keeps them, and the
same command again asks the model nothing twice. 'reference ls' lists a teacher's references
and 'reference rm' takes one out of its null.`,
		Example: `  lineage --db case.db reference add vendor-b --model vendor-b.lnm --for acme`,
		Args:    exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error {
			defer g.releaseClaims() // once what it took is stored
			return labelMapHint(runReferenceAdd(c.Context(), c, g, o, args[0]), o.remote.labelMap)
		},
	}
	f := add.Flags()
	f.StringVar(&o.model, "model", "", "the independent model (required)")
	f.StringVar(&o.teacher, "for", "", "the enrolled teacher whose null it joins (required)")
	f.StringVar(&o.recipe, "recipe", "", "how the model was made, for the record (default: the model reference)")
	f.BoolVar(&o.force, "force", false, "add the model even if its audit finds it close to the teacher (p ≤ 0.05) or outside the null")
	f.Var(&o.format, "format", formatUsage)
	o.remote.bind(add)
	o.remote.bindAskAgain(add)
	o.remote.bindLabelMap(add)
	return add
}

func runReferenceAdd(ctx context.Context, c *cobra.Command, g *globalOptions, o *referenceAddOptions, id string) error {
	start := time.Now()
	switch {
	case o.model == "" && o.teacher == "":
		return usageError{errors.New("reference add: --model and --for are required (the independent model, and the enrolled teacher whose null it joins)")}
	case o.model == "":
		return usageError{errors.New("reference add: --model is required (the independent model)")}
	case o.teacher == "":
		return usageError{errors.New("reference add: --for is required (the enrolled teacher whose null it joins)")}
	}
	// Before the model is queried (a remote one is paid per query), as
	// probe does: the name would only be refused when stored.
	if err := store.CheckNewName("reference", id); err != nil {
		return usageError{fmt.Errorf("reference add: %w", err)}
	}
	var (
		cs     *audit.Case
		stored *fingerprint.Fingerprint
	)
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		cases, err := loadCases(tx, []string{o.teacher})
		if err != nil {
			return err
		}
		cs = cases[0]
		if err := currentCases(cases); err != nil {
			return fmt.Errorf("reference add: %w", err)
		}
		if err := tx.CheckNameForm("reference", id); err != nil {
			return fmt.Errorf("reference add: %w", err)
		}
		if isPlainPath(o.model) || !tx.HasFingerprint(id) {
			return nil
		}
		// A remote model's answers are paid for: settle a clash with a
		// stored fingerprint before asking it anything, and take one
		// stored from this model on this suite as it is.
		fp, err := tx.Fingerprint(id)
		if err != nil {
			return suiteGone(fmt.Errorf("reference add %q: %w", id, err), func(rm string) string {
				return "choose another NAME, or remove it with `" + rm + "`"
			})
		}
		if !takenFrom(fp, cs.Suite.Hash, o.model, model.Info{}, 0, o.remote.reading()) {
			return fmt.Errorf("reference add %q: fingerprint %q: %w (taken from %s on suite %.12s%s); choose another NAME",
				id, id, store.ErrExists, cmp.Or(fp.Model.Source, "a model file"), fp.Suite, outputsNote(fp, o.model, o.remote.reading()))
		}
		stored = fp
		return nil
	}); err != nil {
		return err
	}
	fp, done := stored, noJournal
	if stored != nil {
		fmt.Fprintf(c.ErrOrStderr(), "lineage: fingerprint %q is already stored, taken from this model on this suite: it was not asked again\n", id)
	} else {
		var err error
		// A remote model's answers are committed as they arrive, as
		// probe's are: an interrupted or refused reference add keeps them.
		if fp, done, err = probeJournaled(ctx, c.ErrOrStderr(), "reference add", g, &o.remote, o.model, cs.Suite, id, 0); err != nil {
			return err
		}
		warnTaken(c.ErrOrStderr(), fp, o.model, cs.Suite.Labels)
	}
	check := "not run (--force)"
	if !o.force {
		tr, err := interruptible(ctx, func() (audit.TeacherResult, error) {
			return audit.CheckReference(cs, fp)
		})
		if err != nil {
			if errors.Is(err, audit.ErrDerivedReference) || errors.Is(err, audit.ErrOutsideReference) {
				kept := ""
				if !isPlainPath(o.model) {
					kept = "; its answers are kept, and the rerun asks the model nothing again"
				}
				return fmt.Errorf("reference add %q: %w (pass --force to add it anyway%s)", id, err, kept)
			}
			return fmt.Errorf("reference add %q: %w", id, err)
		}
		check = fmt.Sprintf("audited at α = %g: %s, p = %.3g (a reference needs p > %g)", audit.ReferenceAlpha, tr.Verdict, tr.PValue, audit.ReferenceAlpha)
	}
	recipe := o.recipe
	if recipe == "" {
		recipe = "reference " + defaultFingerprintID(o.model)
	}
	var full, labelOnly int
	if err := commitDB(ctx, g, time.Since(start), func(tx *store.Tx) error {
		if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
			return err
		}
		if err := tx.AddReference(o.teacher, store.Control{FP: fp.ID, Role: store.RoleReference, Recipe: recipe}); err != nil {
			return err
		}
		if err := done(tx); err != nil {
			return err
		}
		cs, err := audit.LoadCase(tx, o.teacher)
		if err != nil {
			return err
		}
		full, labelOnly = cs.NullSize(false), cs.NullSize(true)
		return nil
	}); err != nil {
		return answersKept(fmt.Errorf("reference add %q: %w", id, err), o.model)
	}
	r := struct {
		probeReport
		Teacher           string `json:"teacher"`
		NullSize          int    `json:"null_size"`
		NullSizeLabelOnly int    `json:"null_size_label_only"`
		LabelOnly         bool   `json:"label_only,omitempty"`
		Check             string `json:"check"`
	}{newProbeReport(fp, o.model), o.teacher, full, labelOnly, compare.LabelOnly(fp.P), check}
	kv := r.probeReport.kv()
	kv.Title = "Reference " + id + " for " + o.teacher
	kv.Add("teacher", report.Text(o.teacher))
	kv.Add("null size now", report.Int(int64(full)))
	kv.Add("null size now, label-only suspects", report.Int(int64(labelOnly)))
	kv.Add("independence check (its audit against the teacher)", report.Text(check))
	if r.LabelOnly {
		// audit.Case.reference: a one-hot reference joins label-only nulls only.
		kv.Add("label only", report.Text("yes: it joins the null of label-only suspects only"))
	}
	return printResult(c.OutOrStdout(), o.format, r, kv)
}
