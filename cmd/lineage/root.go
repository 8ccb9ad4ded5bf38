package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lineage-audit/lineage/remote"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	case errors.Is(err, remote.ErrBadRef):
		return exitUsage // a model reference that cannot be read: the command line's
	case strings.HasPrefix(err.Error(), "unknown command "):
		return exitUsage // cobra's, should a command without Args meet one
	default:
		return exitError
	}
}

// globalOptions are the flags shared by several commands (--db, which
// only the commands that use the database have, see bindDB) and where a
// command's notices go.
type globalOptions struct {
	db string // bbolt database path; "" means $LINEAGE_DB, then lineage.db
	// stderr receives the notices of a command that waits (for another
	// process's database lock); nil for none. The root command sets it to
	// its error output before a subcommand runs.
	stderr io.Writer
	// claims are the releases of the remote jobs the command claimed
	// (claimJob), held until it has stored what it took.
	claims []func()
}

// holdClaim keeps the claim release holds until releaseClaims.
func (g *globalOptions) holdClaim(release func()) { g.claims = append(g.claims, release) }

// releaseClaims releases the claims the command holds (holdClaim): once
// it has stored its fingerprints and dropped their journals, so that a run
// that waited for it finds them.
func (g *globalOptions) releaseClaims() {
	for _, release := range g.claims {
		release()
	}
	g.claims = nil
}

// formatUsage is the usage line of --format, naming the formats in
// report.Formats' order and the short name it takes for markdown.
const formatUsage = "output format: table, markdown (or md), csv or json"

// dbUsage is the usage line of --db on the commands that use the database.
const dbUsage = "database file (default $LINEAGE_DB or lineage.db)"

// bindDB gives c, a command that uses the database, the --db flag with the
// given usage line, for c and its subcommands. A command without it refuses
// --db (see dbFlagError) and ignores LINEAGE_DB. The flag is accepted before
// the command name as well ("lineage --db case.db enroll ..."): cobra finds
// the command by skipping flags it does not know along with their values.
func (g *globalOptions) bindDB(c *cobra.Command, usage string) {
	c.PersistentFlags().StringVar(&g.db, "db", "", usage)
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
		Use:   "lineage",
		Short: "Distil models and audit suspects for derivation from protected teachers",
		Long: `lineage answers one question for the owner of a model: was this other model made from mine?
It trains and distils models, probes them, stores fingerprints, and audits suspects with calibrated p-values.

The commands that use the database (enroll, reference, probe, audit, compare, report, db,
distill from a remote teacher, demo --keep) take --db FILE, before or after their name
(default $LINEAGE_DB, then lineage.db); the others refuse --db and ignore LINEAGE_DB.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// An unknown command is a one-line usage error (cobra's own is
		// several lines, with its suggestions); no command prints the help.
		Args: subcommandArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if c.Flags().Changed("db") {
				return misplacedDB(c)
			}
			return c.Help()
		},
	}
	// A hidden --db of the root alone (not inherited), so that cobra skips
	// "--db FILE" before an unknown command name and reports that name
	// ("lineage --db case.db frobnicate": unknown command "frobnicate")
	// instead of a misplaced --db; a command without a --db of its own
	// still refuses it (dbFlagError).
	root.Flags().String("db", "", dbUsage)
	if err := root.Flags().MarkHidden("db"); err != nil {
		panic("lineage: " + err.Error())
	}
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		g.stderr = c.ErrOrStderr()
		if err := checkEmptyFlags(c); err != nil {
			return err
		}
		return checkTilde(c)
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if args := c.Flags().Args(); c.HasSubCommands() && len(args) > 0 {
			// "lineage trian --data digits": the command name is what is
			// wrong, not the flags meant for it.
			return subcommandArgs(c, args)
		}
		if e := dbFlagError(c, err); e != nil {
			return e
		}
		return commandLineError{c.CommandPath(), dashFileHint(err)}
	})
	root.AddCommand(
		newTrainCommand(),
		newDistillCommand(g),
		newEvalCommand(),
		newDemoCommand(g),
		newEnrollCommand(g),
		newReferenceCommand(g),
		newProbeCommand(g),
		newAuditCommand(g),
		newCompareCommand(g),
		newReportCommand(g),
		newDBCommand(g),
		newBenchCommand(),
		newServeCommand(),
	)
	noteNoDB(root)
	checkBuiltinArgs(root)
	return root
}

// dbCommands names the commands that take --db, for the error of one that
// does not; demo uses it with --keep, distill for a remote teacher's answers.
var dbCommands = []string{"enroll", "reference", "probe", "audit", "compare", "report", "db", "distill", "demo"}

// misplacedDB is the error of --db given to c, a command with
// subcommands and no --db (the root, bench): --db belongs to the commands
// that use the database.
func misplacedDB(c *cobra.Command) error {
	return badCommandLine(c, "--db goes with a command that uses the database (%s)", strings.Join(dbCommands, ", "))
}

// checkEmptyFlags refuses an explicitly empty --name (probe, audit,
// train, distill, serve) or --db (every command that has one): each such
// command defaults one left out (a name from the model's, the database
// from LINEAGE_DB or lineage.db), and an empty one given would silently
// become that default. It refuses an explicitly empty environment
// variable name (--api-key-env, --require-key-env, --watermark-key-env)
// for the same reason: `serve --require-key-env "$VAR"` with VAR unset
// would serve without a key, and `--api-key-env ""` send none.
func checkEmptyFlags(c *cobra.Command) error {
	for _, name := range []string{"name", "db"} {
		if f := c.Flags().Lookup(name); f != nil && f.Changed && f.Value.String() == "" {
			return badCommandLine(c, "--%s is empty (leave it out for the default)", name)
		}
	}
	var err error
	c.Flags().Visit(func(f *pflag.Flag) {
		if err == nil && strings.HasSuffix(f.Name, "-env") && f.Value.String() == "" {
			err = badCommandLine(c, "--%s is empty: want the name of an environment variable (leave the flag out for none)", f.Name)
		}
	})
	return err
}

// dbFlagError is the error of --db given to command c, which has no such
// flag because it uses no database: it says so rather than "unknown flag"
// (nil for any other flag error).
func dbFlagError(c *cobra.Command, err error) error {
	if err.Error() != "unknown flag: --db" || c.Flags().Lookup("db") != nil {
		return nil
	}
	if c.HasAvailableSubCommands() {
		return misplacedDB(c)
	}
	return badCommandLine(c, "--db: this command uses no database")
}

// noDBNote is the line that ends the help of lineage's commands that use
// no database.
const noDBNote = "It uses no database: it refuses --db and ignores LINEAGE_DB."

// noteNoDB ends the help of every lineage command under c without --db
// (not cobra's help and completion) with noDBNote.
func noteNoDB(c *cobra.Command) {
	for _, s := range c.Commands() {
		if s.Name() == "help" || s.Name() == "completion" || s.PersistentFlags().Lookup("db") != nil {
			continue
		}
		long := s.Long
		if long == "" {
			long = s.Short + "."
		}
		s.Long = long + "\n\n" + noDBNote
		noteNoDB(s)
	}
}

// checkBuiltinArgs gives cobra's help and completion commands, which it
// otherwise adds when the command line runs, lineage's argument checks:
// "lineage help nosuch" and "lineage completion nosuch" are usage errors,
// not the help printed with status 0. Root must have no output set yet:
// cobra's completion commands keep the writer root.OutOrStdout() returns
// when they are made, so they are made with a laterOut, which writes where
// the running completion command's OutOrStdout says (the writer a test or
// execute gives root with SetOut after this, not the process's stdout).
func checkBuiltinArgs(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	out := &laterOut{}
	root.SetOut(out)
	root.InitDefaultCompletionCmd()
	root.SetOut(nil) // back to none: os.Stdout unless set later
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
				if gen := sh.RunE; gen != nil {
					sh.RunE = func(c *cobra.Command, args []string) error {
						out.w = c.OutOrStdout()
						return gen(c, args)
					}
				}
			}
		}
	}
}

// laterOut is the output of cobra's completion commands (checkBuiltinArgs):
// it writes to w, the running command's output, set when it runs. A nil w
// (written to before any command ran) is a programmer error.
type laterOut struct{ w io.Writer }

func (o *laterOut) Write(p []byte) (int, error) {
	if o.w == nil {
		panic("lineage: completion output written before its command ran")
	}
	return o.w.Write(p)
}
