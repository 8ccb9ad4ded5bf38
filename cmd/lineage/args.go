package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// badCommandLine returns the commandLineError of command c with the
// message format and args.
func badCommandLine(c *cobra.Command, format string, args ...any) error {
	return commandLineError{c.CommandPath(), fmt.Errorf(format, args...)}
}

// exactArgs is cobra.ExactArgs with a message naming the arguments
// ("NAME", "TYPE ID"; "no arguments" for none) and a usage exit status.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return badCommandLine(c, "want %s, got %s", names, countArgs(args))
		}
		return nil
	}
}

// noArgs is exactArgs for a command that takes no arguments.
var noArgs = exactArgs(0, "no arguments")

// plural returns "s" unless n is 1.
func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// countArgs describes the arguments given: "0 arguments", or their number
// and the arguments themselves, quoted (the first few), so that a path
// split by an unquoted space shows as such.
func countArgs(args []string) string {
	s := strconv.Itoa(len(args)) + " argument" + plural(len(args))
	if len(args) == 0 {
		return s
	}
	const shown = 3
	q := make([]string, 0, shown+1)
	for i, a := range args {
		if i == shown {
			q = append(q, "…")
			break
		}
		q = append(q, strconv.Quote(a))
	}
	return s + ": " + strings.Join(q, " ")
}

// subcommandArgs is the Args of a command that only groups subcommands:
// any argument left over names an unknown subcommand.
func subcommandArgs(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if c.SuggestionsMinimumDistance <= 0 {
		// One edit ("dbx", "enrol"), or a prefix ("aud"): cobra's default
		// of two suggests "db" for "x".
		c.SuggestionsMinimumDistance = 1
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 && !c.DisableSuggestions {
		slices.Sort(s)
		for i := range s {
			s[i] = strconv.Quote(s[i])
		}
		return badCommandLine(c, "unknown command %q; did you mean %s?", args[0], strings.Join(s, " or "))
	}
	return badCommandLine(c, "unknown command %q", args[0])
}

// wantSubcommand is the RunE of a command that only groups subcommands,
// run without one.
func wantSubcommand(c *cobra.Command, _ []string) error {
	names := make([]string, 0, len(c.Commands()))
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return badCommandLine(c, "want a subcommand: %s", strings.Join(names, ", "))
}
