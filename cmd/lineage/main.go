// Command lineage trains and distils models, probes them, and audits
// suspects for derivation from protected teachers. See the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run()) }

// run executes the command line in os.Args and returns the exit status;
// the CLI tests (testscript) call it in-process.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCommand()
	err := root.ExecuteContext(ctx)
	return exitCode(os.Stderr, asInterrupted(ctx, err))
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

// exitCode prints err as one line and maps it to the process exit status.
// The line starts "lineage: ", except for a usage error that names its
// command ("lineage enroll: want NAME, …"), which is printed as it is.
func exitCode(w interface{ Write([]byte) (int, error) }, err error) int {
	if err == nil {
		return 0
	}
	if cl, ok := err.(commandLineError); ok {
		fmt.Fprintf(w, "%v\n", cl)
	} else {
		fmt.Fprintf(w, "lineage: %v\n", err)
	}
	return codeOf(err)
}
