package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestUnheldClassWarning checks the one stderr line train, eval and
// enroll give for classes the split holds out no row of (a class of one
// or two rows: a CSV with a class of one row trained and enrolled without
// a word, its test accuracy and probes saying nothing of it), naming each
// such class, and that data whose every class is held out gets none.
func TestUnheldClassWarning(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	write := func(name string, thin map[int]string) {
		var b strings.Builder
		for i := range 60 {
			label := fmt.Sprint(i % 2)
			if l, ok := thin[i]; ok {
				label = l
			}
			fmt.Fprintf(&b, "%d,%d,%s\n", i%7, (i*3)%5, label)
		}
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("even.csv", nil)
	write("one.csv", map[int]string{7: "rare"})
	write("two.csv", map[int]string{7: "rare", 8: "odd", 9: "odd"})
	const tail = "no row in the test split (it holds out 20% of each class, none of a class of 1 or 2 rows)"
	for _, tt := range []struct {
		name, data, want string
	}{
		{"every class held out", "even.csv", ""},
		{"a class of one row", "one.csv", `lineage: dataset "one.csv": class "rare" (1 row) has ` + tail + ": the test accuracy says nothing of it, and an enrolment has no held-out probe of it"},
		{"two thin classes", "two.csv", `lineage: dataset "two.csv": classes "odd" (2 rows), "rare" (1 row) have ` + tail + ": the test accuracy says nothing of them"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, args := range [][]string{
				{"train", "--data", tt.data, "--hidden", "4", "--epochs", "1", "--no-progress", "--out", "m.lnm"},
				{"eval", "m.lnm", "--data", tt.data},
				{"--db", "x.db", "enroll", "x", "--model", "m.lnm", "--data", tt.data, "--controls", "3", "--suite-size", "30", "--no-progress"},
			} {
				code, stderr := runLineage(t, args...)
				if args[0] != "--db" && code != 0 {
					t.Fatalf("lineage %s: status %d: %s", strings.Join(args, " "), code, stderr)
				}
				got := strings.Contains(stderr, "no row in the test split")
				if got != (tt.want != "") || !strings.Contains(stderr, tt.want) {
					t.Errorf("lineage %s: stderr %q, want the line %q", strings.Join(args, " "), stderr, tt.want)
				}
				if n := strings.Count(stderr, "no row in the test split"); n > 1 {
					t.Errorf("lineage %s: the warning %d times, want once", strings.Join(args, " "), n)
				}
			}
			os.Remove("x.db")
		})
	}
}
