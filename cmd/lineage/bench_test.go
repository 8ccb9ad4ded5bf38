package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// runBenchCLI runs the lineage command tree in-process with args.
func runBenchCLI(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestUsageLineDefaults checks that a usage line's "[--flag VALUE]" shows
// the flag's default (as in "bench detect [--seed 1]"), so that the help
// does not contradict itself. Placeholders (FILE.png, NAME) and --format,
// which shows a choice, are not defaults.
func TestUsageLineDefaults(t *testing.T) {
	re := regexp.MustCompile(`\[--([a-z-]+) ([^\]\s]+)\]`)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, m := range re.FindAllStringSubmatch(c.Use, -1) {
			name, value := m[1], m[2]
			if name == "format" || strings.ToLower(value) != value {
				continue
			}
			fl := c.Flags().Lookup(name)
			if fl == nil {
				t.Errorf("%s: usage line names --%s, which it does not have", c.CommandPath(), name)
			} else if fl.DefValue != value {
				t.Errorf("%s: usage line shows --%s %s, but its default is %s", c.CommandPath(), name, value, fl.DefValue)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand())
}
