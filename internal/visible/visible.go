// Package visible makes text safe to show on a terminal: control and
// invisible characters are written as Go escapes, so text that came from a
// suspect (a model file's labels, a server's answer) can neither add lines
// that read like lineage's own output nor move the cursor, recolour or
// reorder the screen.
package visible

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// String returns s with every control character and every invisible one
// (Unicode formatting characters such as bidirectional overrides, line and
// paragraph separators) written as its Go escape (\x1b, \t, \u202e), and
// every byte that is not part of valid UTF-8 (a file name can be any
// bytes) as \xNN, as strconv.Quote writes it: a terminal showed such a
// byte as U+FFFD, or not at all, and tables were drawn out of line. With
// keepNewline, line feeds are kept as they are. s is returned unchanged
// when it has none of them.
func String(s string, keepNewline bool) string {
	hidden := func(r rune) bool {
		if keepNewline && r == '\n' {
			return false
		}
		return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
	}
	if utf8.ValidString(s) && !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case hidden(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
