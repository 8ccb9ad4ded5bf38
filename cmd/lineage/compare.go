package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// compareOptions are the flags of `lineage compare`.
type compareOptions struct {
	suite  string
	format report.Format
	remote remoteOptions
}

// newCompareCommand builds `lineage compare`.
func newCompareCommand(g *globalOptions) *cobra.Command {
	o := &compareOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "compare A B [--suite NAME]",
		Short: "Show the similarity statistics of two fingerprints side by side, per probe kind",
		Long: `compare measures how closely B's outputs follow A's on one probe suite: top-1 agreement,
mean Jensen–Shannon divergence (bits), the divergence after fitting B's temperature, and
agreement on the suite's mistake probes (held-out inputs its teacher gets wrong), over all
probes and per probe kind.

A and B are stored fingerprint IDs taken on the same suite, or model references (file,
OIP URL, exec:COMMAND), which are fingerprinted on --suite (default: the suite of the other
argument when it is a stored fingerprint) without storing anything. The database is only
read. --label-map applies to B, which must then be a model reference: its labels are read
as the suite's under the names it states (A's are read by their names).`,
		Example: `  lineage --db case.db compare acme/teacher suspect-1
  lineage --db case.db compare teacher.lnm student.lnm --suite acme --format json`,
		Args: exactArgs(2, "A B"),
		RunE: func(c *cobra.Command, args []string) error {
			return runCompare(c.Context(), c, g, o, args[0], args[1])
		},
	}
	g.bindDB(c, dbUsage)
	f := c.Flags()
	f.StringVar(&o.suite, "suite", "", "suite (enrolment name, suite hash or its first 8+ digits) on which to fingerprint model arguments")
	f.Var(&o.format, "format", formatUsage)
	o.remote.bind(c)
	o.remote.bindAskAgain(c)
	o.remote.bindLabelMap(c)
	return c
}

// compareReport is what `lineage compare` prints.
type compareReport struct {
	A     string `json:"a"`
	B     string `json:"b"`
	Suite string `json:"suite"`
	// ALabelMap and BLabelMap are the label maps A's and B's labels were
	// read with (fingerprint.Fingerprint.LabelMap), "" for by their names.
	ALabelMap string `json:"a_label_map,omitempty"`
	BLabelMap string `json:"b_label_map,omitempty"`
	compare.Stats
}

func runCompare(ctx context.Context, c *cobra.Command, g *globalOptions, o *compareOptions, a, b string) error {
	var (
		fps [2]*fingerprint.Fingerprint
		s   *probe.Suite
	)
	args := [2]string{a, b}
	err := viewDB(ctx, g, func(tx *store.Tx) error {
		for i, id := range args {
			if tx.HasFingerprint(id) {
				fp, err := tx.Fingerprint(id)
				if err != nil {
					return suiteGone(err, func(rm string) string {
						return "pass its model instead (compare fingerprints it on --suite), or remove the fingerprint with `" + rm + "`"
					})
				}
				if err := fileBesideFingerprint(id, fp); err != nil {
					return err
				}
				fps[i] = fp
			}
		}
		ref := o.suite
		switch {
		case fps[0] != nil && fps[1] != nil:
			if fps[0].Suite != fps[1].Suite {
				return fmt.Errorf("%s was fingerprinted on suite %.12s and %s on suite %.12s: compare needs fingerprints on the same suite", a, fps[0].Suite, b, fps[1].Suite)
			}
			if ref != "" {
				h, err := tx.SuiteHash(ref)
				if err != nil {
					return err
				}
				if h != fps[0].Suite {
					return fmt.Errorf("%s and %s were not fingerprinted on suite %q", a, b, ref)
				}
			}
			ref = fps[0].Suite
		case ref == "" && fps[0] != nil:
			ref = fps[0].Suite
		case ref == "" && fps[1] != nil:
			ref = fps[1].Suite
		case ref == "":
			return usageError{fmt.Errorf("neither %q nor %q is a stored fingerprint: pass --suite to fingerprint the models on", a, b)}
		}
		var err error
		s, err = tx.Suite(ref)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundHint(tx, ref, err)
		}
		return err
	})
	if err != nil {
		return err
	}
	if !o.remote.labelMap.IsZero() && fps[1] != nil {
		return usageError{fmt.Errorf("--label-map applies to B, and %q is a stored fingerprint (its labels were read when it was taken): pass a model reference as B", b)}
	}
	// The remote flags are noted as without effect on a model file or a
	// stored fingerprint when neither argument is a remote model; the
	// copies of o.remote below share what was noted.
	o.remote.noted = map[string]bool{}
	stored := [2]bool{fps[0] != nil, fps[1] != nil}
	for i, ref := range args {
		o.remote.remoteInRun = o.remote.remoteInRun || !stored[i] && anyRemote(ref)
	}
	for i, ref := range args {
		if fps[i] != nil {
			if fps[i].Suite != s.Hash {
				return fmt.Errorf("fingerprint %s was taken on suite %.12s, not on %.12s", ref, fps[i].Suite, s.Hash)
			}
			continue
		}
		if !isModelRef(ref) {
			return notFingerprintOrModel(ref)
		}
		ro := o.remote
		if i == 0 {
			ro.labelMap = model.LabelMap{} // --label-map reads B alone
		}
		if fps[i], err = fingerprintModel(ctx, &ro, ref, s, defaultFingerprintID(ref), 0); err != nil {
			if i == 0 {
				return labelMapHintAs(err, ro.labelMap, compareALabelMapHintText)
			}
			return labelMapHint(err, ro.labelMap)
		}
		warnTaken(c.ErrOrStderr(), fps[i], ref, s.Labels)
	}
	for i, ref := range args {
		if stored[i] {
			o.remote.noteStored(ref)
		}
	}
	st, err := compare.Compute(fps[0].P, fps[1].P, s.Kinds)
	// A URL's credentials are never printed.
	a, b = remote.StripCredentials(a), remote.StripCredentials(b)
	if err != nil {
		return fmt.Errorf("compare %s with %s: %w", a, b, err)
	}
	r := compareReport{A: a, B: b, Suite: s.Hash, ALabelMap: fps[0].LabelMap(), BLabelMap: fps[1].LabelMap(), Stats: st}
	if o.format == report.FormatJSON {
		return writeJSON(c.OutOrStdout(), r)
	}
	kv := report.KV{Title: fmt.Sprintf("%s vs %s", a, b)}
	kv.Add("A", report.Text(a))
	kv.Add("B", report.Text(b))
	kv.Add("suite", report.Text(s.Hash))
	if r.ALabelMap != "" {
		kv.Add("A's labels read as", report.Text(r.ALabelMap))
	}
	if r.BLabelMap != "" {
		kv.Add("B's labels read as", report.Text(r.BLabelMap))
	}
	kv.Add("probes", report.Int(int64(st.Probes)))
	kv.Add("classes", report.Int(int64(st.Classes)))
	if !st.LabelOnly { // labels have no temperature to fit
		kv.Add("B's temperature fitted to A", report.Float(st.Temperature, 3))
	}
	kv.Add("B label-only", report.Text(fmt.Sprint(st.LabelOnly)))
	if st.Degenerate != "" {
		kv.Add("B degenerate", report.Text(st.Degenerate))
	}
	vals := map[string]float64{}
	for k, v := range st.Values {
		vals[k] = v.Value
	}
	t := audit.PerKindTable(vals, audit.KindProbes(st.Values))
	t.Title = "Statistics per probe kind"
	t.Notes = []string{audit.PerKindNote("A", "B")}
	return report.RenderAll(c.OutOrStdout(), []report.Table{kv.Table(), t}, o.format)
}

// isModelRef reports whether ref can name a model: an existing file, a URL
// or an exec: command.
func isModelRef(ref string) bool {
	return fileExists(ref) || !isPlainPath(ref)
}

// compareALabelMapHintText is what labelMapHint's advice is for compare's
// A: --label-map reads B alone.
const compareALabelMapHintText = "; if they are the teacher's classes under other names, pass this model as B and state which is which with --label-map MODEL_LABEL=TEACHER_LABEL,... (it reads B alone; see the README)"
