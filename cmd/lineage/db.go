package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// newDBCommand builds `lineage db` and its subcommands.
func newDBCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "db",
		Short: "Inspect and maintain the database: ls, show, rm, verify, export, import",
		Long: `db works on the lineage database (--db, $LINEAGE_DB, or lineage.db). ls, show, verify and
export open it read-only and never modify the file.`,
		Args: subcommandArgs,
		RunE: wantSubcommand,
	}
	g.bindDB(c, dbUsage)
	c.AddCommand(newDBLsCommand(g), newDBShowCommand(g), newDBRmCommand(g), newDBVerifyCommand(g),
		newDBExportCommand(g), newDBImportCommand(g))
	return c
}

// checkType validates a record type argument.
func checkType(typ string) error {
	if !slices.Contains(store.Types(), typ) {
		return usageError{fmt.Errorf("unknown record type %q (want one of %s)", typ, strings.Join(store.Types(), ", "))}
	}
	return nil
}

// typeList names the record types for the help of the db commands that
// take a TYPE; TestHelpNamesTypes checks it against store.Types.
const typeList = "suite, fingerprint, enrolment, audit or answers"

// errProblems is returned by db verify when the store is inconsistent.
var errProblems = errors.New("database has problems")
