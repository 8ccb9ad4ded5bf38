package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/visible"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/remote"
	"gonum.org/v1/gonum/blas/blas32"
)

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
	metaOutputs = fingerprint.MetaOutputs
	metaLogits  = "logits (softmax taken by lineage)"
)

// remoteInFlight is how many batches a remote model's fingerprint keeps in
// flight: the next batch's requests go out while the last answers of the
// previous one arrive (and are committed).
const remoteInFlight = 2

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
		inFlight = remoteInFlight
	}
	fp, err := fingerprint.Take(ctx, m, s, fingerprint.Options{ID: id, TopK: topK, BatchSize: batch, InFlight: inFlight, LabelMap: ro.labelMap})
	if err != nil {
		return nil, err
	}
	if r.Kind != remote.RefFile {
		if fp.Meta == nil {
			fp.Meta = map[string]string{}
		}
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
				v, err := recheck(ctx, raw, s, fp, k, step.nudge, ro.labelMap)
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
		if read, others, ok := chosenOutput(raw, ro); ok {
			fp.Meta[metaOutput] = read
			if len(others) > 0 {
				fp.Meta[metaOtherOutputs] = strings.Join(others, ",")
			}
			if ro.output != "" {
				fp.Meta[metaOutputChosen] = "--output"
			}
		}
		// What an audit clears it by, and a command reuses it by.
		fp.CoverRemote()
	}
	recordDefaulted(fp, m)
	return fp, nil
}

// labelMapHint adds to err, once, when it says that a model's labels
// are not those it was read against although it lists as many
// (model.ErrLabelNames) and no --label-map (lm) was given, that
// --label-map can state what they stand for: they may be the same
// classes under other names. Each command that reads a model's labels
// calls it on its whole error, at its top level.
func labelMapHint(err error, lm model.LabelMap) error {
	return labelMapHintAs(err, lm, labelMapHintText)
}

// labelMapHintAs is labelMapHint adding hint.
func labelMapHintAs(err error, lm model.LabelMap, hint string) error {
	if err == nil || !errors.Is(err, model.ErrLabelNames) || !lm.IsZero() {
		return err
	}
	return fmt.Errorf("%w%s", err, hint)
}

// labelMapHintText is what labelMapHint adds to an error.
const labelMapHintText = "; if they are the teacher's classes under other names, state which is which with --label-map MODEL_LABEL=TEACHER_LABEL,... (see the README)"

// recordDefaulted records in fp's Meta (fingerprint.MetaDefaulted) the
// metadata keys the model file behind m lacked, so that an audit of the
// fingerprint, now or from the store later, says its answers rest on
// lineage's defaults (see noteDefaultedMetadata), and hashes fp again:
// its hash covers the key.
func recordDefaulted(fp *fingerprint.Fingerprint, m remote.Model) {
	keys := defaultedKeys(m)
	if len(keys) == 0 {
		return
	}
	if fp.Meta == nil {
		fp.Meta = map[string]string{}
	}
	fp.Meta[fingerprint.MetaDefaulted] = strings.Join(keys, ",")
	fp.Hash = fp.ComputeHash()
}

// chosenOutput returns, when which output of m is read was a choice (an
// Open Inference Protocol model listing other outputs lineage could read,
// or --output given), the output read and the others; ok is false, and
// read "", otherwise.
func chosenOutput(m remote.Model, ro *remoteOptions) (read string, others []string, ok bool) {
	if j, isJ := m.(journaled); isJ {
		m = j.r
	}
	h, isHTTP := m.(*remote.HTTPModel)
	if !isHTTP {
		return "", nil, false
	}
	read, others = h.ReadableOutputs()
	if len(others) == 0 && ro.output == "" {
		return "", nil, false
	}
	return read, others, true
}

// journalOutput returns the output to name in the journal of m's answers
// (probeJob, distill's job): the one read when --output chose it, and ""
// for the default choice, which is the output older lineage read too: an
// interrupted run of it keeps its journal's name, and its answers.
func journalOutput(m remote.Model, ro *remoteOptions) string {
	if ro.output == "" {
		return ""
	}
	read, _, _ := chosenOutput(m, ro)
	return read
}

// metaOutput is the fingerprint Meta key naming the output an Open
// Inference Protocol model's answers were read from, metaOtherOutputs the
// other outputs it lists that lineage could have read (comma-separated),
// and metaOutputChosen says "--output" when that flag chose it (absent for
// the default choice); they are set only when the output was a choice
// (--output, or several candidates).
const (
	metaOutput       = fingerprint.MetaOutput
	metaOtherOutputs = "other_outputs"
	metaOutputChosen = fingerprint.MetaOutputChosen
)

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
func recheck(ctx context.Context, m remote.Model, s *probe.Suite, fp *fingerprint.Fingerprint, k int, nudge bool, lm model.LabelMap) (float64, error) {
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
	again, err := fingerprint.Take(ctx, m, sub, fingerprint.Options{BatchSize: k, TopK: fp.TopK, LabelMap: lm})
	if err != nil {
		return 0, fmt.Errorf("asking %d %s: %w", k, what, err)
	}
	var worst float64
	for i, r := range rows {
		worst = max(worst, compare.TotalVariation(fp.Row(r), again.Row(i)))
	}
	return min(worst, 1), nil // rows may sum to 1 ± RowSumTolerance
}

// maxOthersShown bounds the bytes of the other outputs' names warnTaken
// shows on its line.
const maxOthersShown = 640

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
	if others := fp.Meta[metaOtherOutputs]; others != "" {
		if len(others) > maxOthersShown {
			// Up to 256 outputs of 1 KB names: the fingerprint's meta
			// holds them all (lineage db show).
			others = strings.ToValidUTF8(others[:maxOthersShown], "") + "…"
		}
		fmt.Fprintf(stderr, "lineage: %s lists other outputs lineage could read (%s): its answers were read from %q (--output NAME reads another)\n", remote.StripCredentials(ref), others, fp.Meta[metaOutput])
	}
	if lm := fp.LabelMap(); lm != "" {
		fmt.Fprintf(stderr, "lineage: %s's labels were read as the suite's by the label map you stated (--label-map %s), not by their names\n", remote.StripCredentials(ref), lm)
		return
	}
	warnReordered(stderr, ref, fp.Model.Labels, "suite", labels)
}
