package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: what is written to tty can be read from
// master. The test is skipped where there is none.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("pseudo-terminal number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// countLines is the number of lines in file (0 if it cannot be read).
func countLines(file string) int {
	b, _ := os.ReadFile(file)
	return bytes.Count(b, []byte("\n"))
}

// trainOnTTY runs train with args and its standard error on a terminal,
// cancelling it once the --log file log has at least stopAt lines, and
// returns what the terminal showed and the command's error.
func trainOnTTY(t *testing.T, log string, stopAt int, args ...string) (string, error) {
	t.Helper()
	master, tty := openPTY(t)
	var shown syncBuffer
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(&shown, master) // ends with an error when the test closes the terminal
		close(copied)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for countLines(log) < stopAt && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(io.Discard)
	root.SetErr(tty)
	err := root.ExecuteContext(ctx)
	// What the command wrote is in the terminal's buffer: wait until it
	// has been read.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if n, _ := unix.IoctlGetInt(int(master.Fd()), unix.TIOCINQ); n == 0 {
			break
		}
	}
	time.Sleep(50 * time.Millisecond)
	return shown.String(), err
}

// barCounts are the counts "(N/total" a progress bar showed, in order.
func barCounts(shown string, total int) []int {
	var out []int
	for _, m := range regexp.MustCompile(`\((\d+)/`+strconv.Itoa(total)+`\b`).FindAllStringSubmatch(shown, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// TestTrainProgressInterrupted checks the progress bar of an interrupted
// and then resumed training run: the interrupted run's bar stays at the
// epochs done (it was filled to 100 %, as if training had completed),
// and the resumed run's counts the epochs it trains (it counted them
// out of all the epochs, so its percentage and time left were wrong).
func TestTrainProgressInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for a few seconds; skipped with -short")
	}
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	const epochs = 2000
	args := []string{"train", "--data", "digits", "--hidden", "8", "--epochs", strconv.Itoa(epochs), "--out", "m.lnm", "--log", "m.log"}

	shown, err := trainOnTTY(t, "m.log", 3, args...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first run: err = %v, want an interrupted run", err)
	}
	done := countLines("m.log") // the checkpoint's epochs
	counts := barCounts(shown, epochs)
	if len(counts) == 0 {
		t.Fatalf("first run: the terminal showed no bar counting to %d:\n%q", epochs, shown)
	}
	if last := counts[len(counts)-1]; last > done || strings.Contains(shown, "100%") {
		t.Errorf("interrupted after %d of %d epochs, the bar showed %d (%v) or 100%%:\n%q", done, epochs, last, counts, shown)
	}
	if !strings.HasSuffix(shown, "\n") {
		t.Errorf("first run: the bar's line was not ended:\n%q", shown)
	}

	shown, err = trainOnTTY(t, "m.log", done+3, append(args, "--resume")...)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("resumed run: err = %v, want an interrupted run", err)
	}
	// The bar counts this run's epochs: those after the checkpoint's.
	ran := countLines("m.log") - done
	counts = barCounts(shown, epochs-done)
	if len(counts) == 0 || counts[len(counts)-1] > ran || strings.Contains(shown, "100%") {
		t.Errorf("resumed from %d epochs and interrupted after %d more, the bar showed %v (of %d) or 100%%, want at most %d of %d:\n%q",
			done, ran, counts, epochs-done, ran, epochs-done, shown)
	}
}
