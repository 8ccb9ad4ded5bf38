// Package visible makes text safe to show on a terminal: control and
// invisible characters are written as Go escapes, so text that came from a
// suspect (a model file's labels, a server's answer) can neither add lines
// that read like lineage's own output nor move the cursor, recolour or
// reorder the screen.
package visible

import (
	"strconv"
	"strings"
	"unicode"
)

// String returns s with every control character and every invisible one
// (Unicode formatting characters such as bidirectional overrides, line and
// paragraph separators) written as its Go escape (\x1b, \t, \u202e). With
// keepNewline, line feeds are kept as they are. s is returned unchanged
// when it has none of them.
func String(s string, keepNewline bool) string {
	hidden := func(r rune) bool {
		if keepNewline && r == '\n' {
			return false
		}
		return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
	}
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
