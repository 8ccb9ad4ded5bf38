package report

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// generated returns t with its rows after the first k moved to a
// RowSource that counts its calls in *calls.
func generated(t Table, k int, calls *int) Table {
	rest := t.Rows[k:]
	t.Rows = t.Rows[:k:k]
	t.More = RowSource{N: len(rest), Row: func(i int, dst []Cell) []Cell {
		*calls++
		return append(dst[:0], rest[i]...)
	}}
	return t
}

// TestRowSourceSameOutput checks that a table whose rows are generated, in
// part or whole, renders in every format as the table holding them does,
// alone and among others, short rows included.
func TestRowSourceSameOutput(t *testing.T) {
	held := auditTable()
	held.AddRow(Text("short"))
	for _, f := range Formats() {
		for _, k := range []int{0, 1, len(held.Rows)} {
			t.Run(fmt.Sprintf("%s/%d held", f, k), func(t *testing.T) {
				var calls int
				gen := generated(held, k, &calls)
				var want, got bytes.Buffer
				if err := Render(&want, held, f); err != nil {
					t.Fatal(err)
				}
				if err := Render(&got, gen, f); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("Render with generated rows:\n%s\nwant\n%s", got.String(), want.String())
				}
				want.Reset()
				got.Reset()
				other := Table{Title: "other", Columns: []Column{{Name: "x"}}, Rows: [][]Cell{{Int(1)}}}
				if err := RenderAll(&want, []Table{other, held, other}, f); err != nil {
					t.Fatal(err)
				}
				if err := RenderAll(&got, []Table{other, gen, other}, f); err != nil {
					t.Fatal(err)
				}
				if got.String() != want.String() {
					t.Errorf("RenderAll with generated rows:\n%s\nwant\n%s", got.String(), want.String())
				}
				if rows := gen.AllRows(); len(rows) != len(held.Rows) || gen.NumRows() != len(held.Rows) {
					t.Errorf("AllRows: %d rows, NumRows %d, want %d", len(rows), gen.NumRows(), len(held.Rows))
				}
			})
		}
	}
}

// TestRowSourceInvalid checks that a generated row longer than the column
// list makes the table invalid, and nothing is written.
func TestRowSourceInvalid(t *testing.T) {
	tb := Table{Title: "t", Columns: []Column{{Name: "a"}}, More: RowSource{N: 3, Row: func(i int, dst []Cell) []Cell {
		if i == 2 {
			return append(dst[:0], Int(1), Int(2))
		}
		return append(dst[:0], Int(int64(i)))
	}}}
	for _, f := range Formats() {
		var buf bytes.Buffer
		if err := RenderAll(&buf, []Table{tb}, f); !errors.Is(err, ErrInvalidTable) || buf.Len() > 0 {
			t.Errorf("%s: error %v and %d bytes written, want ErrInvalidTable and nothing", f, err, buf.Len())
		}
	}
}

// rowWriter records, at each write, how many rows the table's RowSource
// had generated.
type rowWriter struct {
	calls *int
	at    []int
}

func (w *rowWriter) Write(p []byte) (int, error) {
	w.at = append(w.at, *w.calls)
	return len(p), nil
}

// TestRowSourceStreams checks that CSV and JSON write generated rows as
// they are generated: after the rows are checked (one pass), the text of
// the first rows is written before the last rows are generated again.
func TestRowSourceStreams(t *testing.T) {
	const n = 5000
	long := strings.Repeat("x", 100)
	for _, f := range []Format{FormatCSV, FormatJSON} {
		var calls int
		tb := Table{Title: "big", Columns: []Column{{Name: "i"}, {Name: "s"}}, More: RowSource{N: n, Row: func(i int, dst []Cell) []Cell {
			calls++
			return append(dst[:0], Int(int64(i)), Text(long))
		}}}
		w := &rowWriter{calls: &calls}
		if err := RenderAll(w, []Table{tb}, f); err != nil {
			t.Fatal(err)
		}
		if len(w.at) < 2 || w.at[len(w.at)/2] >= 2*n-n/4 {
			t.Errorf("%s: rows generated at each write %v…, want writes while the rows are generated", f, w.at[:min(len(w.at), 5)])
		}
	}
}
