package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// probeOptions are the flags of `lineage probe`.
type probeOptions struct {
	suite   string
	name    string
	topK    int
	replace bool
	waited  bool // the run waited for another of the same job (claimJob)
	format  report.Format
	remote  remoteOptions
}

// newProbeCommand builds `lineage probe`.
func newProbeCommand(g *globalOptions) *cobra.Command {
	o := &probeOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "probe MODEL --suite NAME [--name ID]",
		Short: "Fingerprint a model on a stored probe suite and store the fingerprint",
		Long: `probe queries MODEL (a model file, an Open Inference Protocol URL or exec:COMMAND) on
every probe of a stored suite — named by its enrolment or by its hash — and stores the
model's output distributions as a fingerprint with ID --name (default: the model's base
name). It prints the number of queries, the time taken and the model's hash. Audit the
fingerprint later with 'lineage audit ID'.`,
		Example: `  lineage --db case.db probe suspect.lnm --suite acme --name suspect-1
  lineage --db case.db probe http://host:8080/v2/models/m --suite acme --name vendor-m --api-key-env VENDOR_KEY`,
		Args: exactArgs(1, "MODEL"),
		RunE: func(c *cobra.Command, args []string) error {
			defer g.releaseClaims() // once what it took is stored
			return labelMapHint(runProbe(c.Context(), c, g, o, args[0]), o.remote.labelMap)
		},
	}
	g.bindDB(c, dbUsage)
	f := c.Flags()
	f.StringVar(&o.suite, "suite", "", "the suite: an enrolment name, a suite hash or its first 8+ digits (required)")
	f.StringVar(&o.name, "name", "", "ID of the stored fingerprint (default: the model's base name; for exec:, the first argument with a . or / that is not a flag or a number, else the program's)")
	f.IntVar(&o.topK, "top-k", 0, "store only the K largest probabilities per probe, K below the suite's number of labels (0: all)")
	f.BoolVar(&o.replace, "replace", false, "replace a stored fingerprint with the same ID and other content (not one an enrolment or audit record uses)")
	f.Var(&o.format, "format", formatUsage)
	o.remote.bind(c)
	o.remote.bindAskAgain(c)
	o.remote.bindLabelMap(c)
	return c
}

// nameError is the error for a fingerprint name that CheckNewName
// refused: the flag's when given, else the name's taken from ref.
func nameError(flag, ref string, err error) error {
	if flag != "" {
		return fmt.Errorf("--name: %w", err)
	}
	return fmt.Errorf("the name taken from %s: %w; pass --name", remote.StripCredentials(ref), err)
}

// defaultFingerprintID derives a fingerprint ID from a model reference.
func defaultFingerprintID(ref string) string {
	r, err := remote.ParseRef(ref)
	if err != nil {
		return baseName(ref)
	}
	switch r.Kind {
	case remote.RefHTTP:
		return r.Model
	case remote.RefExec:
		// The script an interpreter runs ("exec:python3 model.py
		// --device cpu" is "model"), else the program itself: not the
		// last argument, which may be a flag or a flag's value, nor a
		// number ("exec:blend 0.25 a.lnm" was "0").
		for _, a := range r.Argv[min(1, len(r.Argv)):] {
			if _, err := strconv.ParseFloat(a, 64); err == nil {
				continue
			}
			if !strings.HasPrefix(a, "-") && strings.ContainsAny(a, "./") {
				return baseName(a)
			}
		}
		if len(r.Argv) > 0 {
			return baseName(r.Argv[0])
		}
	}
	return baseName(r.Path)
}

// probeReport is what `lineage probe` prints.
type probeReport struct {
	ID        string            `json:"id"`
	Suite     string            `json:"suite"`
	Model     string            `json:"model"`
	ModelHash string            `json:"model_hash"`
	Probes    int               `json:"probes"`
	Queries   int               `json:"queries"`
	ElapsedS  float64           `json:"elapsed_s"`
	PerQuery  float64           `json:"ms_per_query"`
	Hash      string            `json:"fingerprint_hash"`
	Meta      map[string]string `json:"meta,omitempty"`
}

func newProbeReport(fp *fingerprint.Fingerprint, ref string) probeReport {
	r := probeReport{ID: fp.ID, Suite: fp.Suite, Model: remote.StripCredentials(ref), ModelHash: fp.Model.Hash, Probes: fp.Len(),
		Queries: fp.Queries, ElapsedS: fp.Elapsed.Seconds(), Hash: fp.Hash, Meta: fp.Meta}
	if fp.Queries > 0 {
		r.PerQuery = float64(fp.Elapsed) / float64(time.Millisecond) / float64(fp.Queries)
	}
	return r
}

func (r probeReport) kv() report.KV {
	kv := report.KV{Title: "Fingerprint " + r.ID}
	kv.Add("fingerprint", report.Text(r.ID))
	kv.Add("model", report.Text(r.Model))
	if r.ModelHash != "" {
		kv.Add("model sha256", report.Text(r.ModelHash))
	} else {
		kv.Add("model sha256", report.Text("none (a remote model: no file to hash)"))
	}
	kv.Add("suite", report.Text(r.Suite))
	kv.Add("probes", report.Int(int64(r.Probes)))
	kv.Add("queries", report.Int(int64(r.Queries)))
	kv.Add("elapsed (s)", report.Fmt(r.ElapsedS, 'g', 3))
	kv.Add("ms per query", report.Fmt(r.PerQuery, 'g', 3))
	kv.Add("fingerprint sha256", report.Text(r.Hash))
	for _, k := range []string{fingerprint.MetaRemote, "source", metaOutputs, metaOutput, metaOtherOutputs, metaReplayed, "requests", "retries", "warnings", metaAskedAgain, fingerprint.MetaVariation, fingerprint.MetaNearby, fingerprint.MetaDefaulted, fingerprint.MetaLabelMap} {
		if v, ok := r.Meta[k]; ok {
			kv.Add(k, report.Text(v))
		}
	}
	return kv
}

func runProbe(ctx context.Context, c *cobra.Command, g *globalOptions, o *probeOptions, ref string) error {
	start := time.Now()
	if o.suite == "" {
		return usageError{errors.New("--suite is required (an enrolment name or a suite hash)")}
	}
	if o.topK < 0 {
		return usageError{fmt.Errorf("--top-k %d: want 0 or more (0: all)", o.topK)}
	}
	id := o.name
	if id == "" {
		id = defaultFingerprintID(ref)
	}
	if err := store.CheckNewName("fingerprint", id); err != nil {
		return usageError{nameError(o.name, ref, err)}
	}
	var (
		s           *probe.Suite
		stored      *fingerprint.Fingerprint
		storedUsers []string // what refers to stored
	)
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		var err error
		s, err = tx.Suite(o.suite)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundHint(tx, o.suite, err)
		}
		if err != nil {
			return err
		}
		if err := checkTopK(o.topK, o.suite, len(s.Labels)); err != nil {
			return err // before a remote model is asked anything
		}
		if err := tx.CheckNameForm("fingerprint", id); err != nil {
			return nameError(o.name, ref, err)
		}
		if !tx.HasFingerprint(id) {
			if isPlainPath(ref) {
				return nil // checked when it is stored, with the model's hash
			}
			// Not asked anything yet, as for a stored fingerprint below.
			return checkSuspectName(tx, id, func(fp *fingerprint.Fingerprint) bool { return sameModel(fp, ref, model.Info{}) })
		}
		if isPlainPath(ref) {
			return nil
		}
		// A remote model's answers are paid for: settle a clash with a
		// stored fingerprint before asking it anything.
		users := tx.FingerprintEnrolments(id)
		if o.replace {
			users = tx.FingerprintUsers(id)
		}
		if len(users) > 0 {
			return &store.InUseError{Kind: store.TypeFingerprint, Name: id, By: users, Op: "replace"}
		}
		if !o.replace {
			stored, err = tx.Fingerprint(id)
			storedUsers = tx.FingerprintUsers(id)
		}
		return suiteGone(err, func(string) string {
			return "pass --replace to take it anew from " + remote.Identity(ref) + ", or choose another --name"
		})
	}); err != nil {
		return err
	}
	if stored != nil {
		return probeStored(c, o, stored, s, ref, storedUsers)
	}
	fp, done, err := probeJournaled(ctx, c.ErrOrStderr(), "probe", g, &o.remote, ref, s, id, o.topK)
	if errors.Is(err, errStoredMeanwhile) && !o.waited {
		// The run of the same job this one waited for stored the
		// fingerprint: check it as a rerun does.
		o.waited = true
		return runProbe(ctx, c, g, o, ref)
	}
	if err != nil {
		return err
	}
	warnTaken(c.ErrOrStderr(), fp, ref, s.Labels)
	// The fingerprint is stored and the journal dropped in one
	// transaction: an interruption between two would leave a journal
	// whose rerun clashes with the stored fingerprint.
	var kept *fingerprint.Fingerprint // a record of these outputs stored before, which PutFingerprint kept
	if err := commitDB(ctx, g, time.Since(start), func(tx *store.Tx) error {
		kept = nil // commitDB may run this again
		if err := checkSuspectName(tx, fp.ID, func(other *fingerprint.Fingerprint) bool { return sameInfo(other.Model, fp.Model) }); err != nil {
			return err
		}
		if err := tx.PutFingerprint(fp, store.PutOptions{Replace: o.replace}); err != nil {
			return err
		}
		if stored, err := tx.Fingerprint(fp.ID); err == nil && stored.Hash != fp.Hash {
			kept = stored
		}
		return done(tx)
	}); err != nil {
		if errors.Is(err, store.ErrExists) {
			// A remote model's answers stay journalled under this name
			// (the journal is dropped only with the fingerprint stored):
			// a rerun with --replace asks the model nothing again.
			return fmt.Errorf("%w; pass --replace to store it over the old one (a remote model's answers are kept, and the rerun asks it nothing again), or choose another --name", err)
		}
		return answersKept(err, ref)
	}
	if kept != nil {
		fmt.Fprintf(c.ErrOrStderr(), "lineage: fingerprint %q is already stored with these outputs (%s): it was kept, and is shown; --replace stores this run's record instead\n", fp.ID, keptNote(kept, fp))
		fp = kept
	}
	r := newProbeReport(fp, ref)
	return printResult(c.OutOrStdout(), o.format, r, r.kv())
}

// keptNote says how kept, a stored fingerprint of the outputs of fp,
// differs from it: recorded under an older hash rule, or from the model
// read elsewhere.
func keptNote(kept, fp *fingerprint.Fingerprint) string {
	if rule := kept.Meta[fingerprint.MetaHashRule]; rule != fp.Meta[fingerprint.MetaHashRule] {
		return "recorded by an older lineage, whose hash leaves out its model header"
	}
	if kept.Model.Source != fp.Model.Source {
		return "taken from " + cmp.Or(kept.Model.Source, "a model without a source")
	}
	return "recorded otherwise"
}

// checkSuspectName fails when id is the suspect name of an audit record
// that measured another model than the one same recognises (audit MODEL
// --save --name id stores its fingerprints as id@TEACHER): the report
// shows a suspect's fingerprints under its name, so a fingerprint id of
// this model would be taken for that model's.
func checkSuspectName(tx *store.Tx, id string, same func(*fingerprint.Fingerprint) bool) error {
	other, err := otherModelIn(tx, id, func(fp *fingerprint.Fingerprint) bool { return fp.ID == id || same(fp) })
	if err != nil || other == nil {
		return err
	}
	return fmt.Errorf("fingerprint %q: the name is the suspect name of the audit record of another model (fingerprint %q, taken from %s), and the report would show the two as one suspect; choose another --name, or remove the record with `%s`",
		id, other.ID, cmp.Or(other.Model.Source, "model "+other.Model.Name), shellword.Command("lineage db rm audit", id))
}

// probeStored answers a probe of the remote model ref under the ID of the
// stored fingerprint fp without asking the model again, when fp was taken
// from ref on suite s: the command completes as its first run did (a rerun
// after a kill that came once the fingerprint was stored). A fingerprint
// of another model or suite under that ID is an error, before any query.
func probeStored(c *cobra.Command, o *probeOptions, fp *fingerprint.Fingerprint, s *probe.Suite, ref string, users []string) error {
	if !takenFrom(fp, s.Hash, ref, model.Info{}, o.topK, o.remote.reading()) {
		hint := fmt.Sprintf("pass --replace to take it anew from %s, or choose another --name", remote.Identity(ref))
		if len(users) > 0 {
			// --replace would be refused: say so now.
			hint = fmt.Sprintf("it is used by %s, so choose another --name", store.JoinUsers(users))
		}
		topK := ""
		if fp.TopK != o.topK {
			topK = fmt.Sprintf(", top-%d", fp.TopK)
		}
		return fmt.Errorf("fingerprint %q: %w (taken from %s on suite %.12s%s%s); %s",
			fp.ID, store.ErrExists, cmp.Or(fp.Model.Source, "a model file"), fp.Suite, topK, outputsNote(fp, ref, o.remote.reading()), hint)
	}
	fmt.Fprintf(c.ErrOrStderr(), "lineage: fingerprint %q is already stored, taken from this model on this suite: it was not asked again (--replace takes it anew)\n", fp.ID)
	r := newProbeReport(fp, ref)
	return printResult(c.OutOrStdout(), o.format, r, r.kv())
}

// checkTopK refuses a --top-k k that keeps every one of the n labels of
// suite (named as the user did): it would store the full outputs under the
// hash of --top-k 0, not the top-k fingerprint asked for, as serve and
// distill refuse --reveal topk:K for such a K.
func checkTopK(k int, suite string, n int) error {
	if k > 0 && k >= n {
		return usageError{fmt.Errorf("--top-k %d: want 1 to %d (0: all), suite %q having %d labels: a top-%d keeps every one, which is --top-k 0", k, n-1, suite, n, k)}
	}
	return nil
}
