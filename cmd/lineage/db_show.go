package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// newDBShowCommand builds `lineage db show`.
func newDBShowCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show [TYPE] ID",
		Short: "Print one record as JSON (without the probe and probability matrices)",
		Long: `show prints the record with ID as JSON, without its probe and probability matrices (and
with an enrolment's watermark key redacted). TYPE (` + typeList + `)
picks one of the records that share an ID; without it the first found of an enrolment,
fingerprint, suite, audit and answers is shown, and the others are named on stderr. It opens
the database read-only.`,
		Example: `  lineage --db case.db db show acme
  lineage --db case.db db show fingerprint suspect-1`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return badCommandLine(c, "want [TYPE] ID, got %s", countArgs(args))
			}
			if len(args) == 2 {
				return checkType(args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return runDBShow(c.Context(), c, g, args...) },
	}
}

func runDBShow(ctx context.Context, c *cobra.Command, g *globalOptions, args ...string) error {
	typ, id := "", args[0]
	if len(args) == 2 {
		typ, id = args[0], args[1]
	}
	db, err := openDB(g, true)
	if err != nil {
		return err
	}
	defer db.Close()
	b, err := db.Show(ctx, typ, id)
	if typ == "" && errors.Is(err, store.ErrNotFound) && checkType(id) == nil {
		// `db show fingerprint`: a type without the ID, not a
		// record named after a type.
		return usageError{fmt.Errorf("db show %s: want the ID of the %s after its type (see `lineage db ls %s`)", id, id, id)}
	}
	if err != nil {
		return err
	}
	var others []string // other records under the same ID
	if typ == "" {
		// Best effort: a damaged other record does not stop the show
		// (db verify reports it).
		if types, err := db.TypesOf(ctx, id); err == nil {
			others = types[min(1, len(types)):]
		}
	}
	if err := db.Close(); err != nil { // before output (see runDBLs)
		return err
	}
	if _, err = c.OutOrStdout().Write(append(b, '\n')); err != nil {
		return fmt.Errorf("writing record %q: %w", id, err)
	}
	for _, ty := range others {
		fmt.Fprintf(c.ErrOrStderr(), "lineage: %q is also the ID of a%s %s record, shown by `%s`\n", id, article(ty), ty, shellword.Command("lineage db show "+ty, id))
	}
	return nil
}

// article is the indefinite article's ending before the word w: "n" for
// a vowel, "" otherwise.
func article(w string) string {
	if w != "" && strings.ContainsRune("aeiou", rune(w[0])) {
		return "n"
	}
	return ""
}
