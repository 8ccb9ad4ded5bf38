package main

import (
	"errors"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses of the lineage command.
const (
	exitOK      = 0 // success; for audit: no teacher flagged (or flags without --fail-on-derived)
	exitError   = 1 // any error: bad input, I/O, a failed check
	exitUsage   = 2 // wrong flags or arguments
	exitDerived = 3 // audit --fail-on-derived found a DERIVED verdict
	// exitInterrupted is the shell's status for a command stopped by
	// SIGINT (128 + 2), also used for SIGTERM, so that a script's loop
	// stops on Ctrl-C instead of going on to the next command.
	exitInterrupted = 130
)

// usageError marks errors in the command line itself.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// errDerived is returned by audit --fail-on-derived when a teacher is flagged.
var errDerived = errors.New("a suspect was found DERIVED")

func codeOf(err error) int {
	var u usageError
	var ie interrupted
	switch {
	case errors.As(err, &ie):
		return exitInterrupted
	case errors.Is(err, errDerived):
		return exitDerived
	case errors.As(err, &u):
		return exitUsage
	case strings.HasPrefix(err.Error(), "unknown command "):
		return exitUsage // cobra's, for a root command line naming no command
	default:
		return exitError
	}
}

// globalOptions are the flags every subcommand shares, and where its
// notices go.
type globalOptions struct {
	db string // bbolt database path; "" means $LINEAGE_DB, then lineage.db
	// stderr receives the notices of a command that waits (for another
	// process's database lock); nil for none. The root command sets it to
	// its error output before a subcommand runs.
	stderr io.Writer
}

// dbPath resolves the database path: the --db flag, then LINEAGE_DB, then
// lineage.db in the working directory.
func (g *globalOptions) dbPath() string {
	if g.db != "" {
		return g.db
	}
	if p := os.Getenv("LINEAGE_DB"); p != "" {
		return p
	}
	return "lineage.db"
}

// newRootCommand assembles the lineage command tree.
func newRootCommand() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:           "lineage",
		Short:         "Distil models and audit suspects for derivation from protected teachers",
		Long:          "lineage answers one question for the owner of a model: was this other model made from mine?\nIt trains and distils models, probes them, stores fingerprints, and audits suspects with calibrated p-values.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.db, "db", "", "database file (default $LINEAGE_DB or lineage.db)")
	root.PersistentPreRun = func(c *cobra.Command, _ []string) { g.stderr = c.ErrOrStderr() }
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		newTrainCommand(g),
		newDistillCommand(g),
		newEvalCommand(g),
		newDemoCommand(g),
		newEnrollCommand(g),
		newReferenceCommand(g),
		newProbeCommand(g),
		newAuditCommand(g),
		newCompareCommand(g),
		newReportCommand(g),
		newDBCommand(g),
		newBenchCommand(g),
		newServeCommand(),
	)
	return root
}
