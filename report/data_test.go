package report

import (
	"bytes"
	"encoding/csv"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestCSVFullPrecision checks that CSV numbers re-parse to the exact values.
func TestCSVFullPrecision(t *testing.T) {
	tb := auditTable()
	var buf bytes.Buffer
	if err := Render(&buf, tb, FormatCSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("re-reading csv: %v", err)
	}
	if len(recs) != len(tb.Rows)+1 {
		t.Fatalf("got %d records, want %d", len(recs), len(tb.Rows)+1)
	}
	if got, want := recs[0][4], "elapsed (s)"; got != want {
		t.Errorf("header[4] = %q, want %q", got, want)
	}
	for i, row := range tb.Rows {
		for j, c := range row {
			field := recs[i+1][j]
			v, isNum := c.Number()
			if !isNum {
				if field != c.String() {
					t.Errorf("row %d col %d = %q, want %q", i, j, field, c.String())
				}
				continue
			}
			got, err := strconv.ParseFloat(field, 64)
			if err != nil {
				t.Errorf("row %d col %d: %v", i, j, err)
				continue
			}
			if got != v && !(math.IsNaN(got) && math.IsNaN(v)) {
				t.Errorf("row %d col %d re-parsed %v, want %v", i, j, got, v)
			}
		}
	}
}

// TestCSVHashFields reads RenderAll's CSV back the documented way (split on
// blank lines, '#' comments): a header or a cell starting with '#' must not
// be taken for a comment.
func TestCSVHashFields(t *testing.T) {
	ts := []Table{
		{Title: "matrix", Columns: []Column{{Name: "#"}, {Name: "model"}}, Rows: [][]Cell{{Int(1), Text("a")}}},
		{Title: "verdicts", Columns: []Column{{Name: "suspect"}, {Name: "p"}},
			Rows: [][]Cell{{Text("#hash"), Float(0.5, 2)}, {Text(`#"q"`), Float(1, 2)}, {Text("plain"), Float(0.1, 2)}}},
	}
	var b strings.Builder
	if err := RenderAll(&b, ts, FormatCSV); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimSpace(b.String()), "\n\n")
	want := [][][]string{
		{{"#", "model"}, {"1", "a"}},
		{{"suspect", "p"}, {"#hash", "0.5"}, {`#"q"`, "1"}, {"plain", "0.1"}},
	}
	if len(blocks) != len(want) {
		t.Fatalf("%d blocks, want %d:\n%s", len(blocks), len(want), b.String())
	}
	for i, blk := range blocks {
		r := csv.NewReader(strings.NewReader(blk))
		r.Comment = '#'
		got, err := r.ReadAll()
		if err != nil {
			t.Fatalf("block %d: %v\n%s", i, err, blk)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("block %d read back as %q, want %q", i, got, want[i])
		}
	}
}

// TestCSVOneEmptyField reads back a one-column table with an empty cell:
// encoding/csv writes a record of one empty field as an empty line, which a
// reader skips (the row was lost) and RenderAll's blank-line separation
// took for the end of the table.
func TestCSVOneEmptyField(t *testing.T) {
	ts := []Table{
		{Title: "files", Columns: []Column{{Name: "file"}}, Rows: [][]Cell{{Text("a.png")}, {}, {Text("")}, {Text("b.png")}}},
		{Title: "next", Columns: []Column{{Name: "x"}}, Rows: [][]Cell{{Int(1)}}},
	}
	var b strings.Builder
	if err := RenderAll(&b, ts, FormatCSV); err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(strings.TrimSpace(b.String()), "\n\n")
	want := [][][]string{{{"file"}, {"a.png"}, {""}, {""}, {"b.png"}}, {{"x"}, {"1"}}}
	if len(blocks) != len(want) {
		t.Fatalf("%d blocks, want %d:\n%s", len(blocks), len(want), b.String())
	}
	for i, blk := range blocks {
		r := csv.NewReader(strings.NewReader(blk))
		r.Comment = '#'
		got, err := r.ReadAll()
		if err != nil || !reflect.DeepEqual(got, want[i]) {
			t.Errorf("block %d read back as %q (%v), want %q:\n%s", i, got, err, want[i], blk)
		}
	}
}

// TestCSVText: text in CSV is on one line (a blank line inside a quoted
// field split a table in two for readers of RenderAll's blocks), and a
// text a spreadsheet would run as a formula starts with an apostrophe.
func TestCSVText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"fig\n\nure.svg", "fig  ure.svg"},
		{"a\r\nb\rc", "a b c"},
		{"=1+2", "'=1+2"},
		{"+cmd", "'+cmd"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"-", "-"},
		{"a=b", "a=b"},
		// A leading apostrophe gets one more: dropping one gives the
		// name back ("'=x" was both "=x" and "'=x").
		{"'=x", "''=x"},
		{"'", "''"},
		{"it's", "it's"},
		{"", ""},
	} {
		ts := []Table{
			{Title: "t", Columns: []Column{{Name: "name"}, {Name: "v"}}, Rows: [][]Cell{{Text(tt.in), Float(-0.5, 2)}}},
			{Title: "next", Columns: []Column{{Name: "x"}}, Rows: [][]Cell{{Int(-1)}}},
		}
		var b strings.Builder
		if err := RenderAll(&b, ts, FormatCSV); err != nil {
			t.Fatal(err)
		}
		blocks := strings.Split(strings.TrimSpace(b.String()), "\n\n")
		want := [][][]string{{{"name", "v"}, {tt.want, "-0.5"}}, {{"x"}, {"-1"}}}
		if len(blocks) != len(want) {
			t.Errorf("%q: %d blocks, want %d:\n%s", tt.in, len(blocks), len(want), b.String())
			continue
		}
		for i, blk := range blocks {
			r := csv.NewReader(strings.NewReader(blk))
			r.Comment = '#'
			got, err := r.ReadAll()
			if err != nil || !reflect.DeepEqual(got, want[i]) {
				t.Errorf("%q: block %d read back as %q (%v), want %q", tt.in, i, got, err, want[i])
			}
		}
	}
}
