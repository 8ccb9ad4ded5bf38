package main

import "github.com/spf13/cobra"

// newReferenceCommand builds `lineage reference` and its subcommands add,
// rm and ls.
func newReferenceCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "reference",
		Short: "Manage reference models: independent models that join a teacher's null",
		Long: `reference adds, lists and removes reference models: models you know to be independent of
an enrolled teacher, which join the null its audits compare suspects with.`,
		Args: subcommandArgs,
		RunE: wantSubcommand,
	}
	c.AddCommand(newReferenceAddCommand(g), newReferenceRmCommand(g), newReferenceLsCommand(g))
	g.bindDB(c, dbUsage)
	return c
}
