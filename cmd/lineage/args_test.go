package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// walkCommands calls fn on every command of the lineage tree, root first.
func walkCommands(fn func(c *cobra.Command)) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		fn(c)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCommand())
}

// commandArgs returns the words that name c on a command line.
func commandArgs(c *cobra.Command) []string { return strings.Fields(c.CommandPath())[1:] }

// TestCommandLineErrors runs every command of the tree with too many
// arguments, with none when it needs some, and with an unknown flag: each
// is a usage error (status 2) printed as one line that names the command
// once and points to its help.
func TestCommandLineErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	check := func(args []string, c *cobra.Command, what string) {
		t.Helper()
		path := c.CommandPath()
		want := regexp.MustCompile(`\A` + regexp.QuoteMeta(path+": ") + what + ` \(see ` + regexp.QuoteMeta(path) + ` --help\)\n\z`)
		code, stderr := runLineage(t, args...)
		if code != exitUsage || !want.MatchString(stderr) {
			t.Errorf("lineage %s: status %d, stderr %q; want %d and one line matching %s", strings.Join(args, " "), code, stderr, exitUsage, want)
		}
	}
	n := 0
	walkCommands(func(c *cobra.Command) {
		n++
		words := commandArgs(c)
		extra := []string{"a1", "a2", "a3", "a4", "a5"}
		if c.Args == nil || c.ValidateArgs(extra) == nil {
			t.Errorf("%s takes %d arguments: want an argument check that refuses them", c.CommandPath(), len(extra))
			return
		}
		switch {
		case c.HasAvailableSubCommands():
			check(append(words, extra...), c, `unknown command "a1"`)
		case c.Name() == "help":
			check(append(words, extra...), c, `unknown help topic "a1 a2 a3 a4 a5"`)
		default:
			check(append(words, extra...), c, `want .+, got 5 arguments: "a1" "a2" "a3" …`)
		}
		if c.ValidateArgs(nil) != nil {
			if c.HasAvailableSubCommands() {
				check(words, c, `want a subcommand: .+`)
			} else {
				check(words, c, `want \S.*, got 0 arguments`)
			}
		}
		check(append(words, "--no-such-flag"), c, `unknown flag: --no-such-flag`)
	})
	if n < 25 {
		t.Errorf("walked %d commands, want the whole tree", n)
	}
}

// TestCommandLineErrorExamples pins a few whole lines.
func TestCommandLineErrorExamples(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"enroll"}, "lineage enroll: want NAME, got 0 arguments (see lineage enroll --help)\n"},
		{[]string{"compare", "a"}, `lineage compare: want A B, got 1 argument: "a" (see lineage compare --help)` + "\n"},
		{[]string{"train", "x"}, `lineage train: want no arguments, got 1 argument: "x" (see lineage train --help)` + "\n"},
		{[]string{"dbx"}, `lineage: unknown command "dbx"; did you mean "db"? (see lineage --help)` + "\n"},
		{[]string{"db"}, "lineage db: want a subcommand: export, import, ls, rm, show, verify (see lineage db --help)\n"},
		// A misspelt command with the flags meant for it: the command is
		// what is wrong, letters swapped are suggested too.
		{[]string{"trian", "--data", "digits"}, `lineage: unknown command "trian"; did you mean "train"? (see lineage --help)` + "\n"},
		{[]string{"db", "lss", "--format", "csv"}, `lineage db: unknown command "lss"; did you mean "ls"? (see lineage db --help)` + "\n"},
		{[]string{"enroll", "a", "--controls", "x"}, `lineage enroll: invalid argument "x" for "--controls" flag: strconv.ParseInt: parsing "x": invalid syntax (see lineage enroll --help)` + "\n"},
		// Errors in a flag's value found by the command keep the one prefix.
		{[]string{"enroll", "a"}, "lineage: --model is required (the teacher model file)\n"},
	}
	for _, tt := range tests {
		code, stderr := runLineage(t, tt.args...)
		if code != exitUsage || stderr != tt.want {
			t.Errorf("lineage %s: status %d, stderr %q; want %d and %q", strings.Join(tt.args, " "), code, stderr, exitUsage, tt.want)
		}
	}
}

func TestSwapped(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"trian", "train", true},
		{"aduit", "audit", true},
		{"rtain", "train", true},
		{"trani", "train", true},
		{"train", "train", false},
		{"trina", "train", false},
		{"tarin", "train", true},
		{"tiarn", "train", false},
		{"tr", "train", false},
	} {
		if got := swapped(tt.a, tt.b); got != tt.want {
			t.Errorf("swapped(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
