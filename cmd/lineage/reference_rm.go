package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// referenceRmOptions are the flags of `lineage reference rm`.
type referenceRmOptions struct {
	teacher string
	purge   bool
	format  report.Format
}

// newReferenceRmCommand builds `lineage reference rm`.
func newReferenceRmCommand(g *globalOptions) *cobra.Command {
	o := &referenceRmOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "rm NAME [--for TEACHER] [--purge]",
		Short: "Take a reference model out of a teacher's null",
		Long: `reference rm takes the reference NAME (added with 'reference add') out of TEACHER's controls,
or out of every teacher it is a reference of when --for is not given, in one transaction.
Later audits no longer compare suspects with it; audits already recorded keep the verdicts
they reached with it in the null (audit the suspects again to use the new null; the output
says how many audit records name the teacher). The fingerprint stays stored (then
'db rm fingerprint NAME' removes it); --purge removes it too when no other teacher and no
audit record uses it. A teacher's own positive and negative controls
are not references and cannot be removed: its measured error rates rest on them.`,
		Example: `  lineage --db case.db reference rm vendor-b --for acme
  lineage --db case.db reference rm vendor-b --purge`,
		Args: exactArgs(1, "NAME"),
		RunE: func(c *cobra.Command, args []string) error { return runReferenceRm(c.Context(), c, g, o, args[0]) },
	}
	f := c.Flags()
	f.StringVar(&o.teacher, "for", "", "the teacher whose null it leaves (default: every teacher it is a reference of)")
	f.BoolVar(&o.purge, "purge", false, "remove its fingerprint too when nothing else uses it")
	f.Var(&o.format, "format", formatUsage)
	return c
}

// referenceRmTeacher is one teacher a reference left, with its null now.
type referenceRmTeacher struct {
	Teacher           string `json:"teacher"`
	NullSize          int    `json:"null_size"`
	NullSizeLabelOnly int    `json:"null_size_label_only"`
	EarlierAudits     int    `json:"earlier_audits"` // audit records naming the teacher
}

func runReferenceRm(ctx context.Context, c *cobra.Command, g *globalOptions, o *referenceRmOptions, id string) error {
	if c.Flags().Changed("for") && o.teacher == "" {
		return usageError{fmt.Errorf("reference rm: --for is empty (leave it out to remove %q from every teacher)", id)}
	}
	var r struct {
		Reference          string               `json:"reference"`
		Teachers           []referenceRmTeacher `json:"teachers"`
		FingerprintRemoved bool                 `json:"fingerprint_removed"`
		KeptFor            []string             `json:"fingerprint_kept_for,omitempty"`
	}
	r.Reference = id
	err := updateDB(ctx, g, func(tx *store.Tx) error {
		rm, err := tx.RemoveReference(o.teacher, id, o.purge)
		if err != nil {
			return err
		}
		r.FingerprintRemoved, r.KeptFor = rm.Fingerprint, rm.Kept
		audits, err := tx.Audits()
		if err != nil {
			return err
		}
		for _, name := range rm.Teachers {
			cs, err := audit.LoadCase(tx, name)
			if err != nil {
				return err
			}
			t := referenceRmTeacher{Teacher: name, NullSize: cs.NullSize(false), NullSizeLabelOnly: cs.NullSize(true)}
			for _, a := range audits {
				if slices.Contains(a.Against, name) {
					t.EarlierAudits++
				}
			}
			r.Teachers = append(r.Teachers, t)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reference rm %q: %w", id, err)
	}
	kv := report.KV{Title: "Reference " + id + " removed"}
	for _, t := range r.Teachers {
		kv.Add("teacher", report.Text(t.Teacher))
		kv.Add("null size now", report.Int(int64(t.NullSize)))
		kv.Add("null size now, label-only suspects", report.Int(int64(t.NullSizeLabelOnly)))
		if t.EarlierAudits > 0 {
			records := "audit records name"
			if t.EarlierAudits == 1 {
				records = "audit record names"
			}
			kv.Add("earlier audits", report.Text(fmt.Sprintf("%d %s %s: those recorded while %s was a reference keep the verdicts reached with it in the null; audit again to use the new null", t.EarlierAudits, records, t.Teacher, id)))
		}
	}
	switch {
	case r.FingerprintRemoved:
		kv.Add("fingerprint", report.Text("removed"))
	case len(r.KeptFor) > 0:
		kv.Add("fingerprint", report.Text("kept: used by "+store.JoinUsers(r.KeptFor)))
	default:
		kv.Add("fingerprint", report.Text("kept (remove it with `"+shellword.Command("lineage db rm fingerprint", id)+"`)"))
	}
	return printResult(c.OutOrStdout(), o.format, r, kv)
}
