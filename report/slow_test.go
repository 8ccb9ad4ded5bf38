package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSlow(t *testing.T) {
	for _, s := range []string{strings.Repeat("a", 20000), strings.Repeat("a\n", 2000), strings.Repeat("\t", 2000), strings.Repeat("\x1b[", 2000), strings.Repeat("é", 5000), strings.Repeat(" ", 5000), strings.Repeat("\r", 3000), strings.Repeat("\x00", 3000)} {
		tb := Table{Title: s, Columns: []Column{{Name: s}, {Name: "v", Unit: s}}, Rows: [][]Cell{{Text(s), Float(1, 2)}}, Notes: []string{s}}
		for _, f := range Formats() {
			st := time.Now()
			Render(&bytes.Buffer{}, tb, f)
			if d := time.Since(st); d > 5*time.Millisecond {
				t.Logf("%q %s %v", s[:2], f, d)
			}
		}
	}
}
