package main

import (
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

	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/journal"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/store"
)

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
// answers replayed as its own. output, the output --output chose (see
// journalOutput; "" for the default choice), gets a part too. A model read
// as the suite lists its labels, without --logits and without --output,
// keeps the name older lineage gave.
func probeJob(ref string, s *probe.Suite, id string, labels []string, logits bool, output string) string {
	parts := []string{s.Hash, id}
	if !slices.Equal(labels, s.Labels) {
		sum := sha256.Sum256([]byte(strings.Join(labels, "\x00")))
		parts = append(parts, "labels="+hex.EncodeToString(sum[:8]))
	}
	if logits {
		parts = append(parts, "outputs=logits")
	}
	if output != "" {
		parts = append(parts, "output="+output)
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
	// The journal is written before the model is asked anything, and
	// even its metadata is not read for a store that cannot be written.
	if err := checkWritable(g); err != nil {
		return nil, nil, err
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
	job := probeJob(ref, s, id, m.Info().Labels, ro.logits, journalOutput(m, ro))
	// The claim is on the job without the parts for the labels and
	// outputs: two runs of one fingerprint ID clash whatever they read.
	release, waited, err := claimJob(ctx, stderr, cmd, g, probeClaim(ref, s.Hash, id))
	if ie := (interrupted{}); kept > 0 && errors.As(err, &ie) {
		// Interrupted while waiting: the earlier suites' answers are kept.
		ie.hint += "; " + keptHint(kept, g)
		return nil, nil, ie
	}
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			release()
			return
		}
		// Held until the command has stored the fingerprint and dropped
		// the journal: a run waiting for it then finds the fingerprint,
		// not a journal about to go.
		g.holdClaim(release)
	}()
	if waited {
		stored := false
		if err := viewDBIfExists(ctx, g, func(tx *store.Tx) error { stored = tx.HasFingerprint(id); return nil }); err != nil {
			return nil, nil, err
		}
		if stored {
			return nil, nil, fmt.Errorf("fingerprint %q: %w; the same command again uses it", id, errStoredMeanwhile)
		}
	}
	if err := noteOlderJournal(ctx, stderr, cmd, g, s, id); err != nil {
		return nil, nil, err
	}
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
		return nil, nil, journalMismatch(err, "the interrupted run", job, ro)
	}
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return nil, nil, interrupted{keptHint(kept+j.Kept(), g), err}
	}
	if err != nil {
		return nil, nil, err
	}
	if asked, replayed := j.Counts(); replayed > 0 {
		fmt.Fprintf(stderr, "lineage %s: resumed fingerprint %s: %d answers replayed from the journal, %d asked\n", cmd, id, replayed, asked)
		// requests and retries count this run's alone.
		fp.Meta[metaReplayed] = strconv.Itoa(replayed)
	}
	if n := j.Damaged(); n > 0 {
		fmt.Fprintf(stderr, "lineage %s: %d stored batches of answers were damaged and were asked again\n", cmd, n)
	}
	return fp, func(tx *store.Tx) error { return tx.DeleteAnswers(job) }, nil
}

// journalMismatch explains err, a journal's stored batch whose inputs are
// not this run's (journal.MismatchError) in job, which run (as "the
// interrupted run") left: its batches are --remote-batch × --concurrency
// inputs (remoteOptions.journalBatch), and the sizes tell the flags
// apart from this run's.
func journalMismatch(err error, run, job string, ro *remoteOptions) error {
	bs, c := ro.batchSize, ro.concurrency
	if bs <= 0 {
		bs = remote.DefaultBatchSize
	}
	if c <= 0 {
		c = remote.DefaultConcurrency
	}
	discard := "or discard its answers with `" + shellword.QuotedCommand("lineage db rm answers", job) + "`"
	var me *journal.MismatchError
	if errors.As(err, &me) && me.Stored != me.Rows && me.Rows == bs*c {
		return fmt.Errorf("%w; %s asked batches of --remote-batch × --concurrency = %d inputs, this one %d × %d = %d: rerun with flags whose product is %d, %s",
			err, run, me.Stored, bs, c, bs*c, me.Stored, discard)
	}
	return fmt.Errorf("%w: %s used another --remote-batch or --concurrency (this one: %d × %d inputs a batch); rerun with those, %s%s", err, run, bs, c, discard, olderQueriesNote(job))
}

// olderQueriesNote returns what journalMismatch adds for job, a journal
// whose batches may be those of this run's flags yet hold other inputs: a
// distillation's whose transfer draws noise or jitter queries, which
// lineage before 7 December 2026 drew otherwise on data of mixed scales
// (or whose name, hashed when long, does not say its transfer); "" for
// another job, a distillation of data or mixup queries among them.
func olderQueriesNote(job string) string {
	if !strings.HasPrefix(job, "distill:") {
		return ""
	}
	if _, rest, ok := strings.Cut(job, ":transfer="); ok {
		transfer, _, _ := strings.Cut(rest, ":")
		if !slices.ContainsFunc(strings.Split(transfer, ","), func(s string) bool {
			return s == string(distill.TransferNoise) || s == string(distill.TransferJitter)
		}) {
			return ""
		}
	}
	return " (lineage before 7 December 2026 drew noise and jitter queries on features of mixed scales within the global range: a distillation of those it left has answers to other queries, of no use now)"
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

// answersKept adds to err, the error of the commit that stores what a
// remote model ref answered (a probe's fingerprint, an audit's record),
// that the answers stay journalled when the commit failed as a full disk
// fails it (store.ErrCommit): they were committed batch by batch before,
// so the same command again asks the model nothing. Other errors, and
// those of a model file, are returned as they are.
func answersKept(err error, ref string) error {
	if !errors.Is(err, store.ErrCommit) || isPlainPath(ref) {
		return err
	}
	return fmt.Errorf("%w; the model's answers are kept in the journal: the same command again stores it without asking the model again", err)
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

// metaReplayed is the fingerprint Meta key counting the answers a resumed
// job replayed from its journal, asked by an earlier, interrupted run: the
// requests and retries recorded beside it are this run's alone.
const metaReplayed = "queries_replayed"

// olderProbeJob is the name lineage before 3 December 2026 gave the
// journal of a remote fingerprint id on suite s: without the model's
// identity, so that its answers cannot be told to be the model's.
func olderProbeJob(s *probe.Suite, id string) string { return "probe:" + s.Hash + ":" + id }

// noteOlderJournal says on stderr, for the command cmd, when the store
// holds the journal olderProbeJob names: answers an interrupted run of
// older lineage paid for, which are not replayed (they might be another
// model's) and would otherwise stay in the store unseen while the model is
// asked again.
func noteOlderJournal(ctx context.Context, stderr io.Writer, cmd string, g *globalOptions, s *probe.Suite, id string) error {
	old := olderProbeJob(s, id)
	n := 0
	err := viewDBIfExists(ctx, g, func(tx *store.Tx) error {
		for range tx.Answers(old) {
			n++
		}
		return nil
	})
	if err != nil || n == 0 {
		return err
	}
	fmt.Fprintf(stderr, "lineage %s: %d batches of answers stored by an interrupted run of lineage before 3 December 2026 are not replayed: "+
		"they do not name the model that gave them, so the model is asked again; once done, remove them with `%s`\n", cmd, n, shellword.QuotedCommand("lineage db rm answers", old))
	return nil
}
