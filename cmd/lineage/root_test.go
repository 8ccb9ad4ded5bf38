package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestDBFlagOnlyWhereUsed checks that --db is shown in the help of the
// commands that use the database, and only there, and that every other
// command refuses it with one line saying why, creating no file.
func TestDBFlagOnlyWhereUsed(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	dbFlag := regexp.MustCompile(`(?m)^\s+--db string\s`)
	walkCommands(func(c *cobra.Command) {
		words := commandArgs(c)
		if len(words) == 0 {
			return // the root has --db nowhere; its help names the commands
		}
		uses := slices.Contains(dbCommands, words[0])
		stdout, stderr, code := runCLI(t, append(words, "--help")...)
		if code != exitOK {
			t.Errorf("%s --help: status %d, stderr %q", c.CommandPath(), code, stderr)
			return
		}
		if got := dbFlag.MatchString(stdout); got != uses {
			t.Errorf("%s --help shows --db: %v, want %v", c.CommandPath(), got, uses)
		}
		if uses {
			return
		}
		if !strings.Contains(stdout, noDBNote) && words[0] != "help" && words[0] != "completion" {
			t.Errorf("%s --help does not say that it uses no database", c.CommandPath())
		}
		for _, args := range [][]string{append(slices.Clone(words), "--db", "x.db"), append([]string{"--db", "x.db"}, words...)} {
			_, stderr, code := runCLI(t, args...)
			want := c.CommandPath() + ": --db: this command uses no database (see " + c.CommandPath() + " --help)\n"
			if c.HasAvailableSubCommands() {
				want = c.CommandPath() + ": --db goes with a command that uses the database (" + strings.Join(dbCommands, ", ") + ") (see " + c.CommandPath() + " --help)\n"
			}
			if code != exitUsage || stderr != want {
				t.Errorf("lineage %s: status %d, stderr %q; want %d and %q", strings.Join(args, " "), code, stderr, exitUsage, want)
			}
		}
	})
	if _, err := os.Stat("x.db"); err == nil {
		t.Error("a refused --db created the database")
	}
	// dbCommands is the list of the commands that have --db.
	var have []string
	for _, c := range newRootCommand().Commands() {
		if c.PersistentFlags().Lookup("db") != nil {
			have = append(have, c.Name())
		}
	}
	if want := slices.Sorted(slices.Values(dbCommands)); !slices.Equal(have, want) {
		t.Errorf("commands with --db: %q; dbCommands lists %q", have, want)
	}
}

// TestEmptyName checks that every command with --name refuses an empty
// one given explicitly (it would silently become the default name), with
// one line and the usage status, before any work.
func TestEmptyName(t *testing.T) {
	t.Chdir(t.TempDir())
	n := 0
	walkCommands(func(c *cobra.Command) {
		if c.Flags().Lookup("name") == nil {
			return
		}
		n++
		args := commandArgs(c)
		if f := strings.Fields(c.Use); len(f) > 1 && f[1] != strings.ToLower(f[1]) && !strings.HasPrefix(f[1], "-") {
			args = append(args, "m.lnm") // the command's one argument
		}
		args = append(args, "--name", "")
		_, stderr, code := runCLI(t, args...)
		want := c.CommandPath() + ": --name is empty (leave it out for the default) (see " + c.CommandPath() + " --help)\n"
		if code != exitUsage || stderr != want {
			t.Errorf("lineage %s: status %d, stderr %q; want %d and %q", strings.Join(args, " "), code, stderr, exitUsage, want)
		}
	})
	if n < 5 {
		t.Errorf("%d commands have --name, want at least 5 (probe, audit, train, distill, serve)", n)
	}
	if entries, _ := os.ReadDir("."); len(entries) > 0 {
		t.Errorf("refused commands left %d files behind", len(entries))
	}
}

// TestEmptyEnvName checks that every flag naming an environment variable
// (--api-key-env, --require-key-env, --watermark-key-env) refuses an empty
// name given explicitly, with one line and the usage status, before any
// work: `serve --require-key-env "$VAR"` with VAR unset served without a
// key, and `--api-key-env ""` sent none.
func TestEmptyEnvName(t *testing.T) {
	t.Chdir(t.TempDir())
	seen := map[string]bool{}
	walkCommands(func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !strings.HasSuffix(f.Name, "-env") {
				return
			}
			seen[f.Name] = true
			args := commandArgs(c)
			for _, a := range strings.Fields(c.Use)[1:] { // the command's arguments, before its flags
				if strings.HasPrefix(a, "-") || strings.HasPrefix(a, "[") {
					break
				}
				args = append(args, "m.lnm")
			}
			args = append(args, "--"+f.Name, "")
			_, stderr, code := runCLI(t, args...)
			want := c.CommandPath() + ": --" + f.Name + " is empty: want the name of an environment variable (leave the flag out for none) (see " + c.CommandPath() + " --help)\n"
			if code != exitUsage || stderr != want {
				t.Errorf("lineage %s: status %d, stderr %q; want %d and %q", strings.Join(args, " "), code, stderr, exitUsage, want)
			}
		})
	})
	for _, name := range []string{"api-key-env", "require-key-env", "watermark-key-env"} {
		if !seen[name] {
			t.Errorf("no command has --%s", name)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) > 0 {
		t.Errorf("refused commands left %d files behind", len(entries))
	}
}

// TestCompletionOutput checks that `lineage completion SHELL` writes its
// script to the command's output (the writer given SetOut), not to the
// process's stdout, and that --no-descriptions still works: the script
// asks for completions with __completeNoDesc exactly when it is given.
// (Cobra's completion commands took the output when they were made,
// before SetOut.)
func TestCompletionOutput(t *testing.T) {
	for _, tc := range []struct {
		shell string
		first string // a line of the script
	}{
		{"bash", "# bash completion V2 for lineage"},
		{"zsh", "#compdef lineage"},
		{"fish", "# fish completion for lineage"},
		{"powershell", "# powershell completion for lineage"},
	} {
		for _, noDesc := range []bool{false, true} {
			args := []string{"completion", tc.shell}
			if noDesc {
				args = append(args, "--no-descriptions")
			}
			stdout, stderr, code := runCLI(t, args...)
			name := strings.Join(args, " ")
			if code != exitOK || stderr != "" {
				t.Errorf("%s: exit %d, stderr %q; want %d and nothing", name, code, stderr, exitOK)
			}
			if !strings.Contains(stdout, tc.first) {
				t.Errorf("%s: the command's output has %d bytes, not the script (want %q in it)", name, len(stdout), tc.first)
				continue
			}
			if got := strings.Contains(stdout, "__completeNoDesc"); got != noDesc {
				t.Errorf("%s: the script asks for completions without descriptions: %v, want %v", name, got, noDesc)
			}
		}
	}
}
