package main

import (
	"os"
	"strings"
	"testing"
)

// TestLogWriteError checks that a --log that cannot take a line (a full
// disk, here /dev/full) stops the training at the end of that epoch, with
// one line saying so and how to go on, keeping the epoch's checkpoint (the
// run trained all its epochs, then failed without saving the model or
// naming the checkpoint it kept); that a checkpoint that cannot be written
// names the one kept from the epoch before (it said only "save checkpoint:
// write m.lnm.ckpt: file too large"); and that --resume with room then
// completes, the log holding every epoch once.
func TestLogWriteError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	train := []string{"train", "--data", "digits", "--hidden", "4", "--epochs", "6", "--no-progress", "--out", "m.lnm"}
	_, stderr, code := runCLI(t, append(train, "--log", "/dev/full")...)
	want := `write log "/dev/full": write /dev/full: no space left on device; training stopped after epoch 1, checkpoint "m.lnm.ckpt" kept: rerun with --resume once the log can be written`
	if code != exitError || stderr != "lineage: "+want+"\n" {
		t.Errorf("train --log /dev/full: exit %d, stderr %q; want %d and the line %q", code, stderr, exitError, want)
	}
	if _, err := os.Stat("m.lnm"); err == nil {
		t.Error("train --log /dev/full saved the model")
	}
	if _, err := os.Stat("m.lnm.ckpt"); err != nil {
		t.Errorf("checkpoint after the log failed: %v", err)
	}

	// A checkpoint that cannot be written (here `ulimit -f 1`, in a child
	// process: the limit would hold for the test's own files) stops the
	// resumed run too, naming the checkpoint kept, which is unchanged.
	ckpt, err := os.ReadFile("m.lnm.ckpt")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := os.Getwd()
	c := lineageCmd(t, dir)
	c.Args = append([]string{"sh", "-c", `ulimit -f 1 && exec "$0" "$@"`, c.Path}, append(train, "--log", "m.log", "--resume")...)
	c.Path = "/bin/sh"
	var errb strings.Builder
	c.Stderr = &errb
	err = c.Run()
	want = `save checkpoint: write m.lnm.ckpt: file too large; the checkpoint of the last epoch saved, "m.lnm.ckpt", is kept: rerun with --resume once there is room`
	if err == nil || errb.String() != "lineage: "+want+"\n" {
		t.Errorf("train --resume under ulimit -f 1: %v, stderr %q; want exit 1 and the line %q", err, errb.String(), want)
	}
	if now, err := os.ReadFile("m.lnm.ckpt"); err != nil || string(now) != string(ckpt) {
		t.Errorf("checkpoint after the failed save: %v, changed %v; want it as it was", err, string(now) != string(ckpt))
	}

	_, stderr, code = runCLI(t, append(train, "--log", "m.log", "--resume")...)
	if code != exitOK {
		t.Fatalf("train --resume: exit %d, stderr %q", code, stderr)
	}
	log, err := os.ReadFile("m.log")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "\n"); n != 6 {
		t.Errorf("--log after --resume: %d lines, want 6:\n%s", n, log)
	}
	if _, err := os.Stat("m.lnm.ckpt"); err == nil {
		t.Error("checkpoint left after the resumed run saved the model")
	}
}

// TestLogWriteErrorLastEpoch checks a log whose line fails at the last
// epoch (here the only one): training has finished, so the model is saved
// (it was not, and the run said training stopped), the run still exits 1
// for the incomplete log, and --resume from the checkpoint kept writes the
// log whole and the same model again.
func TestLogWriteErrorLastEpoch(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	train := []string{"train", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress", "--out", "m.lnm"}
	_, stderr, code := runCLI(t, append(train, "--log", "/dev/full")...)
	want := `write log "/dev/full": write /dev/full: no space left on device; training finished and the model is saved to "m.lnm", but its log is incomplete: checkpoint "m.lnm.ckpt" kept, rerun with --resume once the log can be written to write it whole`
	if code != exitError || stderr != "lineage: "+want+"\n" {
		t.Errorf("train --epochs 1 --log /dev/full: exit %d, stderr %q; want %d and the line %q", code, stderr, exitError, want)
	}
	saved, err := os.ReadFile("m.lnm")
	if err != nil {
		t.Fatalf("model after its last log line failed: %v", err)
	}
	if _, stderr, code := runCLI(t, append(train, "--log", "m.log", "--resume")...); code != exitOK {
		t.Fatalf("train --resume: exit %d, stderr %q", code, stderr)
	}
	if log, err := os.ReadFile("m.log"); err != nil || strings.Count(string(log), "\n") != 1 {
		t.Errorf("--log after --resume: %q, %v; want one line", log, err)
	}
	if again, err := os.ReadFile("m.lnm"); err != nil || string(again) != string(saved) {
		t.Errorf("model after --resume: %v, changed %v; want the model saved before", err, string(again) != string(saved))
	}
}
