package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/internal/fifo"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
)

// runLineage runs the lineage command line args in-process and returns
// its exit status and stderr.
func runLineage(t *testing.T, args ...string) (int, string) {
	t.Helper()
	root := newRootCommand()
	root.SetArgs(args)
	var out, errw bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errw)
	err := root.ExecuteContext(context.Background())
	code := exitCode(&errw, err)
	return code, errw.String()
}

// TestTrainFlagErrors pins the exit status and message of bad training,
// distillation, evaluation and bench flags and data: flag errors are usage
// errors (status 2) found before any training or database, bad data files
// are errors (status 1), and huge batch sizes train.
func TestTrainFlagErrors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("LINEAGE_DB", "")
	write := func(name, content string) {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("onecol.csv", "0\n1\n0\n1\n")
	write("tiny.csv", "1,a\n2,b\n3,a\n4,b\n")
	write("nan.csv", "1,nan,a\n2,3,b\n")
	var oneClass strings.Builder
	for i := range 20 {
		oneClass.WriteString(strings.Repeat("1,", 3) + string(rune('0'+i%10)) + ",same\n")
	}
	write("oneclass.csv", oneClass.String())
	// IDX images and labels files of no images (8×8 pixels).
	write("none-images-idx3-ubyte", "\x00\x00\x08\x03\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00\x08")
	write("none-labels-idx1-ubyte", "\x00\x00\x08\x01\x00\x00\x00\x00")
	teacher := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	if err := model.Save("teacher.lnm", teacher); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("adir.lnm", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := fifo.Make("pipe.lnm", 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(teacher, serve.Options{Name: "teacher"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	url := ts.URL + "/v2/models/teacher"

	train := []string{"train", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress"}
	dist := []string{"distill", "--teacher", "teacher.lnm", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress", "--out", "s.lnm"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		// Bug 1: a dataset with no features.
		{"one column", with(train, "--data", "onecol.csv", "--out", "a.lnm"), exitError, "onecol.csv: no feature columns (the only column is the label)"},
		// Bug 2: models beyond model.MaxParams.
		{"hidden overflow", with(train, "--hidden", "99999999999", "--out", "a.lnm"), exitUsage, "lineage: --hidden 99999999999: a model with layer sizes [64 99999999999 10] has more than 1073741824 parameters\n"},
		{"hidden too large", with(train, "--hidden", "100000000", "--out", "a.lnm"), exitUsage, "lineage: --hidden 100000000: a model with layer sizes [64 100000000 10] has more than 1073741824 parameters\n"},
		// Bug 3: huge batch sizes train (one batch per epoch); huge query budgets are refused.
		{"huge batch", with(train, "--batch-size", "9223372036854775807", "--out", "big-batch.lnm"), exitOK, ""},
		{"huge batch distill", with(dist, "--batch-size", "100000000000", "--queries", "100"), exitOK, ""},
		{"queries overflow", with(dist, "--queries", "9000000000000000000"), exitUsage, "lineage: --queries 9000000000000000000: want at most 16777216: 9000000000000000000 queries of 64 features exceed the transfer set limit of 1073741824 values\n"},
		{"queries too many", with(dist, "--queries", "2000000000"), exitUsage, "lineage: --queries 2000000000: want at most 16777216: 2000000000 queries"},
		// Bug 4: the checkpoint must not be the output.
		{"checkpoint is out", with(train, "--out", "same.lnm", "--checkpoint", "same.lnm"), exitUsage, `--checkpoint "same.lnm" is the --out file`},
		{"checkpoint is out, other spelling", with(train, "--out", "same.lnm", "--checkpoint", "./sub/../same.lnm"), exitUsage, `--checkpoint "./sub/../same.lnm" is the --out file`},
		{"checkpoint is absolute out", with(train, "--out", "same.lnm", "--checkpoint", filepath.Join(dir, "same.lnm")), exitUsage, "is the --out file"},
		// Bug 5: NaN in the first row is a data error, not a header.
		{"nan first row", with(train, "--data", "nan.csv", "--out", "a.lnm"), exitError, `nan.csv: line 1, column 2: "nan" is NaN, want a finite number`},
		// Bug 7: an empty test split and a single class.
		{"empty test split", with(train, "--data", "tiny.csv", "--out", "a.lnm"), exitError, "test split of tiny.csv is empty"},
		{"eval empty test split", []string{"eval", "teacher.lnm", "--data", "tiny.csv"}, exitError, "test split of tiny.csv is empty"},
		{"one class", with(train, "--data", "oneclass.csv", "--out", "a.lnm"), exitError, `training data "oneclass.csv/train" has 1 class, training needs at least 2`},
		// An IDX file of no images was "no training data", naming no file.
		{"no images", with(train, "--data", "none-images-idx3-ubyte", "--out", "a.lnm"), exitError, "lineage: none-images-idx3-ubyte: no images\n"},
		{"eval no images", []string{"eval", "teacher.lnm", "--data", "none-images-idx3-ubyte"}, exitError, "lineage: none-images-idx3-ubyte: no images\n"},
		// Bug 9: non-finite and negative flags.
		{"momentum NaN", with(train, "--optimizer", "sgd", "--momentum", "NaN", "--out", "a.lnm"), exitUsage, "lineage: --momentum NaN: want a number in [0, 1)\n"},
		{"momentum with adam", with(train, "--momentum", "0.5", "--out", "a.lnm"), exitUsage, "lineage: --momentum 0.5: applies to sgd and nesterov only, not adam\n"},
		{"momentum with adamw distill", with(dist, "--optimizer", "adamw", "--momentum", "0.9"), exitUsage, "lineage: --momentum 0.9: applies to sgd and nesterov only, not adamw\n"},
		{"weight decay Inf", with(train, "--weight-decay", "Inf", "--out", "a.lnm"), exitUsage, "lineage: --weight-decay +Inf: want a finite number\n"},
		{"unknown init", with(train, "--init", "zeros", "--out", "a.lnm"), exitUsage, "lineage: --init zeros: want normal or uniform\n"},
		{"jitter Inf", with(dist, "--transfer", "jitter", "--jitter", "Inf"), exitUsage, "lineage: --jitter +Inf: want a finite number ≥ 0\n"},
		{"remote batch", with(dist, "--remote-batch", "-1"), exitUsage, "--remote-batch -1: want 1 to 65536 (0: 64)"},
		{"concurrency", with(dist, "--concurrency", "-5"), exitUsage, "--concurrency -5: want 1 to 1024 (0: 4)"},
		// A hundred million workers took the machine's memory.
		{"huge concurrency", with(dist, "--concurrency", "100000000"), exitUsage, "--concurrency 100000000: want 1 to 1024 (0: 4)"},
		{"huge remote batch", with(dist, "--remote-batch", "10000000"), exitUsage, "--remote-batch 10000000: want 1 to 65536 (0: 64)"},
		{"qps negative", []string{"eval", "teacher.lnm", "--qps", "-1"}, exitUsage, "--qps -1: want a finite number of requests per second ≥ 0 (0: no limit)"},
		{"qps NaN", []string{"eval", "teacher.lnm", "--qps", "NaN"}, exitUsage, "--qps NaN: want a finite number of requests per second ≥ 0 (0: no limit)"},
		{"qps Inf", []string{"eval", "teacher.lnm", "--qps", "Inf"}, exitUsage, "--qps +Inf: want a finite number of requests per second ≥ 0 (0: no limit)"},
		{"timeout", with(dist, "--timeout", "-1s"), exitUsage, "--timeout -1s: want a positive duration (0: 30s)"},
		// Bug 10: every training flag error is a usage error, one line naming
		// the flag first (see TestTrainingFlagErrors).
		{"epochs", with(train, "--epochs", "-1", "--out", "a.lnm"), exitUsage, "lineage: --epochs -1: want 0 or more\n"},
		{"warmup", with(train, "--warmup", "-2", "--out", "a.lnm"), exitUsage, "lineage: --warmup -2: want 0 or more\n"},
		{"activation", with(train, "--activation", "foo", "--out", "a.lnm"), exitUsage, "lineage: --activation foo: want relu, tanh or gelu\n"},
		{"hidden 0", with(train, "--hidden", "0", "--out", "a.lnm"), exitUsage, `--hidden "0"`},
		{"hidden empty", with(train, "--hidden", "", "--out", "a.lnm"), exitUsage, `--hidden "": want at least one layer size`},
		{"hidden blank distill", with(dist, "--hidden", " "), exitUsage, `--hidden " ": want at least one layer size`},
		{"temperature", with(dist, "--temperature", "1e9"), exitUsage, "--temperature 1e+09: want a temperature from 0.001 to 1000"},
		// 1e-320 passed and training stopped at "loss NaN: training diverged".
		{"temperature too low", with(dist, "--temperature", "1e-320"), exitUsage, "--temperature 1e-320: want a temperature from 0.001 to 1000"},
		{"temperature zero", with(dist, "--temperature", "0"), exitUsage, "--temperature 0: want a temperature from 0.001 to 1000"},
		{"alpha", with(dist, "--alpha", "2"), exitUsage, "--alpha 2"},
		// Bug 11: a remote teacher's bad flags leave no database behind.
		{"remote temperature", with(dist, "--teacher", url, "--temperature", "1e9", "--out", "r.lnm"), exitUsage, "--temperature 1e+09: want a temperature from 0.001 to 1000"},
		{"remote loss", with(dist, "--teacher", url, "--loss", "hinge", "--out", "r.lnm"), exitUsage, "lineage: --loss hinge: unknown loss (want kl, rkl, jsd[:β], tv, mse or ce)\n"},
		// Bug 12: bench kd checks its flags and datasets before training.
		{"bench temperatures", []string{"bench", "kd", "--temperatures", "4,2000", "--data", "digits"}, exitUsage, `--temperatures: "2000" is above the largest temperature, 1000`},
		{"bench temperatures too low", []string{"bench", "kd", "--temperatures", "4,1e-5", "--data", "digits"}, exitUsage, `--temperatures: "1e-5" is below the smallest temperature, 0.001`},
		{"bench temperature twice", []string{"bench", "kd", "--temperatures", "4,1,4.0", "--data", "digits"}, exitUsage, `lineage: --temperatures: "4.0" is listed twice`},
		{"bench dataset twice", []string{"bench", "kd", "--data", "digits, digits", "--seeds", "1", "--no-progress"}, exitUsage, `lineage: --data: "digits" is listed twice`},
		{"bench datasets", []string{"bench", "kd", "--data", "digits,nosuch", "--seeds", "1", "--no-progress"}, exitUsage, `lineage: --data: dataset "nosuch": unknown dataset`},
		{"bench missing csv", []string{"bench", "kd", "--data", "digits,nosuch.csv", "--seeds", "1", "--no-progress"}, exitError, `nosuch.csv: no such file or directory`},
		// A mistyped --data exited 1, as an unreadable file does.
		{"unknown data", with(train, "--data", "fashion", "--out", "a.lnm"), exitUsage, `lineage: --data: dataset "fashion": unknown dataset (want digits,`},
		{"enroll unknown data", []string{"--db", "remote.db", "enroll", "acme", "--model", "teacher.lnm", "--data", "fashion"}, exitUsage, `--data: dataset "fashion": unknown dataset`},
		// A teacher of other inputs than the data was a usage error (exit
		// 2) naming neither ("teacher takes 64 inputs, data has 784
		// features: invalid training configuration").
		// topk:K of every label is full: it was accepted silently.
		{"reveal every label", with(dist, "--reveal", "topk:10"), exitUsage, "lineage: --reveal topk:10: keeps every one of the teacher's 10 labels: that is full\n"},
		{"distill teacher of other inputs", with(dist, "--data", "fashion-mnist-small"), exitError, `lineage: teacher "teacher.lnm" takes 64 inputs but dataset "fashion-mnist-small" has 784 features`},
		// Bug 14: an --out that cannot be written is refused before training.
		{"out in missing directory", with(train, "--out", "nosuch/a.lnm"), exitUsage, `--out "nosuch/a.lnm": directory "nosuch" does not exist`},
		{"out under a file", with(train, "--out", "tiny.csv/a.lnm"), exitUsage, `--out "tiny.csv/a.lnm": "tiny.csv" is not a directory`},
		{"out is a directory", with(dist[:len(dist)-2], "--out", "adir.lnm"), exitUsage, `--out "adir.lnm" is a directory`},
		// --log and --checkpoint likewise: they failed (exit 1) when the
		// log was opened, or at the first checkpoint after an epoch.
		{"log in missing directory", with(train, "--out", "a.lnm", "--log", "nosuch/l.jsonl"), exitUsage, `--log "nosuch/l.jsonl": directory "nosuch" does not exist`},
		{"log is a directory", with(dist, "--log", "adir.lnm"), exitUsage, `--log "adir.lnm" is a directory`},
		{"checkpoint in missing directory", with(train, "--out", "a.lnm", "--checkpoint", "nosuch/c.ckpt"), exitUsage, `--checkpoint "nosuch/c.ckpt": directory "nosuch" does not exist`},
		{"checkpoint is a directory", with(train, "--out", "a.lnm", "--checkpoint", "adir.lnm"), exitUsage, `--checkpoint "adir.lnm" is a directory`},
		// A named pipe (or a device) as --out or the checkpoint was
		// replaced by a regular file after training.
		{"out is a pipe", with(train, "--out", "pipe.lnm"), exitUsage, `--out: "pipe.lnm" is a named pipe, not a regular file`},
		{"checkpoint is a pipe", with(train, "--out", "a.lnm", "--checkpoint", "pipe.lnm"), exitUsage, `--checkpoint: "pipe.lnm" is a named pipe, not a regular file`},
		// Bug 13: a model path that is a pipe is refused, not read forever.
		{"pipe model", []string{"eval", "pipe.lnm", "--data", "digits"}, exitError, `"pipe.lnm" is a named pipe, not a regular file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if strings.HasPrefix(tt.name, "remote") {
				args = append([]string{"--db", "remote.db"}, args...)
			}
			code, stderr := runLineage(t, args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("lineage %s: status %d, stderr %q; want status %d and %q", strings.Join(args, " "), code, stderr, tt.code, tt.want)
			}
			if strings.Contains(stderr, "panic") {
				t.Errorf("stderr shows a panic: %s", stderr)
			}
			if _, err := os.Stat("remote.db"); err == nil {
				t.Errorf("lineage %s created the database remote.db", strings.Join(args, " "))
			}
		})
	}
	// The model survives a checkpoint in another spelling of a directory.
	if _, err := os.Stat("same.lnm"); err == nil {
		t.Errorf("same.lnm exists: a refused run wrote it")
	}
}

// TestUnknownCommand checks that naming no known command is a usage error
// (status 2) at every level, with one line naming it.
func TestUnknownCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nosuchcmd"}, `lineage: unknown command "nosuchcmd" (see lineage --help)`},
		{[]string{"db", "nosub"}, `lineage db: unknown command "nosub" (see lineage db --help)`},
		{[]string{"reference", "nosub"}, `lineage reference: unknown command "nosub" (see lineage reference --help)`},
		{[]string{"bench", "nosub"}, `lineage bench: unknown command "nosub" (see lineage bench --help)`},
		// --db before an unknown command: the command is what is wrong.
		{[]string{"--db", "case.db", "nosuchcmd"}, `lineage: unknown command "nosuchcmd" (see lineage --help)`},
		{[]string{"--db", "case.db", "enrol"}, `lineage: unknown command "enrol"; did you mean "enroll"? (see lineage --help)`},
		{[]string{"--db", "case.db"}, `lineage: --db goes with a command that uses the database (`},
	}
	for _, tc := range tests {
		code, stderr := runLineage(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("lineage %s: status %d, stderr %q; want %d and one line with %q", strings.Join(tc.args, " "), code, stderr, exitUsage, tc.want)
		}
	}
}

// TestTrainKeepsCheckpoint: a train or distill without --resume beside
// the checkpoint of an interrupted run is refused, and the checkpoint
// kept (the fresh run wrote over it and removed it, losing the
// interrupted run's training).
func TestTrainKeepsCheckpoint(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	if code, stderr := runLineage(t, "train", "--data", "digits", "--hidden", "8", "--epochs", "1", "--out", "t.lnm"); code != 0 {
		t.Fatalf("train the teacher: exit %d, %s", code, stderr)
	}
	ckpt := []byte("an interrupted run's checkpoint")
	for _, args := range [][]string{
		{"train", "--data", "digits", "--hidden", "8", "--epochs", "1", "--out", "m.lnm"},
		{"distill", "--teacher", "t.lnm", "--data", "digits", "--hidden", "8", "--epochs", "1", "--out", "m.lnm"},
	} {
		if err := os.WriteFile("m.lnm.ckpt", ckpt, 0o644); err != nil {
			t.Fatal(err)
		}
		code, stderr := runLineage(t, args...)
		if want := `checkpoint "m.lnm.ckpt" holds an interrupted run: pass --resume to continue it`; code != 1 || !strings.Contains(stderr, want) {
			t.Errorf("lineage %s beside a checkpoint: exit %d, %q; want exit 1 and %q", args[0], code, stderr, want)
		}
		if b, err := os.ReadFile("m.lnm.ckpt"); err != nil || !bytes.Equal(b, ckpt) {
			t.Errorf("lineage %s: the checkpoint is gone or changed (%v)", args[0], err)
		}
		if _, err := os.Stat("m.lnm"); err == nil {
			t.Errorf("lineage %s wrote the model", args[0])
		}
	}
}

// TestWritesApart checks that train and distill refuse, before any work, a
// file to write (--out, --checkpoint, --log) that is a file they read or
// another they write, or a database, and leave every file as it was:
// --log, opened at the start, used to empty the database, the teacher or
// the training data, and train's --log replaced a database named by
// mistake.
func TestWritesApart(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	files := map[string]string{"tiny.csv": "1,a\n2,b\n3,a\n4,b\n", "model.sh": "#!/bin/sh\nexit 1\n",
		"t-images-idx3-ubyte": "images", "t-labels-idx1-ubyte": "labels"}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	teacher := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	if err := model.Save("teacher.lnm", teacher); err != nil {
		t.Fatal(err)
	}
	path := newStore(t)
	sums := map[string][32]byte{}
	for _, f := range []string{"tiny.csv", "model.sh", "teacher.lnm", path, "t-images-idx3-ubyte", "t-labels-idx1-ubyte"} {
		sums[f] = fileSum(t, f)
	}
	train := []string{"train", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress"}
	dist := []string{"distill", "--teacher", "teacher.lnm", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress"}
	with := func(base []string, more ...string) []string { return append(append([]string(nil), base...), more...) }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"log is the data", with(train, "--data", "tiny.csv", "--out", "a.lnm", "--log", "tiny.csv"), `--log "tiny.csv" is the --data file`},
		{"log is the teacher", with(dist, "--out", "s.lnm", "--log", "./teacher.lnm"), `--log "./teacher.lnm" is the --teacher file`},
		{"out is the teacher", with(dist, "--out", "teacher.lnm"), `--out "teacher.lnm" is the --teacher file`},
		{"log is the database", with(dist, "--db", path, "--out", "s.lnm", "--log", path), "is the --db file"},
		{"log is an exec teacher's script", with(dist, "--teacher", "exec:/bin/sh model.sh", "--out", "s.lnm", "--log", "model.sh"), `--log "model.sh" is the --teacher file`},
		{"log is the out", with(train, "--out", "a.lnm", "--log", "a.lnm"), `--log "a.lnm" is the --out file`},
		// IDX images are read with the labels file beside them.
		{"log is the IDX labels", with(train, "--data", "t-images-idx3-ubyte", "--out", "a.lnm", "--log", "t-labels-idx1-ubyte"), `--log "t-labels-idx1-ubyte" is the --data file`},
		{"log is an exec teacher's --flag=file", with(dist, "--teacher", "exec:/bin/sh --x=model.sh", "--out", "s.lnm", "--log", "model.sh"), `--log "model.sh" is the --teacher file`},
		{"log is the checkpoint", with(train, "--out", "a.lnm", "--log", "a.lnm.ckpt"), `--log "a.lnm.ckpt" is the --checkpoint file`},
		// train has no database, but must not write over one either.
		{"train log is a database", with(train, "--out", "a.lnm", "--log", path), "is a database file: it would be written over"},
		{"train out is a database", with(train, "--out", path), `--out "` + path + `" is a database file`},
		{"distill log is another database", with(dist, "--out", "s.lnm", "--log", path), "is a database file"},
		// A model train does not read: the log wrote over it, and the
		// checkpoint's file was said to hold an interrupted run, to be
		// removed to start afresh.
		{"train log is a model", with(train, "--out", "a.lnm", "--log", "teacher.lnm"), `--log "teacher.lnm" is a model file: it would be written over; choose another file`},
		{"train checkpoint is a model", with(train, "--out", "a.lnm", "--checkpoint", "teacher.lnm"), `--checkpoint "teacher.lnm" is a model file: it would be written over; choose another file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := runLineage(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("lineage %s: status %d, stderr %q; want status %d and %q", strings.Join(tt.args, " "), code, stderr, exitUsage, tt.want)
			}
			for f, sum := range sums {
				if fileSum(t, f) != sum {
					t.Fatalf("%s changed", f)
				}
			}
			for _, f := range []string{"a.lnm", "s.lnm", "a.lnm.ckpt"} {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("%s was written", f)
				}
			}
		})
	}
}
