package report

import (
	"errors"
	"fmt"
	"io"
)

// Align is a column's horizontal alignment in the table and markdown formats.
// The zero value, AlignAuto, right-aligns a column whose non-empty cells are
// all numbers and left-aligns any other column.
type Align uint8

// The alignments.
const (
	AlignAuto Align = iota
	AlignLeft
	AlignRight
	AlignCenter
)

// Column describes one table column. Name is the header (and the JSON key of
// the column in each row object); Unit, when not empty, is shown after the
// name as "Name (Unit)" in the table, markdown and CSV headers and is kept as
// a separate field in JSON.
type Column struct {
	Name  string
	Align Align
	Unit  string
}

// Header returns the column's header text: "Name (Unit)", or Name alone when
// Unit is empty.
func (c Column) Header() string {
	if c.Unit == "" {
		return c.Name
	}
	return c.Name + " (" + c.Unit + ")"
}

// Table is a titled result table. Rows may be shorter than Columns (missing
// cells are empty) but not longer. Title and Notes are optional; Notes are
// footnotes shown under the table. A Table with no columns renders only its
// title and notes. More, when set, generates further rows after Rows as they
// are written (see [RowSource]).
type Table struct {
	Title   string
	Columns []Column
	Rows    [][]Cell
	More    RowSource
	Notes   []string
}

// RowSource generates a table's rows one at a time: the CSV and JSON formats
// write each as it is generated, so that a table of millions of cells (a
// registry's similarity matrix) is written without holding them all; the
// table and markdown formats, which size their columns to every cell, hold
// them. The zero RowSource generates no row.
type RowSource struct {
	// N is the number of rows.
	N int
	// Row returns row i (0 ≤ i < N), built in dst's array when it has the
	// room: the row is used only until the next call. It may be called
	// more than once for a row, and must return the same cells each time.
	Row func(i int, dst []Cell) []Cell
}

// NumRows returns the number of rows of t, those of More included.
func (t *Table) NumRows() int { return len(t.Rows) + t.More.N }

// AllRows returns every row of t, those of More generated and held.
func (t *Table) AllRows() [][]Cell {
	rows := append([][]Cell(nil), t.Rows...)
	for i := 0; i < t.More.N; i++ {
		rows = append(rows, t.More.Row(i, nil))
	}
	return rows
}

// eachRow calls f with each row of t in order, until f returns false; a
// generated row is f's to read only until it returns.
func (t *Table) eachRow(f func(i int, r []Cell) bool) {
	for i, r := range t.Rows {
		if !f(i, r) {
			return
		}
	}
	var buf []Cell
	for i := range t.More.N {
		buf = t.More.Row(i, buf[:0])
		if !f(len(t.Rows)+i, buf) {
			return
		}
	}
}

// held returns t with More's rows generated into Rows, for the formats
// that size their columns to every cell.
func (t *Table) held() *Table {
	if t.More.N == 0 {
		return t
	}
	h := *t
	h.Rows, h.More = t.AllRows(), RowSource{}
	return &h
}

// ErrInvalidTable is wrapped by the error returned when a table cannot be
// rendered: a row longer than the column list, or two columns with the same
// name (which would collide as JSON keys).
var ErrInvalidTable = errors.New("invalid table")

// AddRow appends a row of cells to t.
func (t *Table) AddRow(cells ...Cell) { t.Rows = append(t.Rows, cells) }

// Validate reports why t cannot be rendered, or nil.
func (t *Table) Validate() error {
	seen := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		if seen[c.Name] {
			return fmt.Errorf("report: table %q: duplicate column %q: %w", t.Title, c.Name, ErrInvalidTable)
		}
		seen[c.Name] = true
	}
	var err error
	t.eachRow(func(i int, r []Cell) bool {
		if len(r) > len(t.Columns) {
			err = fmt.Errorf("report: table %q: row %d has %d cells for %d columns: %w",
				t.Title, i, len(r), len(t.Columns), ErrInvalidTable)
		}
		return err == nil
	})
	return err
}

// cell returns row i, column j, or the empty cell for a short row.
func (t *Table) cell(i, j int) Cell { return cellAt(t.Rows[i], j) }

// cellAt returns cell j of row r, or the empty cell for a short row.
func cellAt(r []Cell, j int) Cell {
	if j < len(r) {
		return r[j]
	}
	return Cell{}
}

// align resolves column j's alignment (AlignAuto to left or right).
func (t *Table) align(j int) Align {
	if a := t.Columns[j].Align; a != AlignAuto {
		return a
	}
	nums := 0
	for i := range t.Rows {
		c := t.cell(i, j)
		switch {
		case c.IsNumber():
			nums++
		case !c.IsEmpty():
			return AlignLeft
		}
	}
	if nums > 0 {
		return AlignRight
	}
	return AlignLeft
}

// Render writes t to w in format f. See the [Format] constants for what each
// format contains. The CSV format holds only the header and data rows (title
// and notes are dropped; [RenderAll] keeps them as comment lines). Nothing is
// written when t is invalid (see [Table.Validate]).
func Render(w io.Writer, t Table, f Format) error {
	if err := f.check(); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	ew := &errWriter{w: w}
	switch f {
	case FormatTable:
		writeASCII(ew, t.held())
	case FormatMarkdown:
		writeMarkdown(ew, t.held())
	case FormatCSV:
		writeCSV(ew, &t)
	case FormatJSON:
		ew.Write(append(writeTableJSON(ew, nil, &t, ""), '\n'))
	}
	if ew.err != nil {
		if t.Title == "" {
			return fmt.Errorf("report: writing a table as %s: %w", f, ew.err)
		}
		return fmt.Errorf("report: writing table %q as %s: %w", t.Title, f, ew.err)
	}
	return nil
}

// RenderAll writes several tables to w as one document in format f:
//   - table: each table as by [Render], separated by a blank line;
//   - markdown: one section per table (### title, table, notes), separated by a blank line;
//   - csv: for each table a "# title" comment line, one "# note" line per note,
//     then header and rows; tables are separated by a blank line (read it back by
//     splitting on blank lines, with csv.Reader.Comment = '#');
//   - json: an indented array of table objects.
//
// Nothing is written when a table is invalid.
func RenderAll(w io.Writer, ts []Table, f Format) error {
	if err := f.check(); err != nil {
		return err
	}
	for i := range ts {
		if err := ts[i].Validate(); err != nil {
			return err
		}
	}
	ew := &errWriter{w: w}
	if f == FormatJSON {
		b := []byte("[")
		for i := range ts {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n  "...)
			b = writeTableJSON(ew, b, &ts[i], "  ")
		}
		if len(ts) > 0 {
			b = append(b, '\n')
		}
		b = append(b, "]\n"...)
		ew.Write(b)
	}
	for i := range ts {
		if f == FormatJSON {
			break
		}
		if i > 0 {
			ew.WriteString("\n")
		}
		t := &ts[i]
		switch f {
		case FormatTable:
			writeASCII(ew, t.held())
		case FormatMarkdown:
			writeMarkdown(ew, t.held())
		case FormatCSV:
			ew.WriteString("# " + oneLine(t.Title) + "\n")
			for _, n := range t.Notes {
				ew.WriteString("# " + oneLine(n) + "\n")
			}
			writeCSV(ew, t)
		}
	}
	if ew.err != nil {
		return fmt.Errorf("report: writing tables as %s: %w", f, ew.err)
	}
	return nil
}

// errWriter remembers the first write error so renderers can write freely.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) WriteString(s string) {
	e.Write([]byte(s))
}
