package main

import (
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// TestHelpText checks the shape of every command's help: its description
// (Long, or Short for a command without one) is whole sentences, ending
// in a full stop (distill's and reference's help was their Short alone,
// a fragment), and its usage line names the command once (db rm's read
// "lineage db rm TYPE ID [--force] | rm enrolment NAME --purge").
func TestHelpText(t *testing.T) {
	walkCommands(func(c *cobra.Command) {
		desc := c.Long
		if desc == "" {
			desc = c.Short
		}
		if !strings.HasSuffix(strings.TrimSpace(desc), ".") {
			t.Errorf("%s --help: description ends %q, want a full stop", c.CommandPath(), tail(desc, 30))
		}
		if words := strings.Fields(c.Use); len(words) > 0 {
			for _, w := range words[1:] {
				if w == c.Name() {
					t.Errorf("%s: usage line %q names the command twice", c.CommandPath(), c.Use)
				}
			}
		}
	})
}

// tail is the last n bytes of s.
func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// TestHelpNamesTypes checks that the help of the db commands taking a
// TYPE names the record types they accept, and that typeList is the
// store's: the help said "[TYPE]" and no more, the values only in the
// error of a wrong one.
func TestHelpNamesTypes(t *testing.T) {
	types := store.Types()
	if want := strings.Join(types[:len(types)-1], ", ") + " or " + types[len(types)-1]; typeList != want {
		t.Fatalf("typeList %q, want %q (store.Types)", typeList, want)
	}
	for _, cmd := range []string{"ls", "show", "rm"} {
		stdout, stderr, code := runCLI(t, "db", cmd, "--help")
		if code != exitOK || !strings.Contains(stdout, "TYPE ("+typeList+")") {
			t.Errorf("db %s --help: status %d, stderr %q; want its help to name the types %q:\n%s", cmd, code, stderr, typeList, stdout)
		}
	}
}

// TestFlagHelpRanges checks flags whose help gave a range their checks do
// not take: for each, the help now states the range, and a value at its
// edge is refused with the usage status. distill's --alpha said "(0..1)"
// and refused 0; --jitter said "(0: the default)" without giving it.
func TestFlagHelpRanges(t *testing.T) {
	tests := []struct {
		cmd, flag, help string
		refused         []string // a command line with a value the help excludes; nil for none
	}{
		{"distill", "alpha", "more than 0 and at most 1", []string{"distill", "--teacher", "t.lnm", "--out", "s.lnm", "--alpha", "0"}},
		{"distill", "jitter", "(0: 0.25)", nil},
		{"distill", "queries", "(0: one per training row for each source of --transfer)", nil},
		{"train", "momentum", "refused with adam and adamw", []string{"train", "--out", "m.lnm", "--momentum", "0.9"}},
		{"train", "schedule", "step:GAMMA", nil},
		{"demo", "controls", "3 to 256", []string{"demo", "--controls", "2"}},
		// It said "(0: 2)" alone, as if any number of workers went.
		{"enroll", "workers", "1 to 1024 (0: 2)", []string{"enroll", "acme", "--model", "t.lnm", "--workers", "1025"}},
		{"serve", "watermark-epsilon", "with --reveal label", []string{"serve", "m.lnm", "--watermark-epsilon", "2"}},
	}
	t.Chdir(t.TempDir())
	for _, tt := range tests {
		c, _, err := newRootCommand().Find([]string{tt.cmd})
		if err != nil {
			t.Fatal(err)
		}
		f := c.Flags().Lookup(tt.flag)
		if f == nil {
			t.Errorf("%s has no --%s", tt.cmd, tt.flag)
			continue
		}
		if !strings.Contains(f.Usage, tt.help) {
			t.Errorf("%s --%s: help %q, want %q in it", tt.cmd, tt.flag, f.Usage, tt.help)
		}
		if tt.refused == nil {
			continue
		}
		if _, stderr, code := runCLI(t, tt.refused...); code != exitUsage {
			t.Errorf("lineage %s: status %d (stderr %q), want %d", strings.Join(tt.refused, " "), code, stderr, exitUsage)
		}
	}
}

// TestUsageLineRequiredFlags checks that a flag a usage line shows
// outside brackets, as one the command needs, has no default: train's
// read "train --data D --hidden H --out MODEL.lnm", though --data
// defaults to digits and --hidden to 256,256.
func TestUsageLineRequiredFlags(t *testing.T) {
	walkCommands(func(c *cobra.Command) {
		depth := 0
		for _, w := range strings.Fields(c.Use)[1:] {
			depth += strings.Count(w, "[")
			if name, ok := strings.CutPrefix(strings.Trim(w, "[]"), "--"); ok && depth == 0 {
				switch f := c.Flags().Lookup(name); {
				case f == nil:
					t.Errorf("%s: usage line %q names --%s, which it does not have", c.CommandPath(), c.Use, name)
				case f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false":
					t.Errorf("%s: usage line %q shows --%s as needed, but it defaults to %q", c.CommandPath(), c.Use, name, f.DefValue)
				}
			}
			depth -= strings.Count(w, "]")
		}
	})
}

// TestFormatFlag checks --format's help against what it takes: the help
// named the formats in another order than its error and left out "md",
// which it takes for markdown; the error of a wrong one began "report:",
// the Go package's name.
func TestFormatFlag(t *testing.T) {
	walkCommands(func(c *cobra.Command) {
		if f := c.Flags().Lookup("format"); f != nil && f.Usage != formatUsage {
			t.Errorf("%s --format: help %q, want %q", c.CommandPath(), f.Usage, formatUsage)
		}
	})
	_, stderr, code := runCLI(t, "train", "--format", "xml")
	want := `lineage train: invalid argument "xml" for "--format" flag: unknown format "xml" (want table, markdown, csv, json) (see lineage train --help)` + "\n"
	if code != exitUsage || stderr != want {
		t.Errorf("train --format xml: status %d, stderr %q; want %d, %q", code, stderr, exitUsage, want)
	}
	db := newStore(t)
	stdout, stderr, code := runCLI(t, "--db", db, "db", "verify", "--format", "md")
	if code != exitOK || !strings.Contains(stdout, "| :--") {
		t.Errorf("db verify --format md: status %d, stderr %q, want a markdown table:\n%s", code, stderr, stdout)
	}
}
