package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
)

// writeCSV writes the header row and the data rows with encoding/csv; numbers
// are written in full precision (strconv 'g', -1), empty cells as "". A
// record whose first field starts with '#' has that field quoted, so that a
// reader skipping '#' comment lines (see RenderAll) still reads it, and so
// does a record of one empty field, which encoding/csv writes as an empty
// line (skipped by readers, and a table's end in RenderAll).
func writeCSV(ew *errWriter, t *Table) {
	if len(t.Columns) == 0 {
		return
	}
	cw := csv.NewWriter(ew)
	write := func(rec []string) {
		if len(rec) == 1 && rec[0] == "" {
			cw.Flush()
			ew.WriteString(`""` + "\n")
			return
		}
		if !strings.HasPrefix(rec[0], "#") {
			cw.Write(rec)
			return
		}
		cw.Flush()
		ew.WriteString(`"` + strings.ReplaceAll(rec[0], `"`, `""`) + `"`)
		if len(rec) == 1 {
			ew.WriteString("\n")
			return
		}
		ew.WriteString(",")
		cw.Write(rec[1:])
	}
	rec := make([]string, len(t.Columns))
	for j, c := range t.Columns {
		rec[j] = c.Header()
	}
	write(rec)
	t.eachRow(func(_ int, r []Cell) bool {
		for j := range rec {
			rec[j] = csvField(cellAt(r, j))
		}
		write(rec)
		return true
	})
	cw.Flush()
	if err := cw.Error(); err != nil && ew.err == nil {
		ew.err = err
	}
}

// csvField returns c as a CSV field: c.full() for numbers; text on one
// line (line breaks as spaces: a blank line inside a quoted field ended a
// table for readers that split the blocks on blank lines), and starting
// with an apostrophe when a spreadsheet would take it for a formula
// (formulaStart): a suspect's name such as "=HYPERLINK(…)" must not run
// when the report is opened. A text that starts with an apostrophe gets
// one more, so that a reader gets every one-line text back by dropping
// one leading apostrophe where there is one (the field '=x is the text
// =x, and the text '=x is written with two apostrophes). JSON keeps
// every text exactly.
func csvField(c Cell) string {
	s := c.full()
	if c.kind != kindText {
		return s
	}
	s = oneLine(s)
	if s != "" && (s[0] == '\'' || len(s) > 1 && strings.IndexByte(formulaStart, s[0]) >= 0) {
		s = "'" + s
	}
	return s
}

// formulaStart holds the first characters that make spreadsheet programs
// read a CSV field as a formula (OWASP's list, but for the carriage
// return, which oneLine has replaced).
const formulaStart = "=+-@\t"

// jsonFlushAt is the size at which writeTableJSON hands its buffer to the
// writer.
const jsonFlushAt = 64 << 10

// writeTableJSON appends t to b as an indented JSON object
// {"title", "columns": [{"name", "unit"?}], "rows": [{name: value}], "notes"},
// writing b to ew (and starting it anew) whenever it grows past jsonFlushAt,
// and returns what is left of b to write; indent prefixes every line but the
// first (for nesting in an array).
func writeTableJSON(ew *errWriter, b []byte, t *Table, indent string) []byte {
	nl := "\n" + indent
	b = append(b, '{')
	b = append(b, nl+`  "title": `...)
	b = appendJSONString(b, t.Title)
	b = append(b, ","+nl+`  "columns": [`...)
	for j, c := range t.Columns {
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, nl+`    {"name": `...)
		b = appendJSONString(b, c.Name)
		if c.Unit != "" {
			b = append(b, `, "unit": `...)
			b = appendJSONString(b, c.Unit)
		}
		b = append(b, '}')
	}
	if len(t.Columns) > 0 {
		b = append(b, nl+"  "...)
	}
	b = append(b, "],"+nl+`  "rows": [`...)
	t.eachRow(func(i int, r []Cell) bool {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, nl+"    {"...)
		for j, c := range t.Columns {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = appendJSONString(b, c.Name)
			b = append(b, ": "...)
			b = cellAt(r, j).appendJSON(b)
		}
		b = append(b, '}')
		if len(b) >= jsonFlushAt {
			ew.Write(b)
			b = b[:0]
		}
		return true
	})
	if t.NumRows() > 0 {
		b = append(b, nl+"  "...)
	}
	b = append(b, "],"+nl+`  "notes": [`...)
	for i, n := range t.Notes {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendJSONString(b, n)
	}
	b = append(b, "]"+nl+"}"...)
	return b
}

// appendJSONString appends s as a JSON string without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			plain = false
			break
		}
	}
	if plain {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // cannot fail for a string
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
