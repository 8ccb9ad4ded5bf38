package main

import "github.com/spf13/cobra"

// newBenchCommand builds `lineage bench`, the parent of the experiments.
// Add an experiment by adding its constructor to the AddCommand list.
func newBenchCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Run lineage's documented, seeded experiments",
		Long:  "bench runs experiments that measure lineage itself. They train their own models and print their figures.",
		Args:  subcommandArgs,
		RunE:  wantSubcommand,
	}
	c.AddCommand(
		newBenchDetectCommand(),
		newBenchKDCommand(),
		newBenchServeCommand(),
	)
	return c
}
