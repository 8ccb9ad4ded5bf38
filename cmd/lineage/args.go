package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// exactArgs is cobra.ExactArgs with a message naming the arguments and a
// usage exit status.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s: want %s, got %d argument(s)", c.CommandPath(), names, len(args))}
		}
		return nil
	}
}

// subcommandArgs is the Args of a command that only groups subcommands:
// any argument left over names an unknown subcommand.
func subcommandArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unknown command %q for %q (see %s --help)", args[0], c.CommandPath(), c.CommandPath())}
	}
	return nil
}
