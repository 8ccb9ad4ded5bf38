package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/internal/visible"
	"github.com/lineage-audit/lineage/journal"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/lineage-audit/lineage/fingerprint"
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
		RunE: func(c *cobra.Command, args []string) error { return runProbe(c.Context(), c, g, o, args[0]) },
	}
	g.bindDB(c, dbUsage)
	f := c.Flags()
	f.StringVar(&o.suite, "suite", "", "the suite: an enrolment name, a suite hash or its first 8+ digits (required)")
	f.StringVar(&o.name, "name", "", "ID of the stored fingerprint (default: the model's base name)")
	f.IntVar(&o.topK, "top-k", 0, "store only the K largest probabilities per probe (0: all)")
	f.BoolVar(&o.replace, "replace", false, "replace a stored fingerprint with the same ID and other content (not one an enrolment or audit record uses)")
	f.Var(&o.format, "format", "output format: table, json, markdown or csv")
	o.remote.bind(c)
	return c
}

// fingerprintModel opens ref with the remote flags, fingerprints it on s and
// closes it. A remote model's endpoint and traffic go into the fingerprint's
// Meta.
func fingerprintModel(ctx context.Context, ro *remoteOptions, ref string, s *probe.Suite, id string, topK int) (*fingerprint.Fingerprint, error) {
	m, closeM, err := ro.open(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer closeM()
	return fingerprintOpened(ctx, ro, m, ref, s, id, topK)
}

// metaOutputs is the fingerprint Meta key that says how a remote model's
// answers were read: metaLogits for --logits, absent for probabilities.
const (
	metaOutputs = "outputs"
	metaLogits  = "logits (softmax taken by lineage)"
)

// fingerprintOpened fingerprints a model opened with the flags ro on s.
func fingerprintOpened(ctx context.Context, ro *remoteOptions, m remote.Model, ref string, s *probe.Suite, id string, topK int) (*fingerprint.Fingerprint, error) {
	return fingerprintBatched(ctx, ro, m, ref, s, id, topK, 0)
}

// fingerprintBatched is fingerprintOpened with batch probes per Predict
// call (0: the fingerprint package's default).
func fingerprintBatched(ctx context.Context, ro *remoteOptions, m remote.Model, ref string, s *probe.Suite, id string, topK, batch int) (*fingerprint.Fingerprint, error) {
	r, _ := remote.ParseRef(ref)
	before := m.Stats()
	inFlight := 1
	if r.Kind != remote.RefFile {
		// Two batches in flight: the next batch's requests go out while the
		// last answers of the previous one arrive (and are committed).
		inFlight = 2
	}
	fp, err := fingerprint.Take(ctx, m, s, fingerprint.Options{ID: id, TopK: topK, BatchSize: batch, InFlight: inFlight})
	if err != nil {
		return nil, err
	}
	if r.Kind != remote.RefFile {
		fp.Meta = map[string]string{}
		taken := m.Stats() // warnings count the fingerprint's repaired rows alone
		raw := m
		if jm, ok := m.(journaled); ok {
			raw = jm.r // asked afresh: the journal would replay its first answers
		}
		if k := ro.recheckProbes(); k > 0 {
			// Asked again, then the points next to the probes. The answers
			// to the suite stand if either fails (an audit without --save
			// journals none), but what failed, and what was not asked after
			// it, is unmeasured: the model is not taken for a steady one.
			steps := []struct {
				nudge       bool
				key, errKey string
			}{{false, fingerprint.MetaVariation, metaAskAgainError}, {true, fingerprint.MetaNearby, metaNearbyError}}
			asked := 0
			for i, step := range steps {
				v, err := recheck(ctx, raw, s, fp, k, step.nudge)
				if err != nil && ctx.Err() != nil {
					return nil, err
				}
				if err != nil {
					for _, later := range steps[i:] {
						fp.Meta[later.key] = fingerprint.VariationUnmeasured
					}
					fp.Meta[step.errKey] = visible.String(err.Error(), false)
					break
				}
				fp.Meta[step.key] = strconv.FormatFloat(v, 'g', 4, 64)
				asked += min(k, s.Len())
			}
			fp.Meta[metaAskedAgain] = strconv.Itoa(asked)
		}
		st := m.Stats() // the requests asking again took included
		fp.Meta[fingerprint.MetaRemote] = r.Kind.String()
		fp.Meta["source"] = remote.StripCredentials(m.Info().Source)
		fp.Meta["requests"] = strconv.FormatInt(st.Requests-before.Requests, 10)
		fp.Meta["retries"] = strconv.FormatInt(st.Retries-before.Retries, 10)
		fp.Meta["warnings"] = strconv.FormatInt(taken.Warnings-before.Warnings, 10)
		if ro.logits {
			fp.Meta[metaOutputs] = metaLogits
		}
	}
	return fp, nil
}

// metaAskAgainError is the fingerprint Meta key holding why asking the
// model again failed, and metaNearbyError why asking it the points next
// to probes failed after that went well (see recheck).
const (
	metaAskAgainError = "answer_variation_error"
	metaNearbyError   = "nearby_variation_error"
)

// metaAskedAgain is the fingerprint Meta key holding how many inputs were
// answered after the suite's own (its queries): the probes asked again
// and the points next to them. A step that failed is not counted, though
// some of its inputs may have been sent (requests counts those requests).
const metaAskedAgain = "queries_asked_again"

// defaultAskAgain is how many of a suite's probes a remote model is asked
// again once its fingerprint is taken, when --ask-again is 0.
const defaultAskAgain = 8

// recheckProbes returns how many probes --ask-again asks a remote model
// again: defaultAskAgain for 0, none for a negative value.
func (o *remoteOptions) recheckProbes() int {
	if o.askAgain == 0 {
		return defaultAskAgain
	}
	return max(o.askAgain, 0)
}

// recheck asks the remote model m again for k of the suite's probes,
// spread over it, or, with nudge, for the points next to them
// (probe.Suite.Nudged by probe.NudgeFraction), and returns the largest
// total-variation distance between its answer to a probe (in fp) and the
// new one. A model that answers an input differently each time (fresh
// noise on its outputs, say) has the first above 0; one that keys its
// noise on the exact input, so that asking again returns the same answer,
// has the second far above a trained network's. Either may hide a copy,
// so an audit does not clear such a model (see audit.MaxVariation and
// audit.MaxNearby). The answers are not journalled: a rerun asks again.
func recheck(ctx context.Context, m remote.Model, s *probe.Suite, fp *fingerprint.Fingerprint, k int, nudge bool) (float64, error) {
	n := s.Len()
	k = min(k, n)
	if k == 0 {
		return 0, nil
	}
	rows := make([]int, k)
	for i := range rows {
		rows[i] = i * n / k
	}
	sub := &probe.Suite{Name: s.Name, Labels: s.Labels, Kinds: make([]probe.Kind, k)}
	for i, r := range rows {
		sub.Kinds[i] = s.Kinds[r]
	}
	what := "probes again"
	if nudge {
		sub.X, what = s.Nudged(rows, probe.NudgeFraction), "points next to probes"
	} else {
		sub.X = blas32.General{Rows: k, Cols: s.Dim(), Stride: s.Dim(), Data: make([]float32, k*s.Dim())}
		for i, r := range rows {
			copy(sub.X.Data[i*s.Dim():(i+1)*s.Dim()], s.Row(r))
		}
	}
	// A top-k fingerprint's rows were compacted: the answers asked again
	// are compacted alike before they are compared.
	again, err := fingerprint.Take(ctx, m, sub, fingerprint.Options{BatchSize: k, TopK: fp.TopK})
	if err != nil {
		return 0, fmt.Errorf("asking %d %s: %w", k, what, err)
	}
	var worst float64
	for i, r := range rows {
		worst = max(worst, compare.TotalVariation(fp.Row(r), again.Row(i)))
	}
	return min(worst, 1), nil // rows may sum to 1 ± RowSumTolerance
}

// warnTaken says on stderr what the fingerprint fp, taken from ref on a
// suite with the given labels, holds that the model did not answer as
// such: rows --lenient repaired, or answers aligned to the suite's labels
// from another order.
func warnTaken(stderr io.Writer, fp *fingerprint.Fingerprint, ref string, labels []string) {
	if n, err := strconv.Atoi(fp.Meta["warnings"]); err == nil && n > 0 {
		fmt.Fprintf(stderr, "lineage: --lenient repaired %d answer rows of %s that were not probability distributions (negative values set to 0, rows rescaled to sum to 1)\n", n, remote.StripCredentials(ref))
	}
	if msg := fp.Meta[metaAskAgainError]; msg != "" {
		fmt.Fprintf(stderr, "lineage: %s: %s; its answers to the suite are used, but an audit will not clear it\n", remote.StripCredentials(ref), msg)
	}
	if msg := fp.Meta[metaNearbyError]; msg != "" {
		fmt.Fprintf(stderr, "lineage: %s: %s; its answers to the suite are used, but an audit of its full outputs will not clear it\n", remote.StripCredentials(ref), msg)
	}
	if _, asked := fp.Variation(); fp.Remote() && !asked {
		fmt.Fprintf(stderr, "lineage: %s was not asked again (--ask-again -1), so an audit will not clear it\n", remote.StripCredentials(ref))
	}
	if fp.Reordered(labels) {
		fmt.Fprintf(stderr, "lineage: %s lists the suite's labels in another order (%s); its answers were aligned to the suite's (%s) by label name\n", remote.StripCredentials(ref), model.LabelList(fp.Model.Labels), model.LabelList(labels))
	}
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
		// last argument, which may be a flag or a flag's value.
		for _, a := range r.Argv[min(1, len(r.Argv)):] {
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
	for _, k := range []string{fingerprint.MetaRemote, "source", metaOutputs, "requests", "retries", "warnings", metaAskedAgain, fingerprint.MetaVariation, fingerprint.MetaNearby} {
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
		return usageError{errors.New("--top-k must not be negative")}
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
			return fmt.Errorf("%w (enrolled: %s)", err, enrolledNames(tx))
		}
		if err != nil || isPlainPath(ref) || !tx.HasFingerprint(id) {
			return err
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
		return err
	}); err != nil {
		return err
	}
	if stored != nil {
		return probeStored(c, o, stored, s, ref, storedUsers)
	}
	fp, done, err := probeJournaled(ctx, c.ErrOrStderr(), "probe", g, &o.remote, ref, s, id, o.topK)
	if err != nil {
		return err
	}
	warnTaken(c.ErrOrStderr(), fp, ref, s.Labels)
	// The fingerprint is stored and the journal dropped in one
	// transaction: an interruption between two would leave a journal
	// whose rerun clashes with the stored fingerprint.
	if err := commitDB(ctx, g, time.Since(start), func(tx *store.Tx) error {
		if err := tx.PutFingerprint(fp, store.PutOptions{Replace: o.replace}); err != nil {
			return err
		}
		return done(tx)
	}); err != nil {
		if errors.Is(err, store.ErrExists) {
			// A remote model's answers stay journalled under this name
			// (the journal is dropped only with the fingerprint stored):
			// a rerun with --replace asks the model nothing again.
			return fmt.Errorf("%w; pass --replace to store it over the old one (a remote model's answers are kept, and the rerun asks it nothing again), or choose another --name", err)
		}
		return err
	}
	r := newProbeReport(fp, ref)
	return printResult(c.OutOrStdout(), o.format, r, r.kv())
}

// probeStored answers a probe of the remote model ref under the ID of the
// stored fingerprint fp without asking the model again, when fp was taken
// from ref on suite s: the command completes as its first run did (a rerun
// after a kill that came once the fingerprint was stored). A fingerprint
// of another model or suite under that ID is an error, before any query.
func probeStored(c *cobra.Command, o *probeOptions, fp *fingerprint.Fingerprint, s *probe.Suite, ref string, users []string) error {
	if !takenFrom(fp, s.Hash, ref, model.Info{}, o.topK, o.remote.logits) {
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
			fp.ID, store.ErrExists, cmp.Or(fp.Model.Source, "a model file"), fp.Suite, topK, outputsNote(fp, ref, o.remote.logits), hint)
	}
	fmt.Fprintf(c.ErrOrStderr(), "lineage: fingerprint %q is already stored, taken from this model on this suite: it was not asked again (--replace takes it anew)\n", fp.ID)
	r := newProbeReport(fp, ref)
	return printResult(c.OutOrStdout(), o.format, r, r.kv())
}

// journalJob names the journal of a remote job: kind, the model's
// identity (remote.Identity: a rerun against another server, or another
// program with the same command text, must not replay these answers as
// its own) and what else sets the answers, joined by colons. When that is
// longer than a record name may be, the identity is replaced by its
// SHA-256 prefix, and if that is not enough, all but kind.
func journalJob(kind, ref string, parts ...string) string {
	id := remote.Identity(ref)
	job := strings.Join(append([]string{kind, id}, parts...), ":")
	if len(job) > store.MaxNameBytes {
		sum := sha256.Sum256([]byte(id))
		job = strings.Join(append([]string{kind, hex.EncodeToString(sum[:8])}, parts...), ":")
	}
	if len(job) > store.MaxNameBytes {
		// A long fingerprint ID too: the whole of it, hashed.
		sum := sha256.Sum256([]byte(strings.Join(append([]string{id}, parts...), "\x00")))
		job = kind + ":" + hex.EncodeToString(sum[:16])
	}
	return job
}

// probeJob names the journal of the fingerprint id of the remote model ref
// on suite s (see journalJob), the model listing labels and read as logits
// or not. Answers are journalled as the model gives them: in its order of
// the labels (fingerprint.Take aligns them to the suite's) and after the
// softmax of --logits. So a model listing the labels in another order than
// the suite gets a hash of its order in the name, and --logits a part of
// its own: a rerun that reads the model otherwise must not have this run's
// answers replayed as its own. A model read as the suite lists its labels,
// without --logits, keeps the name older lineage gave.
func probeJob(ref string, s *probe.Suite, id string, labels []string, logits bool) string {
	parts := []string{s.Hash, id}
	if !slices.Equal(labels, s.Labels) {
		sum := sha256.Sum256([]byte(strings.Join(labels, "\x00")))
		parts = append(parts, "labels="+hex.EncodeToString(sum[:8]))
	}
	if logits {
		parts = append(parts, "outputs=logits")
	}
	return journalJob("probe", ref, parts...)
}

// probeJournaled fingerprints ref on s for the command cmd (for messages):
// a model file directly, a remote model through fingerprintJournaled.
func probeJournaled(ctx context.Context, stderr io.Writer, cmd string, g *globalOptions, ro *remoteOptions, ref string, s *probe.Suite, id string, topK int) (fp *fingerprint.Fingerprint, done func(*store.Tx) error, err error) {
	if isPlainPath(ref) {
		fp, err = fingerprintModel(ctx, ro, ref, s, id, topK)
		return fp, noJournal, err
	}
	m, closeM, err := ro.open(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	defer closeM()
	return fingerprintJournaled(ctx, stderr, cmd, g, ro, m, ref, s, id, topK, 0)
}

// noJournal is the done func of a fingerprint taken without a journal.
func noJournal(*store.Tx) error { return nil }

// fingerprintJournaled fingerprints m, the opened remote model ref, on s.
// Its answers are committed to the database batch by batch (package
// journal), so a command that is killed resumes where it stopped and asks
// nothing twice; the journal is dropped by done, which the command calls
// in the transaction that stores the fingerprint. The job is named by the
// suite, the fingerprint ID and the endpoint, whichever command (cmd, for
// messages) takes the fingerprint: `lineage probe` and `lineage audit
// --save` of the same model under the same ID share their answers.
//
// kept is the number of answers the command's earlier journals hold (an
// audit against several teachers journals one fingerprint per suite), so
// that an interruption counts every answer kept, not this suite's alone.
func fingerprintJournaled(ctx context.Context, stderr io.Writer, cmd string, g *globalOptions, ro *remoteOptions, m remote.Model, ref string, s *probe.Suite, id string, topK, kept int) (fp *fingerprint.Fingerprint, done func(*store.Tx) error, err error) {
	job := probeJob(ref, s, id, m.Info().Labels, ro.logits)
	j, err := journal.New(ctx, m, newDBPerCall(ctx, g), job)
	if err != nil {
		if kept > 0 && ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return nil, nil, interrupted{keptHint(kept, g), err}
		}
		return nil, nil, err
	}
	drainOnInterrupt(ctx, j, stderr, cmd)
	fp, err = fingerprintBatched(ctx, ro, journaled{j, m}, ref, s, id, topK, ro.journalBatch())
	if errors.Is(err, journal.ErrMismatch) {
		return nil, nil, fmt.Errorf("%w: the interrupted run used another --remote-batch or --concurrency; rerun with those, or discard its answers with `lineage db rm answers '%s'`", err, job)
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		asked, replayed := j.Counts()
		return nil, nil, interrupted{keptHint(kept+asked+replayed, g), err}
	}
	if err != nil {
		return nil, nil, err
	}
	if asked, replayed := j.Counts(); replayed > 0 {
		fmt.Fprintf(stderr, "lineage %s: resumed fingerprint %s: %d answers replayed from the journal, %d asked\n", cmd, id, replayed, asked)
	}
	if n := j.Damaged(); n > 0 {
		fmt.Fprintf(stderr, "lineage %s: %d stored batches of answers were damaged and were asked again\n", cmd, n)
	}
	return fp, func(tx *store.Tx) error { return tx.DeleteAnswers(job) }, nil
}

// remoteDrain is how long an interrupted remote job lets the batches in
// flight finish: some of their requests are sent and paid for, and a
// batch is committed (and never asked again) only whole.
const remoteDrain = 10 * time.Second

// drainOnInterrupt makes j finish the batches in flight when the job
// stops (within remoteDrain), and says so on stderr: after an interrupt,
// the end of ctx, the command's context, or when the job stops because
// one of its batches failed (the error follows once the others are done).
func drainOnInterrupt(ctx context.Context, j *journal.Model, stderr io.Writer, cmd string) {
	j.Drain = remoteDrain
	j.OnDrain = func() {
		if ctx.Err() == nil {
			fmt.Fprintf(stderr, "lineage %s: a batch failed: finishing the batches in flight (up to %v) so that the answers already paid for are kept\n", cmd, remoteDrain)
			return
		}
		fmt.Fprintf(stderr, "lineage %s: stopping: finishing the batches in flight (up to %v) so that the answers already paid for are kept (Ctrl-C again to exit at once)\n", cmd, remoteDrain)
	}
}

// keptHint is what an interrupted remote job says of the n answers its
// journals keep.
func keptHint(n int, g *globalOptions) string {
	if n == 0 {
		return "no answer was kept; the same command again starts afresh"
	}
	return fmt.Sprintf("%d answers are kept in %s; the same command again resumes without asking for them", n, g.dbPath())
}

// journaled is a journal.Model that keeps the remote model's Stats and Close.
type journaled struct {
	*journal.Model
	r remote.Model
}

func (j journaled) Stats() remote.Stats { return j.r.Stats() }
func (j journaled) Close() error        { return j.r.Close() }
