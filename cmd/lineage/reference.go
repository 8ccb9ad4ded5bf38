package main

import "github.com/spf13/cobra"

// newReferenceCommand builds `lineage reference` and its subcommands add,
// rm and ls.
func newReferenceCommand(g *globalOptions) *cobra.Command {
	c := &cobra.Command{
		Use:   "reference",
		Short: "Manage reference models: independent models that join a teacher's null",
		Args:  subcommandArgs,
		RunE:  wantSubcommand,
	}
	c.AddCommand(newReferenceAddCommand(g), newReferenceRmCommand(g), newReferenceLsCommand(g))
	g.bindDB(c, dbUsage)
	return c
}
