package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/journal"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
)

// TestJournalJob checks that a journal's name fits a record key however
// long the model reference (distill's did not, and a teacher behind a
// 1 KB exec: command was asked again on every run), and still tells two
// such models apart.
func TestJournalJob(t *testing.T) {
	long := "exec:/bin/sh model.sh " + strings.Repeat("x", 1100)
	a, b := journalJob("distill", long, "h", "seed=1"), journalJob("distill", long+"y", "h", "seed=1")
	if len(a) > store.MaxNameBytes || store.CheckName("answers", a) != nil || a == b {
		t.Errorf("journalJob of long references: %q (%d bytes) and %q; want two distinct valid keys", a, len(a), b)
	}
	longID := strings.Repeat("n", 1000)
	if c, d := journalJob("probe", "exec:/bin/sh m.sh", "suite", longID), journalJob("probe", "exec:/bin/sh m.sh", "suite", longID+"x"); len(c) > store.MaxNameBytes || c == d {
		t.Errorf("journalJob of a 1,000-byte fingerprint ID: %q and %q; want two distinct valid keys", c, d)
	}
	if got, want := journalJob("probe", "http://u:pw@host/v2/models/m", "suite", "id"), "probe:http://host/v2/models/m:suite:id"; got != want {
		t.Errorf("journalJob of a URL: got %q, want %q", got, want)
	}
}

// TestProbeJob checks the probe journal's name: the name older lineage
// gave for a model read as the suite lists its labels, without --logits;
// another for a model listing the labels in another order, or read as
// logits, or from an output chosen among several, so that a rerun reading
// the model otherwise replays nothing.
func TestProbeJob(t *testing.T) {
	s := &probe.Suite{Hash: "h", Labels: []string{"a", "b", "c"}}
	const ref = "exec:/bin/sh m.sh"
	base := probeJob(ref, s, "id", s.Labels, false, "")
	if want := journalJob("probe", ref, "h", "id"); base != want {
		t.Errorf("probeJob of a model in the suite's order = %q, want the old name %q", base, want)
	}
	seen := map[string]string{base: "suite's order"}
	for name, job := range map[string]string{
		"other order":            probeJob(ref, s, "id", []string{"c", "a", "b"}, false, ""),
		"another order":          probeJob(ref, s, "id", []string{"b", "a", "c"}, false, ""),
		"logits":                 probeJob(ref, s, "id", s.Labels, true, ""),
		"output":                 probeJob(ref, s, "id", s.Labels, false, "calibrated"),
		"another output":         probeJob(ref, s, "id", s.Labels, false, "uniform"),
		"other order and logits": probeJob(ref, s, "id", []string{"c", "a", "b"}, true, ""),
	} {
		if other, ok := seen[job]; ok {
			t.Errorf("%s and %s share the journal %q", name, other, job)
		}
		seen[job] = name
	}
}

// TestDrainOnInterruptNotice: the notice of the batches left to finish
// says "Ctrl-C again to exit at once" when the command is interrupted,
// not when the job stops its other batches after one failed.
func TestDrainOnInterruptNotice(t *testing.T) {
	for _, interrupted := range []bool{false, true} {
		ctx, cancel := context.WithCancel(context.Background())
		if interrupted {
			cancel()
		}
		var stderr bytes.Buffer
		j := &journal.Model{}
		drainOnInterrupt(ctx, j, &stderr, "probe")
		j.OnDrain()
		want := "lineage probe: a batch failed: finishing the batches in flight"
		if interrupted {
			want = "(Ctrl-C again to exit at once)"
		}
		if got := stderr.String(); !strings.Contains(got, want) || strings.Count(got, "\n") != 1 {
			t.Errorf("interrupted %v: stderr %q, want one line holding %q", interrupted, got, want)
		}
		if j.Drain != remoteDrain {
			t.Errorf("interrupted %v: Drain %v, want %v", interrupted, j.Drain, remoteDrain)
		}
		cancel()
	}
}

// TestJournalMismatch checks what a rerun says of a journal batched
// otherwise: the batch sizes of both runs and the flags that make them
// (it used to say only "another --remote-batch or --concurrency"), and,
// of a distillation's, that an older lineage made other queries.
func TestJournalMismatch(t *testing.T) {
	const olderNote = " (lineage before 7 December 2026 drew noise and jitter queries on features of mixed scales within the global range: a distillation of those it left has answers to other queries, of no use now)"
	tests := []struct {
		name        string
		batch, conc int
		err         error
		want        string
	}{
		{"other batch size", 8, 1, &journal.MismatchError{Job: "j", Batch: 1, Stored: 4, Rows: 8},
			"; the interrupted run asked batches of --remote-batch × --concurrency = 4 inputs, this one 8 × 1 = 8: rerun with flags whose product is 4, or discard its answers with `lineage db rm answers 'j'`"},
		{"defaults", 0, 0, &journal.MismatchError{Job: "j", Stored: 64, Rows: 256},
			"this one 64 × 4 = 256: rerun with flags whose product is 64"},
		{"same size", 4, 2, &journal.MismatchError{Job: "j", Stored: 8, Rows: 8},
			": the interrupted run used another --remote-batch or --concurrency (this one: 4 × 2 inputs a batch); rerun with those, or discard"},
		// A distillation's journal of lineage before 7 December 2026 on
		// mixed-scale data: its noise queries were others, whatever the
		// flags (the message named only the flags, which were the same).
		{"same size, distillation", 16, 1, &journal.MismatchError{Job: "distill:m:h:transfer=noise:queries=9:jitter=0:seed=1", Stored: 16, Rows: 16},
			": the interrupted run used another --remote-batch or --concurrency (this one: 16 × 1 inputs a batch); rerun with those, or discard its answers with `lineage db rm answers 'distill:m:h:transfer=noise:queries=9:jitter=0:seed=1'`" + olderNote},
		{"same size, distillation with jitter", 16, 1, &journal.MismatchError{Job: "distill:m:h:transfer=data,jitter:queries=9:jitter=0.1:seed=1", Stored: 16, Rows: 16},
			"'distill:m:h:transfer=data,jitter:queries=9:jitter=0.1:seed=1'`" + olderNote},
		// Data and mixup queries were drawn as they are now: the note
		// would send the reader after a change that made none.
		{"same size, distillation of data and mixup", 16, 1, &journal.MismatchError{Job: "distill:http://h:8080/v2/models/m:0123456789abcdef:transfer=data,mixup:queries=9:jitter=0:seed=1", Stored: 16, Rows: 16},
			"transfer=data,mixup:queries=9:jitter=0:seed=1'`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := "j"
			if me := tt.err.(*journal.MismatchError); strings.HasPrefix(me.Job, "distill:") {
				job = me.Job
			}
			err := journalMismatch(tt.err, "the interrupted run", job, &remoteOptions{batchSize: tt.batch, concurrency: tt.conc})
			if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, journal.ErrMismatch) {
				t.Errorf("got %q, want it to contain %q and wrap journal.ErrMismatch", err, tt.want)
			}
			if noted := strings.Contains(err.Error(), olderNote); noted != strings.HasSuffix(tt.want, olderNote) {
				t.Errorf("got %q: holds the note on older distillations %v, want %v", err, noted, !noted)
			}
		})
	}
}

// TestRmAnswersCommandQuoted checks that the `lineage db rm answers JOB`
// command a message suggests gives the shell the job's name back, one
// holding an apostrophe too (a fingerprint ID such as o'brien): it was
// put between apostrophes as it was, which a shell reads as an unfinished
// string.
func TestRmAnswersCommandQuoted(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, job := range []string{"probe:http://h:8080/v2/models/m:0123abcd:o'brien", "j", "a''b 'c' $HOME"} {
		err := journalMismatch(&journal.MismatchError{Job: job, Stored: 4, Rows: 8}, "the interrupted run", job, &remoteOptions{batchSize: 8, concurrency: 1})
		_, cmd, _ := strings.Cut(err.Error(), "`lineage db rm answers ")
		cmd, _, _ = strings.Cut(cmd, "`")
		out, err := exec.Command(sh, "-c", "printf %s "+cmd).Output()
		if err != nil || string(out) != job {
			t.Errorf("job %q: the command's argument %s reads in sh as %q (err %v)", job, cmd, out, err)
		}
	}
}
