package main

import (
	"errors"
	"fmt"
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

// commandLineError is the usage error of a command line that does not fit
// its command: wrong arguments, an unknown subcommand, an unknown or
// malformed flag. It names the command and points to its help, as in
// "lineage enroll: want NAME, got 0 arguments (see lineage enroll --help)",
// and exitCode prints it as it is, without the "lineage: " prefix that
// would name the command twice.
type commandLineError struct {
	cmd string // the command's path, "lineage enroll"
	err error
}

func (e commandLineError) Error() string {
	return fmt.Sprintf("%s: %v (see %s --help)", e.cmd, e.err, e.cmd)
}

func (e commandLineError) Unwrap() error { return e.err }

// errDerived is returned by audit --fail-on-derived when a teacher is flagged.
var errDerived = errors.New("a suspect was found DERIVED")

func codeOf(err error) int {
	var u usageError
	var cl commandLineError
	var ie interrupted
	switch {
	case errors.As(err, &ie):
		return exitInterrupted
	case errors.Is(err, errDerived):
		return exitDerived
	case errors.As(err, &u), errors.As(err, &cl):
		return exitUsage
	case strings.HasPrefix(err.Error(), "unknown command "):
		return exitUsage // cobra's, should a command without Args meet one
	default:
		return exitError
	}
}

// globalOptions are the flags every subcommand shares.
type globalOptions struct {
	db string // bbolt database path; "" means $LINEAGE_DB, then lineage.db
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
		// An unknown command is a one-line usage error (cobra's own is
		// several lines, with its suggestions); no command prints the help.
		Args: subcommandArgs,
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	root.PersistentFlags().StringVar(&g.db, "db", "", "database file (default $LINEAGE_DB or lineage.db)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return commandLineError{c.CommandPath(), err} })
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
	checkBuiltinArgs(root)
	return root
}

// checkBuiltinArgs gives cobra's help and completion commands, which it
// otherwise adds when the command line runs, lineage's argument checks:
// "lineage help nosuch" and "lineage completion nosuch" are usage errors,
// not the help printed with status 0.
func checkBuiltinArgs(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Args = func(c *cobra.Command, args []string) error {
				if _, rest, err := c.Root().Find(args); err != nil || len(rest) > 0 {
					return badCommandLine(c, "unknown help topic %q", strings.Join(args, " "))
				}
				return nil
			}
		case "completion":
			c.Args, c.RunE = subcommandArgs, wantSubcommand
			for _, sh := range c.Commands() {
				sh.Args = noArgs
			}
		}
	}
}
