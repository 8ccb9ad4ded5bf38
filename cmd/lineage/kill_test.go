package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/internal/tmpfile"
)

// lineageCmd returns a command running the lineage binary (the test binary
// testscript put on PATH) in dir.
func lineageCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("lineage")
	if err != nil {
		t.Skipf("lineage binary not on PATH: %v", err)
	}
	c := exec.Command(bin, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), "LINEAGE_DB=")
	return c
}

func runOK(t *testing.T, dir string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	c := lineageCmd(t, dir, args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("lineage %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String() + errb.String()
}

// killAfter starts the command and SIGKILLs it after d (if still running).
func killAfter(t *testing.T, c *exec.Cmd, d time.Duration) {
	t.Helper()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	c.Process.Signal(syscall.SIGKILL)
	c.Wait()
}

// killWhen starts the command and SIGKILLs it once cond holds, failing t
// if it does not within a minute. A job meant to be killed part-way waits
// for its first requests so: after a fixed time, a run slow to start on a
// loaded machine (-race) could be killed before it asked anything.
func killWhen(t *testing.T, c *exec.Cmd, cond func() bool) {
	t.Helper()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Wait()
	defer c.Process.Signal(syscall.SIGKILL)
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the command to kill part-way did not get there within a minute")
		}
	}
}

// TestKillResume kills enroll, a remote probe and an API distillation with
// SIGKILL part-way, reruns them, and checks that they complete, that the
// database verifies, that the remote teacher is not asked again for answers
// already stored, and that the results equal uninterrupted runs.
func TestKillResume(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes; skipped with -short")
	}
	dir := t.TempDir()
	useFixture(t, "teacher", dir) // train --hidden 32 --epochs 5 --out teacher.lnm

	// enroll, killed while training controls, then rerun.
	killAfter(t, lineageCmd(t, dir, "--db", "case.db", "enroll", "acme", "--model", "teacher.lnm", "--data", "digits",
		"--controls", "3", "--suite-size", "60", "--seed", "1"), 1500*time.Millisecond)
	runOK(t, dir, "--db", "case.db", "enroll", "acme", "--model", "teacher.lnm", "--data", "digits",
		"--controls", "3", "--suite-size", "60", "--seed", "1")
	runOK(t, dir, "--db", "case.db", "db", "verify")

	// A served teacher; the client is throttled so the kill lands mid-way.
	base, srvLog := startServe(t, dir, nil, "teacher.lnm", "--name", "teacher")
	url := base + "/v2/models/teacher"
	infers := func() int { return strings.Count(srvLog.String(), "/infer") }

	probeArgs := func(name string) []string {
		return []string{"--db", "case.db", "probe", url, "--suite", "acme", "--name", name,
			"--ask-again", "-1", "--remote-batch", "4", "--qps", "4", "--concurrency", "1", "--format", "json"}
	}
	// Killed once it has asked 3 of its 15 batches (qps 4: about 3 s
	// before the end).
	killWhen(t, lineageCmd(t, dir, probeArgs("r1")...), func() bool { return infers() >= 3 })
	before := infers()
	if before == 0 || before >= 15 {
		t.Fatalf("killed probe made %d requests; want a partial probe of 15", before)
	}
	out := runOK(t, dir, probeArgs("r1")...)
	if !strings.Contains(out, "resumed") {
		t.Errorf("rerun of the killed probe did not resume:\n%s", out)
	}
	// Up to remoteInFlight more: the kill can hit the batches in flight
	// answered but not committed.
	if got := infers() - before; got < 15-before || got > 15-before+remoteInFlight {
		t.Errorf("rerun asked %d batches, want the %d missing ones (up to %d more if the kill hit answers before their commit)", got, 15-before, remoteInFlight)
	}
	// The rerun's requests alone are counted as its own; the answers it
	// replayed are counted apart.
	if !regexp.MustCompile(`"queries_replayed": "[1-9][0-9]*"`).MatchString(out) {
		t.Errorf("resumed probe's meta lacks queries_replayed:\n%s", out)
	}
	fresh := runOK(t, dir, probeArgs("r2")...)
	if strings.Contains(fresh, "queries_replayed") {
		t.Errorf("an uninterrupted probe's meta has queries_replayed:\n%s", fresh)
	}
	if h1, h2 := jsonField(t, out, "fingerprint_hash"), jsonField(t, fresh, "fingerprint_hash"); h1 != h2 {
		t.Errorf("resumed fingerprint %s differs from an uninterrupted one %s", h1, h2)
	}
	runOK(t, dir, "--db", "case.db", "db", "verify")

	// API distillation, killed while querying the teacher.
	dargs := []string{"--db", "case.db", "distill", "--teacher", url, "--data", "digits", "--hidden", "16",
		"--transfer", "mixup", "--reveal", "label", "--queries", "600", "--epochs", "3", "--seed", "1",
		"--remote-batch", "20", "--qps", "8", "--concurrency", "1", "--out", "api.lnm"}
	before = infers()
	killWhen(t, lineageCmd(t, dir, dargs...), func() bool { return infers()-before >= 3 })
	asked := infers() - before
	if asked == 0 || asked >= 30 {
		t.Fatalf("killed distillation made %d requests; want a partial run of 30", asked)
	}
	if _, err := os.Stat(filepath.Join(dir, "api.lnm")); err == nil {
		t.Fatal("a killed distillation left a model file")
	}
	before = infers()
	out = runOK(t, dir, dargs...)
	if got := infers() - before; got+asked < 30 || got+asked > 30+1 {
		t.Errorf("rerun asked %d more requests after %d; the teacher was asked twice for stored answers", got, asked)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "api.lnm"))
	os.Remove(filepath.Join(dir, "api.lnm"))
	runOK(t, dir, dargs...) // answered entirely from the journal
	second, _ := os.ReadFile(filepath.Join(dir, "api.lnm"))
	if !bytes.Equal(first, second) {
		t.Error("the resumed distillation's model differs from a rerun's")
	}
	if !strings.Contains(out, "replayed") {
		t.Errorf("distillation output does not report replayed answers:\n%s", out)
	}
	runOK(t, dir, "--db", "case.db", "db", "verify")
}

func jsonField(t *testing.T, out, key string) string {
	t.Helper()
	i := strings.Index(out, "{")
	j := strings.LastIndex(out, "}")
	if i < 0 || j < i {
		t.Fatalf("no JSON object in output:\n%s", out)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out[i:j+1]), &m); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	s, _ := m[key].(string)
	return s
}

// startServe runs `lineage serve ARGS --addr 127.0.0.1:0` in dir with the
// extra environment env, and returns its base URL and its access log, which
// grows while the server runs; the server is stopped when the test ends.
func startServe(t *testing.T, dir string, env []string, args ...string) (string, *syncBuffer) {
	t.Helper()
	srv := lineageCmd(t, dir, append(append([]string{"serve"}, args...), "--addr", "127.0.0.1:0")...)
	srv.Env = append(srv.Env, env...)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	log := new(syncBuffer)
	srv.Stderr = log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("serve: %v", err)
	}
	return strings.TrimSpace(strings.TrimPrefix(line, "listening on ")), log
}

// TestKillTrainLog kills train --log with SIGKILL part-way and puts the log
// in the state a kill between an epoch's checkpoint and its log line
// leaves (that epoch's line missing, or half written), then resumes: the
// log must list every epoch once, in order, with the figures of an
// uninterrupted run. The old resume appended to the log and lost the
// epoch.
func TestKillTrainLog(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real processes; skipped with -short")
	}
	dir := t.TempDir()
	// The kill comes once two epochs are logged; 10 leave 8 for a kill
	// that takes milliseconds (an epoch takes about 30 ms with OpenBLAS
	// on an idle machine). The test trains them about three times: with
	// 25 it took minutes under -race.
	const epochs = 10
	targs := []string{"train", "--hidden", "256,256", "--epochs", strconv.Itoa(epochs), "--out", "r.lnm",
		"--log", "r.log", "--resume", "--no-progress"}
	logPath, ckpt := filepath.Join(dir, "r.log"), filepath.Join(dir, "r.lnm.ckpt")
	c := lineageCmd(t, dir, targs...)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, _ := os.ReadFile(logPath)
		if bytes.Count(b, []byte("\n")) >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Process.Signal(syscall.SIGKILL)
	c.Wait()
	done := checkpointEpochs(t, ckpt)
	if done < 2 || done >= epochs {
		t.Fatalf("the killed run's checkpoint holds %d epochs; want a partial run of %d", done, epochs)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if len(lines) < done {
		t.Fatalf("the killed run logged %d epochs, its checkpoint holds %d", len(lines)-1, done)
	}
	for _, cut := range []string{"", lines[done-1][:len(lines[done-1])/2]} {
		// Epoch done's line lost or half written; its checkpoint saved.
		if err := os.WriteFile(logPath, []byte(strings.Join(lines[:done-1], "")+cut), 0o644); err != nil {
			t.Fatal(err)
		}
		keep, err := os.ReadFile(ckpt)
		if err != nil {
			t.Fatal(err)
		}
		runOK(t, dir, targs...)
		checkLog(t, logPath, epochs)
		if err := os.WriteFile(ckpt, keep, 0o644); err != nil { // for the next cut
			t.Fatal(err)
		}
	}
	// An uninterrupted run logs the same figures.
	resumed, _ := os.ReadFile(logPath)
	fresh := []string{"train", "--hidden", "256,256", "--epochs", strconv.Itoa(epochs), "--out", "f.lnm", "--log", "f.log", "--no-progress"}
	runOK(t, dir, fresh...)
	want, _ := os.ReadFile(filepath.Join(dir, "f.log"))
	if g, w := dropElapsed(t, resumed), dropElapsed(t, want); g != w {
		t.Errorf("resumed run's log differs from an uninterrupted run's (elapsed_s aside):\n%s\nwant\n%s", g, w)
	}
}

// checkpointEpochs reads the number of completed epochs from the header of
// the training checkpoint at path (distill/checkpoint.go: 8 magic bytes, a
// uint32 LE header length, the JSON header).
func checkpointEpochs(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 12 {
		t.Fatalf("checkpoint %s: %d bytes", path, len(b))
	}
	n := int(binary.LittleEndian.Uint32(b[8:12]))
	var h struct {
		Epoch int `json:"epoch"`
	}
	if 12+n > len(b) || json.Unmarshal(b[12:12+n], &h) != nil {
		t.Fatalf("checkpoint %s: unreadable header", path)
	}
	return h.Epoch
}

// checkLog checks that the --log file at path holds the lines of epochs
// 1..n, in order.
func checkLog(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var s struct {
			Epoch int `json:"epoch"`
		}
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		got = append(got, s.Epoch)
	}
	for i, e := range got {
		if e != i+1 || len(got) != n {
			t.Fatalf("log epochs %v, want 1 to %d once each", got, n)
		}
	}
}

// dropElapsed returns the JSON lines of a --log without their elapsed_s,
// the one figure that differs between runs.
func dropElapsed(t *testing.T, b []byte) string {
	t.Helper()
	var out strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		delete(m, "elapsed_s")
		j, _ := json.Marshal(m)
		out.Write(append(j, '\n'))
	}
	return out.String()
}

// TestTrainSameOutTwice runs a second train with the --out (and --log) of
// one still running: it is refused at once, naming the cause, where both
// ran, the second's model replaced the first's (which printed the hash of
// a model no longer there) and their epochs interleaved in one log, some
// lost and one half written. The first, killed, is then resumed over the
// claim its forced exit left, and its log lists every epoch once.
func TestTrainSameOutTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; skipped with -short")
	}
	dir := t.TempDir()
	const epochs = 40
	targs := []string{"train", "--hidden", "256,256", "--epochs", strconv.Itoa(epochs), "--out", "m.lnm",
		"--log", "m.log", "--resume", "--no-progress"}
	first := lineageCmd(t, dir, targs...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { first.Wait(); close(exited) }()
	defer func() { first.Process.Kill(); <-exited }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(dir, "m.log")); bytes.Count(b, []byte("\n")) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run logged no epoch in 30 s")
		}
	}
	var errb bytes.Buffer
	second := lineageCmd(t, dir, targs...)
	second.Stderr = &errb
	err := second.Run()
	select {
	case <-exited:
		t.Skip("the first run ended before the second started")
	default:
	}
	if code := second.ProcessState.ExitCode(); err == nil || code != exitError ||
		!strings.Contains(errb.String(), `--out "m.lnm": another process is writing it`) {
		t.Errorf("second run beside a running one: exit %d, stderr %q; want 1 and the reason", code, errb.String())
	}
	first.Process.Signal(syscall.SIGKILL)
	<-exited
	runOK(t, dir, targs...)
	checkLog(t, filepath.Join(dir, "m.log"), epochs)
	// The killed run may leave a checkpoint temporary it had created but
	// not yet locked (the README allows a forced exit that): too young
	// for the rerun to take for stale, it goes with a later run.
	stray := tmpfile.Match("m.lnm.ckpt")
	names := slices.DeleteFunc(dirNames(t, dir), stray)
	if strings.Join(names, " ") != "m.lnm m.log" {
		t.Errorf("files left: %q; want the model and its log", names)
	}
}

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
