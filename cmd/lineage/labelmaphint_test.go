package main

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
)

// TestLabelMapHintOnce checks, for every command that reads a model's
// labels against a suite's or a dataset's, that a model listing as many
// labels under other names is refused in one line giving the --label-map
// advice once, at the end, in the words that fit the command: eval's
// MODEL is read as the dataset's (it had no advice), compare's A is not
// read by --label-map (it was told to use it), and eval's --against and a
// stated map get none.
func TestLabelMapHintOnce(t *testing.T) {
	dir := t.TempDir()
	db := tinyEnrolments(t, 4, "acme", "beta")
	save := func(name string, in int, labels []string) string {
		path := filepath.Join(dir, name)
		if err := model.Save(path, model.NewMLP([]int{in, len(labels)}, model.ActReLU, labels, rand.New(rand.NewPCG(1, 2)))); err != nil {
			t.Fatal(err)
		}
		return path
	}
	xyz := save("xyz.lnm", 2, []string{"x", "y", "z"})
	fits := save("fits.lnm", 2, model.DefaultLabels(3))
	words := save("words.lnm", 64, []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})
	digits := save("digits.lnm", 64, model.DefaultLabels(10))
	evalHint := evalLabelMapHintText
	for _, tt := range []struct {
		name string
		args []string
		hint string // "": no advice
	}{
		{"probe", []string{"--db", db, "probe", xyz, "--suite", "acme"}, labelMapHintText},
		{"audit", []string{"--db", db, "audit", xyz, "--against", "acme"}, labelMapHintText},
		{"audit of several", []string{"--db", db, "audit", xyz}, labelMapHintText},
		{"audit --save", []string{"--db", db, "audit", xyz, "--save", "--name", "s"}, labelMapHintText},
		{"reference add", []string{"--db", db, "reference", "add", "r", "--model", xyz, "--for", "acme"}, labelMapHintText},
		{"compare B", []string{"--db", db, "compare", fits, xyz, "--suite", "acme"}, labelMapHintText},
		{"compare A", []string{"--db", db, "compare", xyz, fits, "--suite", "acme"}, compareALabelMapHintText},
		{"eval", []string{"eval", words, "--data", "digits"}, evalHint},
		{"eval --against", []string{"eval", digits, "--data", "digits", "--against", words}, ""},
		{"map stated", []string{"--db", db, "probe", xyz, "--suite", "acme", "--label-map", "x=1,y=0,z=3"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runCLI(t, tt.args...)
			if code != 1 || strings.Count(stderr, "\n") != 1 {
				t.Fatalf("exit %d, stderr %q; want 1 and one line", code, stderr)
			}
			n := strings.Count(stderr, "; if they are the")
			if tt.hint == "" {
				if n != 0 {
					t.Errorf("stderr %q gives the --label-map advice; want none", stderr)
				}
				return
			}
			if n != 1 || !strings.HasSuffix(stderr, tt.hint+"\n") {
				t.Errorf("stderr %q gives the advice %d times; want once, at the end: %q", stderr, n, tt.hint)
			}
		})
	}
}
