package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
	"github.com/spf13/cobra"
)

// minQPS is the smallest --qps taken: one request a day.
const minQPS = 1.0 / 86400

// remoteOptions are the flags of every command that takes a model
// reference: a file, an Open Inference Protocol URL or exec:COMMAND.
type remoteOptions struct {
	apiKeyEnv   string
	concurrency int
	qps         float64
	timeout     time.Duration
	startTO     time.Duration
	retries     int
	batchSize   int
	lenient     bool
	jsonOnly    bool
	logits      bool
	askAgain    int
	output      string
	labelMap    model.LabelMap // --label-map (zero: labels read by their names)

	cmd         *cobra.Command  // the command bound, whose stderr notes go to
	noted       map[string]bool // the flags noteNoEffect has spoken of
	remoteInRun bool            // another model of the run is remote: noteNoEffect says nothing
	alsoRemote  []string        // the command's other flags for a remote model only (distill's --db)
}

func (o *remoteOptions) bind(c *cobra.Command) {
	o.cmd = c
	f := c.Flags()
	f.StringVar(&o.apiKeyEnv, "api-key-env", "", "name of the environment variable holding the API key for a remote model")
	f.IntVar(&o.concurrency, "concurrency", 0, "requests in flight to a remote model (0: 4)")
	f.Float64Var(&o.qps, "qps", 0, "client-side limit of requests per second to a remote model (0: none)")
	f.DurationVar(&o.timeout, "timeout", 0, "timeout of one remote request (0: 30s)")
	f.DurationVar(&o.startTO, "start-timeout", 0, "wait for an exec: program's hello line (0: 1m, enough for a Python program to import its libraries)")
	f.IntVar(&o.retries, "retries", 0, "retries of a failed remote request (0: 6, negative: none)")
	f.IntVar(&o.batchSize, "remote-batch", 0, "inputs per remote request (0: 64)")
	f.BoolVar(&o.lenient, "lenient", false, "renormalise remote answers that do not sum to 1 (with a warning) instead of failing")
	f.BoolVar(&o.logits, "logits", false, "a remote model (OIP URL or exec:) answers with logits or log-probabilities: lineage takes their softmax (model files are not affected)")
	f.BoolVar(&o.jsonOnly, "json-only", false, "speak plain JSON to an OIP server even when it lists the binary tensor data extension")
	f.StringVar(&o.output, "output", "", `the output of an OIP model to read (default: "probabilities", else the first in FP32, FP64 or FP16)`)
}

// bindAskAgain adds --ask-again, for the commands that fingerprint a
// remote model (probe, audit, compare, reference add); eval and distill
// fingerprint nothing, and took it without effect.
func (o *remoteOptions) bindAskAgain(c *cobra.Command) {
	c.Flags().IntVar(&o.askAgain, "ask-again", 0, "probes a remote model is asked again once fingerprinted, to see whether it answers an input the same way twice (0: 8, negative: none, and an audit will not clear it)")
}

// bindLabelMap adds --label-map, for the commands that fingerprint a
// suspect (probe, audit, compare, reference add) and for eval, whose
// model's labels it reads as the dataset's rather than the teacher's.
func (o *remoteOptions) bindLabelMap(c *cobra.Command) {
	usage := "read the model's labels as the teacher's under the names you state: MODEL_LABEL=TEACHER_LABEL pairs, comma-separated, or @FILE with one pair a line; one-to-one onto the teacher's labels (stated by you, never fitted to the answers); a ',', '=' or leading '#' within a label is written \\, \\= or \\#"
	if c.Name() == "eval" {
		usage = "read MODEL's labels as the dataset's under the names you state: MODEL_LABEL=DATASET_LABEL pairs, comma-separated, or @FILE with one pair a line; one-to-one onto the dataset's labels (stated by you, never fitted to the answers; --against is read by its labels' names); a ',', '=' or leading '#' within a label is written \\, \\= or \\#"
	}
	c.Flags().Var((*labelMapFlag)(&o.labelMap), "label-map", usage)
}

// labelMapFlag is --label-map: pairs, or @FILE holding them, parsed when
// the flag is set (model.ParseLabelMap).
type labelMapFlag model.LabelMap

// maxLabelMapFile is the largest --label-map @FILE read: a pair per label
// of a model, each label at most model.MaxNameBytes.
const maxLabelMapFile = 16 << 20

// errLabelMapTwice refuses a second --label-map: the last would win and
// the first be dropped without a word, though both were stated.
var errLabelMapTwice = errors.New("given twice: state the whole map in one --label-map (pairs comma-separated, or @FILE)")

func (f *labelMapFlag) Set(v string) error {
	if !model.LabelMap(*f).IsZero() {
		return errLabelMapTwice
	}
	text, src := v, ""
	if path, ok := strings.CutPrefix(v, "@"); ok {
		b, err := readSmallFile(path, maxLabelMapFile)
		if err != nil {
			return err
		}
		// A byte-order mark (some editors save one) is not part of the
		// first label, nor of a first comment line holding '='.
		text, src = strings.TrimPrefix(string(b), "\ufeff"), fmt.Sprintf("file %q: ", path)
	}
	parse := model.ParseLabelMap
	if src != "" {
		parse = model.ParseLabelMapFile
	}
	lm, err := parse(text)
	if err != nil {
		return fmt.Errorf("%s%w", src, err)
	}
	*f = labelMapFlag(lm)
	return nil
}

func (f *labelMapFlag) String() string { return model.LabelMap(*f).Format(nil) }

func (f *labelMapFlag) Type() string { return "PAIRS" }

// readSmallFile reads the file at path, refusing one over limit bytes.
func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%q is over %d bytes", path, limit)
	}
	return b, nil
}

// options resolves the flags into remote.Options, reading the API key from
// the named environment variable (the key itself never appears in a flag).
func (o *remoteOptions) options() (remote.Options, error) {
	opts := remote.Options{
		Concurrency: o.concurrency, QPS: o.qps, Timeout: o.timeout, StartTimeout: o.startTO,
		MaxRetries: o.retries, BatchSize: o.batchSize, Lenient: o.lenient, JSONOnly: o.jsonOnly,
		Logits: o.logits, Output: o.output,
	}
	if err := o.check(); err != nil {
		return opts, err
	}
	if o.apiKeyEnv != "" {
		key, ok := os.LookupEnv(o.apiKeyEnv)
		if !ok || key == "" {
			return opts, usageError{fmt.Errorf("--api-key-env %s: the environment variable is not set", o.apiKeyEnv)}
		}
		if err := remote.CheckAPIKey(key); err != nil {
			return opts, usageError{fmt.Errorf("--api-key-env %s: %w", o.apiKeyEnv, err)}
		}
		opts.APIKey = key
	}
	return opts, nil
}

// check validates the flags (remote.Options.Validate's rules, named by
// flag) as usage errors.
func (o *remoteOptions) check() error {
	switch {
	case o.concurrency < 0 || o.concurrency > remote.MaxConcurrency:
		return usageError{fmt.Errorf("--concurrency %d: want 1 to %d (0: %d)", o.concurrency, remote.MaxConcurrency, remote.DefaultConcurrency)}
	case !(o.qps >= 0) || math.IsInf(o.qps, 0):
		return usageError{fmt.Errorf("--qps %v: want a finite number of requests per second ≥ 0 (0: no limit)", o.qps)}
	case o.qps > 0 && o.qps < minQPS:
		return usageError{fmt.Errorf("--qps %v: below one request a day (%.3g); 0 means no limit", o.qps, minQPS)}
	case o.timeout < 0:
		return usageError{fmt.Errorf("--timeout %v: want a positive duration (0: %v)", o.timeout, remote.DefaultTimeout)}
	case o.startTO < 0:
		return usageError{fmt.Errorf("--start-timeout %v: want a positive duration (0: %v)", o.startTO, remote.DefaultStartTimeout)}
	case o.batchSize < 0 || o.batchSize > remote.MaxBatchSize:
		return usageError{fmt.Errorf("--remote-batch %d: want 1 to %d (0: %d)", o.batchSize, remote.MaxBatchSize, remote.DefaultBatchSize)}
	}
	return nil
}

// open opens a model reference; the returned func releases it.
func (o *remoteOptions) open(ctx context.Context, ref string) (remote.Model, func(), error) {
	opts, err := o.options()
	if err != nil {
		return nil, func() {}, err
	}
	m, err := remote.Open(ctx, ref, opts)
	if err != nil {
		return nil, func() {}, err
	}
	if o.cmd != nil {
		noteDefaultedMetadata(o.cmd.ErrOrStderr(), remote.StripCredentials(ref), m)
		o.noteFile(ref)
	}
	return m, func() { m.Close() }, nil
}

// remoteOnly are the flags of remoteOptions that shape the requests to a
// remote model, or read its answers, and do nothing to a model file or to
// a stored fingerprint.
var remoteOnly = []string{"api-key-env", "concurrency", "qps", "timeout", "start-timeout", "retries",
	"remote-batch", "lenient", "json-only", "logits", "output", "ask-again"}

// noteFile says (noteNoEffect) which remote flags have no effect on ref
// when it is a model file, read in-process.
func (o *remoteOptions) noteFile(ref string) {
	if r, err := remote.ParseRef(ref); err == nil && r.Kind == remote.RefFile {
		o.noteNoEffect(r.Path + ", a model file read in-process")
	}
}

// noteStored says (noteNoEffect) which remote flags have no effect on the
// stored fingerprint id, which the command reads without asking a model.
func (o *remoteOptions) noteStored(id string) {
	o.noteNoEffect(fmt.Sprintf("stored fingerprint %q, whose answers were read when it was taken", id))
}

// noteNoEffect says on the command's standard error, one line per flag,
// which of the remote flags the user set explicitly have no effect on what
// (a model file or a stored fingerprint, described): a --qps or
// --concurrency meant to spare a server does nothing there, and the user
// should not believe it did. A flag is said once, on the first model the
// run reads, as none of them is remote (two files with three flags gave
// six lines). A warning, not an error: scripts pass the same flags
// whatever the model is. It says nothing when another model of the run is
// remote (remoteInRun), which the flags did shape.
func (o *remoteOptions) noteNoEffect(what string) {
	if o.cmd == nil || o.remoteInRun {
		return
	}
	if o.noted == nil {
		o.noted = map[string]bool{}
	}
	for _, f := range slices.Concat(remoteOnly, o.alsoRemote) {
		if fl := o.cmd.Flags().Lookup(f); fl != nil && fl.Changed && !o.noted[f] {
			o.noted[f] = true
			fmt.Fprintf(o.cmd.ErrOrStderr(), "%s: --%s has no effect on %s: it applies to a remote model (an Open Inference Protocol URL or exec:) only\n",
				o.cmd.CommandPath(), f, what)
		}
	}
}

// anyRemote reports whether one of refs is a remote model (an OIP URL or
// exec:), for remoteInRun.
func anyRemote(refs ...string) bool {
	for _, ref := range refs {
		if r, err := remote.ParseRef(ref); err == nil && r.Kind != remote.RefFile {
			return true
		}
	}
	return false
}

// journalBatch is the number of inputs per journaled batch: one remote
// request per concurrent slot (--remote-batch × --concurrency), so the
// requests of a batch run in parallel and a killed job loses at most the
// requests in flight.
func (o *remoteOptions) journalBatch() int {
	bs, c := o.batchSize, o.concurrency
	if bs <= 0 {
		bs = remote.DefaultBatchSize
	}
	if c <= 0 {
		c = remote.DefaultConcurrency
	}
	return bs * c
}

// remoteKind names what a reference of kind k that is not a model file
// points to, for errors: "an HTTP endpoint" or "an exec: program".
func remoteKind(k remote.RefKind) string {
	switch k {
	case remote.RefHTTP:
		return "an HTTP endpoint"
	case remote.RefExec:
		return "an exec: program"
	}
	return "a " + k.String() + " reference"
}
