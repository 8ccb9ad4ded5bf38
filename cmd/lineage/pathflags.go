package main

// This file checks, for the command line as a whole, path flags the shell
// left unexpanded and files whose names the command line read as flags.

import (
	"fmt"
	"os"
	"strings"

	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/spf13/cobra"
)

// pathFlags are the flags whose values are file paths (or, for --data
// and --teacher, may be; eval's --against too, which is audit's list of
// teachers' names, any of which may start with ~).
var pathFlags = []string{"db", "out", "data", "teacher", "model", "log", "checkpoint", "plot", "plot-matrix"}

// checkTilde refuses a path flag of c whose value starts with "~/" (or is
// "~") when there is no file named "~" here, and so LINEAGE_DB for a
// command that reads it: the shell expands ~ in `--db ~/case.db` but not
// in `--db=~/case.db`, nor inside quotes, and the path then named a
// directory "~" in the working directory ("directory "~" does not exist",
// "no lineage database at "~/case.db"") without saying why.
func checkTilde(c *cobra.Command) error {
	if _, err := os.Lstat("~"); err == nil {
		return nil // a file named ~ here: the path may well mean it
	}
	unexpanded := func(p string) bool { return p == "~" || strings.HasPrefix(p, "~/") }
	names := pathFlags
	if c.Name() == "eval" {
		names = append(names[:len(names):len(names)], "against")
	}
	for _, name := range names {
		f := c.Flags().Lookup(name)
		if f == nil || !f.Changed || !unexpanded(f.Value.String()) {
			continue
		}
		rest := strings.TrimPrefix(f.Value.String(), "~")
		return badCommandLine(c, "--%s %q: the shell left ~ as it is (it expands it in --%s ~/…, not in --%s=~/… nor in quotes); write --%s ~%s or --%s \"$HOME%s\"",
			name, f.Value.String(), name, name, name, rest, name, rest)
	}
	if f := c.Flags().Lookup("db"); f != nil && !f.Changed {
		if p := os.Getenv("LINEAGE_DB"); unexpanded(p) {
			return badCommandLine(c, "LINEAGE_DB %q: the shell left ~ as it is (it does not expand it in quotes); set LINEAGE_DB=\"$HOME%s\"", p, strings.TrimPrefix(p, "~"))
		}
	}
	return nil
}

// dashFileHint adds to err, cobra's error for an unknown flag, how to name
// the file it is when one of that name is here: `audit -x.lnm` said only
// "unknown shorthand flag: 'x' in -x.lnm".
func dashFileHint(err error) error {
	msg := err.Error()
	var arg string
	if i := strings.Index(msg, "unknown shorthand flag: "); i >= 0 {
		if j := strings.LastIndex(msg, " in "); j > i {
			arg = msg[j+len(" in "):]
		}
	} else if rest, ok := strings.CutPrefix(msg, "unknown flag: "); ok {
		arg = rest
	}
	if arg == "" {
		return err
	}
	if _, serr := os.Lstat(arg); serr != nil {
		return err
	}
	return fmt.Errorf("%w (a file named %q is here: give it after --, or as %s)", err, arg, shellword.Arg("./"+arg))
}
