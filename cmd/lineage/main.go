// Command lineage trains and distils models, probes them, and audits
// suspects for derivation from protected teachers. See the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/lineage-audit/lineage/internal/visible"
	"github.com/spf13/cobra"
)

func main() { os.Exit(run()) }

// run executes the command line in os.Args and returns the exit status;
// the CLI tests (testscript) call it in-process.
//
// The first SIGINT or SIGTERM cancels the command's context: the command
// stops cleanly (a checkpoint, the journal's last answer). A second one
// exits at once with exitInterrupted, for a stop that hangs (a lock wait
// the journal does not give up on Ctrl-C, a server that never answers).
// That is safe: the database changes only in bbolt transactions, and
// every other file lineage writes (models, checkpoints, figures, exports)
// goes to a temporary file renamed into place, so the exit leaves no file
// half-written, at worst an unused temporary.
func run() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	stopWatch := watchSignals(sigs, cancel, func() { os.Exit(forceQuit(os.Stderr)) })
	err := execute(ctx, newRootCommand())
	stopWatch() // from here on the command's own result is reported
	return exitCode(os.Stderr, asInterrupted(ctx, err))
}

// execute runs root's command line with ctx and returns its error or,
// should the command succeed, the first error writing to its output.
// Cobra's help (--help, lineage help CMD) and shell completion
// (__complete) ignore their write errors, so that `lineage --help >
// /dev/full` exited 0 having printed nothing; the commands' own output
// reports its write errors already, and those come first.
func execute(ctx context.Context, root *cobra.Command) error {
	out := &recordingWriter{w: root.OutOrStdout()}
	root.SetOut(out)
	err := root.ExecuteContext(ctx)
	if err == nil {
		err = out.err
	}
	return err
}

// recordingWriter writes to w and keeps the first error w returned.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// watchSignals calls cancel at the first signal on sigs and quit at the
// second, until the returned stop is called. A quit under way when stop
// is called keeps stop waiting (quit normally exits the process, so the
// command's result is never reported after the forced exit's line).
func watchSignals(sigs <-chan os.Signal, cancel, quit func()) (stop func()) {
	var mu sync.Mutex // held by stop, and by cancel and quit while they run
	done := make(chan struct{})
	go func() {
		for n := 1; n <= 2; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			mu.Lock()
			select {
			case <-done: // the command ended meanwhile
			default:
				if n == 1 {
					cancel()
				} else {
					quit()
				}
			}
			mu.Unlock()
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			mu.Lock()
			defer mu.Unlock()
			close(done)
		})
	}
}

// forceQuit prints the line of a second interrupt and returns the exit
// status of the forced exit.
func forceQuit(w io.Writer) int {
	fmt.Fprintln(w, "lineage: interrupted again, exiting without cleanup")
	return exitInterrupted
}

// interrupted is the error of a command stopped by SIGINT or SIGTERM. It
// prints as one line, "interrupted" and what to do next, instead of the
// chain of wrapped context errors the cancellation left on its way up.
type interrupted struct {
	hint string // what to do next ("" for nothing to say)
	err  error
}

func (e interrupted) Error() string {
	if e.hint == "" {
		return "interrupted"
	}
	return "interrupted: " + e.hint
}

func (e interrupted) Unwrap() error { return e.err }

// asInterrupted turns err into an interrupted error when ctx, the command's
// context, was cancelled (by a signal) and err is that cancellation.
func asInterrupted(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	var ie interrupted
	if errors.As(err, &ie) {
		return ie
	}
	if errors.Is(err, context.Canceled) {
		return interrupted{err: err}
	}
	return err
}

// interruptible runs fn, computation that holds no lock and changes
// nothing outside memory (an audit's statistics, an enrolment's
// calibration), and returns its result, or ctx's error as soon as ctx is
// done: Ctrl-C then stops the command at once rather than when fn ends,
// which on a large suite can take many seconds. fn's goroutine is
// abandoned, still running, to the exit that follows; it hands its result
// over only through the channel, so nothing the caller reads is written
// by it after interruptible returns.
func interruptible[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// exitCode prints err as one line and maps it to the process exit status.
// The line starts "lineage: ", except for a usage error that names its
// command ("lineage enroll: want NAME, …"), which is printed as it is.
func exitCode(w interface{ Write([]byte) (int, error) }, err error) int {
	if err == nil {
		return 0
	}
	if cl, ok := err.(commandLineError); ok {
		fmt.Fprintf(w, "%s\n", errorLine(cl.Error()))
	} else {
		fmt.Fprintf(w, "lineage: %s\n", errorLine(err.Error()))
	}
	return codeOf(err)
}

// errorLine returns msg with line breaks, other control characters and
// invisible ones written as Go escapes (see visible.String): an error can
// quote what a suspect's model file or server sent (its labels, say), which
// must neither add a line that reads like another error nor drive the
// terminal.
func errorLine(msg string) string { return visible.String(msg, false) }
