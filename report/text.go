package report

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/internal/visible"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// writeASCII writes the table format: the title on its own line, a
// plain-ASCII grid drawn by tablewriter (never coloured), then "- note" lines
// (a line break in the title or a note is a space: a name holding one
// printed a line that looked like lineage's own).
func writeASCII(ew *errWriter, t *Table) {
	if t.Title != "" {
		ew.WriteString(printable(oneLine(t.Title)) + "\n")
	}
	if len(t.Columns) > 0 {
		aligns := make(tw.Alignment, len(t.Columns))
		header := make([]string, len(t.Columns))
		for j, c := range t.Columns {
			header[j] = oneRow(c.Header())
			switch t.align(j) {
			case AlignRight:
				aligns[j] = tw.AlignRight
			case AlignCenter:
				aligns[j] = tw.AlignCenter
			default:
				aligns[j] = tw.AlignLeft
			}
		}
		tb := tablewriter.NewTable(ew,
			tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
			tablewriter.WithHeaderAutoFormat(tw.Off),
			tablewriter.WithHeaderAutoWrap(tw.WrapNone),
			tablewriter.WithRowAutoWrap(tw.WrapNone),
			tablewriter.WithTrimSpace(tw.Off),
			tablewriter.WithAlignment(aligns),
		)
		tb.Header(header)
		for i := range t.Rows {
			row := make([]string, len(t.Columns)) // tablewriter keeps the slice
			for j := range row {
				row[j] = oneRow(t.cell(i, j).String())
			}
			if err := tb.Append(row); err != nil && ew.err == nil {
				ew.err = err
			}
		}
		if err := tb.Render(); err != nil && ew.err == nil {
			ew.err = err
		}
	}
	for _, n := range t.Notes {
		ew.WriteString("- " + printable(oneLine(n)) + "\n")
	}
}

// printable returns s with every control character but the line feed, and
// every invisible one, written as its Go escape (see visible.String): the
// table and markdown formats are read by people, often on a terminal, and
// the text they show can come from a suspect's model file or server (its
// name, its labels), which must not move the cursor, recolour or reorder
// the screen, nor hide what it holds.
func printable(s string) string { return visible.String(s, true) }

// oneRow is printable for a cell of the table format, where a line feed
// is shown as the escape \n too: tablewriter breaks a cell at one, and
// the cell's text after it (a model's name from its file, say) was drawn
// as a line of the table of its own, the other columns blank, as if it
// were a row (db ls showed "| | | | forged | row |" for a model so named).
// Markdown shows it as <br> within its row, and CSV as a space.
func oneRow(s string) string { return visible.String(s, false) }

// writeMarkdown writes a GitHub-flavoured markdown section: "### Title", a
// pipe table with an alignment row (columns padded to one display width for
// readability, wide characters counting two), and the notes as a list.
func writeMarkdown(ew *errWriter, t *Table) {
	if t.Title != "" {
		ew.WriteString("### " + mdHeading(t.Title) + "\n\n")
	}
	if n := len(t.Columns); n > 0 {
		cells := make([][]string, len(t.Rows)+1)
		widths := make([]int, n)
		for i := range cells {
			cells[i] = make([]string, n)
			for j := range n {
				var s string
				if i == 0 {
					s = t.Columns[j].Header()
				} else {
					s = t.cell(i-1, j).String()
				}
				s = mdEscape(printable(s))
				cells[i][j] = s
				widths[j] = max(widths[j], displayWidth(s), 3)
			}
		}
		aligns := make([]Align, n)
		for j := range aligns {
			aligns[j] = t.align(j)
		}
		var b strings.Builder
		for i, r := range cells {
			mdRow(&b, r, widths, aligns)
			if i == 0 {
				b.WriteString("|")
				for j, w := range widths {
					dash := strings.Repeat("-", w)
					switch aligns[j] {
					case AlignRight:
						dash = dash[1:] + ":"
					case AlignCenter:
						dash = ":" + dash[2:] + ":"
					default:
						dash = ":" + dash[1:]
					}
					b.WriteString(" " + dash + " |")
				}
				b.WriteString("\n")
			}
		}
		ew.WriteString(b.String())
	}
	if len(t.Notes) > 0 {
		if len(t.Columns) > 0 {
			ew.WriteString("\n")
		}
		for _, n := range t.Notes {
			ew.WriteString("- " + mdNote(n) + "\n")
		}
	}
}

func mdRow(b *strings.Builder, r []string, widths []int, aligns []Align) {
	b.WriteString("|")
	for j, s := range r {
		pad := widths[j] - displayWidth(s)
		b.WriteString(" ")
		switch aligns[j] {
		case AlignRight:
			b.WriteString(strings.Repeat(" ", pad) + s)
		case AlignCenter:
			b.WriteString(strings.Repeat(" ", pad/2) + s + strings.Repeat(" ", pad-pad/2))
		default:
			b.WriteString(s + strings.Repeat(" ", pad))
		}
		b.WriteString(" |")
	}
	b.WriteString("\n")
}

// displayWidth is the number of terminal columns s takes: two for a wide
// (CJK) character, none for a combining mark. It does not depend on the
// environment (East Asian ambiguous characters count one), so the markdown
// output stays the same everywhere.
func displayWidth(s string) int { return twwidth.WidthWithOptions(s, twwidth.Options{}) }

// mdEscape makes s a literal markdown table cell: a pipe would end the cell
// and a line break the row, so pipes are escaped and line breaks become
// <br>; see mdLiteral for the rest.
func mdEscape(s string) string { return mdLiteral(s, false) }

// mdHeading makes s a literal markdown heading text: on one line, and a
// '#' escaped too (a closing run of them would be dropped).
func mdHeading(s string) string { return mdLiteral(printable(oneLine(s)), true) }

// mdNote makes s the literal text of a markdown list item: on one line,
// with control and invisible characters shown as escapes and markup
// escaped as in a cell (notes hold model and teacher names, which may hold
// any of it), and a start that would open a block inside the item (a
// heading, a quote, a nested list, a rule) escaped too.
func mdNote(s string) string {
	s = mdLiteral(printable(oneLine(s)), false)
	if s == "" {
		return s
	}
	switch s[0] {
	case '#', '>', '-', '+', '=':
		return "\\" + s
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && (s[i] == '.' || s[i] == ')') {
		return s[:i] + "\\" + s[i:]
	}
	return s
}

// mdLiteral backslash-escapes in s the characters that open inline markdown
// (\ ` * _ ~ [ ] < &) and pipes, and turns line breaks into <br>, so that a
// name reads as itself, not as code, emphasis, a link, an entity or HTML;
// with heading, '#' is escaped too. An underscore between two letters or
// digits ("replica_residual") is left as it is: it cannot open emphasis.
// Backslashes are escaped too: with only its pipe escaped, the name a\|b
// was written a\\|b, which GitHub shows as a|b.
func mdLiteral(s string, heading bool) string {
	if !strings.ContainsAny(s, "\\`*_~[]<&|#\r\n") {
		return s
	}
	var b strings.Builder
	var prev rune
	for i, r := range s {
		switch r {
		case '\r':
			if !strings.HasPrefix(s[i:], "\r\n") {
				b.WriteString("<br>")
			}
		case '\n':
			b.WriteString("<br>")
		case '_':
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			if !wordRune(prev) || !wordRune(next) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '#':
			if heading {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '\\', '`', '*', '~', '[', ']', '<', '&', '|':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// wordRune reports whether r is a letter or a digit.
func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

var lineReplacer = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// oneLine replaces line breaks by spaces (titles and notes in line-oriented
// places).
func oneLine(s string) string { return lineReplacer.Replace(s) }
