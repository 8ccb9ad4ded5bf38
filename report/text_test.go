package report

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// gfmCells splits a markdown table row as GitHub does (cmark-gfm): on
// every pipe not directly after a backslash, then drops the escaping
// backslash of escaped pipes; the outer pipes give no cell.
func gfmCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	if strings.HasSuffix(row, "|") && !strings.HasSuffix(row, `\|`) {
		row = row[:len(row)-1]
	}
	var cells []string
	start := 0
	for i := 0; i < len(row); i++ {
		if row[i] == '|' && (i == 0 || row[i-1] != '\\') {
			cells = append(cells, row[start:i])
			start = i + 1
		}
	}
	cells = append(cells, row[start:])
	for i, c := range cells {
		cells[i] = strings.ReplaceAll(strings.TrimSpace(c), `\|`, "|")
	}
	return cells
}

// mdText returns the text a markdown cell shows when it holds no markup:
// every backslash escape of ASCII punctuation replaced by the character.
// It reports false when the cell opens markup: one of \ ` * ~ [ ] < & or an
// underscore outside a word, unescaped.
func mdText(cell string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(cell); i++ {
		c := cell[i]
		if c == '\\' && i+1 < len(cell) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", cell[i+1]) >= 0 {
			b.WriteByte(cell[i+1])
			i++
			continue
		}
		switch {
		case strings.IndexByte("\\`*~[]<&", c) >= 0:
			return "", false
		case c == '_' && (i == 0 || i == len(cell)-1 || !isAlnum(cell[i-1]) || !isAlnum(cell[i+1])):
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// TestMarkdownLiteralNames checks that names with markdown syntax in them
// keep the table whole and show as themselves: pipes and the characters
// that open code, emphasis, links, entities or HTML are escaped (a
// backslash before a pipe too: "a\|b" was written a\\|b, shown a|b), an
// underscore inside a word is left alone, and a heading keeps a final '#'.
func TestMarkdownLiteralNames(t *testing.T) {
	names := []string{`a\|b`, `x\`, "*star*", "[link](http://x)", "<b>bold</b>", "back`tick", "``", "AT&amp;T",
		"~~gone~~", "snake_case_name", "_lead", "a__b", "-lead", "中文字", "plain"}
	tb := Table{Title: "Audit of team #", Columns: []Column{{Name: "suspect"}, {Name: "n"}}}
	for i, n := range names {
		tb.AddRow(Text(n), Int(int64(i)))
	}
	var buf bytes.Buffer
	if err := Render(&buf, tb, FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if lines[0] != `### Audit of team \#` {
		t.Errorf("heading %q, want the '#' escaped", lines[0])
	}
	rows := lines[4:]
	if len(rows) != len(names) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(names), buf.String())
	}
	for i, r := range rows {
		cells := gfmCells(r)
		if len(cells) != 2 {
			t.Errorf("row %q: %d cells, want 2", r, len(cells))
			continue
		}
		if got, ok := mdText(cells[0]); !ok || got != names[i] {
			t.Errorf("name %q written %q: shows %q (literal %v)", names[i], cells[0], got, ok)
		}
	}
	if !strings.Contains(buf.String(), "| snake_case_name ") {
		t.Errorf("an underscore inside a word was escaped:\n%s", buf.String())
	}
}

// TestMarkdownWideAlign checks that markdown columns are padded by display
// width: a CJK character takes two columns, a combining mark none, so the
// pipes line up in a terminal or editor (they were padded by rune count).
func TestMarkdownWideAlign(t *testing.T) {
	tb := Table{Columns: []Column{{Name: "suspect"}, {Name: "n"}}}
	for i, n := range []string{"中文字模型", "e\u0301t\u00e9", "plain-ascii"} {
		tb.AddRow(Text(n), Int(int64(i)))
	}
	var buf bytes.Buffer
	if err := Render(&buf, tb, FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	width := func(s string) int { return twwidth.WidthWithOptions(s, twwidth.Options{}) }
	want := width(lines[0])
	for _, l := range lines {
		if w := width(l); w != want {
			t.Errorf("line %q is %d columns wide, the header %d:\n%s", l, w, want, buf.String())
		}
	}
	if want != len("| plain-ascii |   n |") {
		t.Errorf("header is %d columns wide, want %d:\n%s", want, len("| plain-ascii |   n |"), buf.String())
	}
}

// TestMarkdownLiteralNotes checks that the notes under a markdown table are
// escaped as its cells are: a note holds teacher and model names, so
// a|b*c, back`tick or [link](x) must show as themselves, and a note that
// starts like a heading, quote, list or rule must not open one inside its
// list item. They were written raw.
func TestMarkdownLiteralNotes(t *testing.T) {
	names := []string{"a|b*c", `a\|b`, "back`tick", "``", "[link](http://x)", "<b>bold</b>", "AT&amp;T",
		"~~gone~~", "_lead", "snake_case_name", "plain"}
	starts := map[string]string{ // a note as a whole: how the list item starts
		"# heading": `\# heading`,
		"> quote":   `\> quote`,
		"- item":    `\- item`,
		"+ item":    `\+ item`,
		"---":       `\---`,
		"1. one":    `1\. one`,
		"12) two":   `12\) two`,
		"* star":    `\* star`,
		"2024 plan": "2024 plan",
	}
	tb := Table{Columns: []Column{{Name: "n"}}, Rows: [][]Cell{{Int(1)}}}
	for _, n := range names {
		tb.Notes = append(tb.Notes, "teacher "+n+": nearest control "+n)
	}
	var order []string
	for n := range starts {
		order = append(order, n)
	}
	sort.Strings(order)
	tb.Notes = append(tb.Notes, order...)
	var buf bytes.Buffer
	if err := Render(&buf, tb, FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	items := lines[len(lines)-len(tb.Notes):]
	for i, l := range items {
		item, ok := strings.CutPrefix(l, "- ")
		if !ok {
			t.Errorf("note %q written %q, want a list item", tb.Notes[i], l)
			continue
		}
		if i < len(names) {
			if got, lit := mdText(item); !lit || got != tb.Notes[i] {
				t.Errorf("note %q written %q: shows %q (literal %v)", tb.Notes[i], item, got, lit)
			}
			continue
		}
		if want := starts[tb.Notes[i]]; item != want {
			t.Errorf("note %q written %q, want %q", tb.Notes[i], item, want)
		}
	}
}
