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
	if s := suggestions(c, args[0]); len(s) > 0 && !c.DisableSuggestions {
		for i := range s {
			s[i] = strconv.Quote(s[i])
		}
		return badCommandLine(c, "unknown command %q; did you mean %s?", args[0], strings.Join(s, " or "))
	}
	return badCommandLine(c, "unknown command %q", args[0])
}

// suggestions returns, sorted, the names of c's subcommands that typed
// means: cobra's suggestions, and the names typed with two neighbouring
// letters swapped ("trian" for "train"), which cobra's edit distance of
// one does not reach.
func suggestions(c *cobra.Command, typed string) []string {
	s := c.SuggestionsFor(typed)
	for _, sub := range c.Commands() {
		if name := sub.Name(); sub.IsAvailableCommand() && !slices.Contains(s, name) && swapped(typed, name) {
			s = append(s, name)
		}
	}
	slices.Sort(s)
	return s
}

// swapped reports whether a is b with two neighbouring bytes swapped.
func swapped(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i+1 < len(a); i++ {
		if a[i] != b[i] {
			return a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
		}
	}
	return false
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
