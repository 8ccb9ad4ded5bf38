package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/internal/fifo"
)

// interruptAtFirstEpoch runs lineage args in-process with --log on a
// named pipe, and cancels its context once the first epoch is logged (so
// once its checkpoint is written): the run stops with its checkpoint
// kept, as after Ctrl-C.
func interruptAtFirstEpoch(t *testing.T, args ...string) (int, string) {
	t.Helper()
	if err := fifo.Make("epochs.pipe", 0o600); errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	defer os.Remove("epochs.pipe")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		f, err := os.Open("epochs.pipe")
		if err != nil {
			cancel()
			return
		}
		defer f.Close()
		r := bufio.NewReader(f)
		if _, err := r.ReadString('\n'); err == nil {
			cancel()
		}
		io.Copy(io.Discard, r) // the epochs logged before the run stops
	}()
	root := newRootCommand()
	root.SetArgs(append(args, "--log", "epochs.pipe"))
	var out, errw bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errw)
	err := root.ExecuteContext(ctx)
	return exitCode(&errw, err), errw.String()
}

// TestResumeChangedFlags interrupts a distillation and resumes it with
// other flags: the refusal names each flag that differs with both its
// values (it used to say only "written by a different configuration, data
// or teacher"), the checkpoint is kept, and the same flags resume it.
func TestResumeChangedFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	if code, stderr := runLineage(t, "train", "--data", "digits", "--hidden", "8", "--epochs", "1", "--no-progress", "--out", "t.lnm"); code != 0 {
		t.Fatalf("train the teacher: exit %d, %s", code, stderr)
	}
	dist := []string{"distill", "--teacher", "t.lnm", "--data", "digits", "--hidden", "4", "--epochs", "50", "--no-progress", "--out", "s.lnm"}
	code, stderr := interruptAtFirstEpoch(t, append(dist, "--temperature", "4")...)
	if code == 0 || !strings.Contains(stderr, `checkpoint saved to "s.lnm.ckpt"`) {
		t.Fatalf("interrupted distill: exit %d, %q; want a checkpoint saved", code, stderr)
	}
	ckpt, err := os.ReadFile("s.lnm.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	const fix = "; rerun with the same flags to continue it, or remove the checkpoint to start afresh\n"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"temperature", append(dist, "--resume", "--temperature", "2"),
			`lineage: resume "s.lnm.ckpt": --temperature was 4, now 2` + fix},
		{"jitter and epochs", append(dist[:len(dist):len(dist)], "--resume", "--transfer", "data,jitter", "--jitter", "0.5", "--epochs", "60"),
			`lineage: resume "s.lnm.ckpt": --transfer was data, now data,jitter; --jitter was 0, now 0.5; --epochs was 50, now 60` + fix},
		{"train", []string{"train", "--data", "digits", "--hidden", "4", "--epochs", "50", "--no-progress", "--out", "s.lnm", "--resume", "--seed", "2"},
			`lineage: resume "s.lnm.ckpt": it is a distillation's, from --teacher t.lnm (sha256 `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := runLineage(t, tt.args...)
			if code != 1 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit 1 and one line containing %q", code, stderr, tt.want)
			}
			if b, err := os.ReadFile("s.lnm.ckpt"); err != nil || !bytes.Equal(b, ckpt) {
				t.Errorf("the checkpoint is gone or changed (%v)", err)
			}
		})
	}
	if code, stderr := runLineage(t, append(dist, "--resume", "--temperature", "4")...); code != 0 {
		t.Errorf("resume with the same flags: exit %d, %s", code, stderr)
	}
}

// TestResumeChanged checks the line resumeChanged makes of each kind of
// distill.ConfigChangedError, and that it leaves other errors alone.
func TestResumeChanged(t *testing.T) {
	other := errors.New("other")
	if got := resumeChanged(other); got != other {
		t.Errorf("resumeChanged(other) = %v, want it unchanged", got)
	}
	tests := []struct {
		name    string
		changes []distill.Change
		want    string
	}{
		{"older checkpoint", nil, `resume "c": it was written with other flags, data or teacher (this checkpoint does not record which); rerun`},
		{"query batch", []distill.Change{{Field: "query_batch", Was: "256", Now: "512"}},
			`resume "c": the teacher's batch (--remote-batch × --concurrency) was 256, now 512; rerun`},
		{"data", []distill.Change{{Field: distill.ChangeTrain, Was: "aa", Now: "bb"}},
			`resume "c": the training split of --data (sha256) was aa, now bb; rerun`},
		{"unknown field", []distill.Change{{Field: "future", Was: "1", Now: "2"}}, `resume "c": future was 1, now 2; rerun`},
		{"train to distill", []distill.Change{
			{Field: "temperature", Was: "0", Now: "4"}, {Field: "seed", Was: "1", Now: "2"},
			{Field: distill.ChangeTeacher, Was: `""`, Now: "t.lnm (sha256 ab)"}},
			`resume "c": it is hard-label training's, and this is a distillation from --teacher t.lnm (sha256 ab); --seed was 1, now 2; rerun`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := resumeChanged(&distill.ConfigChangedError{Checkpoint: "c", Changes: tt.changes})
			if !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, distill.ErrCheckpoint) {
				t.Errorf("got %q, want it to start %q and wrap distill.ErrCheckpoint", err, tt.want)
			}
		})
	}
}
