package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./report -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

// auditTable is a small table exercising every cell kind, a short row, a
// unit, NaN/Inf, negative zero and characters that need escaping.
func auditTable() Table {
	return Table{
		Title: "Audit against teacher digits-mlp",
		Columns: []Column{
			{Name: "suspect"},
			{Name: "agreement"},
			{Name: "p-value"},
			{Name: "queries"},
			{Name: "elapsed", Unit: "s"},
			{Name: "verdict", Align: AlignCenter},
		},
		Rows: [][]Cell{
			{Text("student-kd"), Float(0.98765432, 3), Fmt(1.234567e-7, 'e', 2), Int(2000), Float(1.5, 2), Text("derived")},
			{Text(`indep "B" | v2`), Float(0.4123, 3), Fmt(0.41, 'g', 3), Int(2000), Float(-0.0001, 2), Text("independent")},
			{Text("broken"), Float(math.NaN(), 3), Fmt(math.Inf(1), 'g', 3), Int(-1)},
			{Text("ünïcode"), Cell{}, Float(1.0/3, -1)},
		},
		Notes: []string{"p-values are calibrated against 12 negative controls.", "agreement = top-1 match rate"},
	}
}

func trainKV() KV {
	var kv KV
	kv.Title = "Training result"
	kv.Add("student", Text("student.lnm")).
		Add("epochs", Int(20)).
		Add("final loss", Float(0.0123456, 4)).
		Add("test accuracy", Float(0.9512, 3)).
		Add("fidelity", Fmt(math.NaN(), 'g', 3))
	kv.Notes = []string{"teacher queries cached once"}
	return kv
}

var extOf = map[Format]string{FormatTable: "txt", FormatMarkdown: "md", FormatCSV: "csv", FormatJSON: "json"}

func TestRenderGolden(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Render(&buf, auditTable(), f); err != nil {
				t.Fatalf("Render: %v", err)
			}
			golden(t, "table."+extOf[f]+".golden", buf.Bytes())
		})
	}
}

func TestRenderAllGolden(t *testing.T) {
	second := Table{
		Title:   "Controls",
		Columns: []Column{{Name: "model"}, {Name: "score"}},
		Rows:    [][]Cell{{Text("ref-1"), Float(0.12, 2)}, {Text("ref-2"), Float(0.08, 2)}},
	}
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderAll(&buf, []Table{auditTable(), second}, f); err != nil {
				t.Fatalf("RenderAll: %v", err)
			}
			golden(t, "all."+extOf[f]+".golden", buf.Bytes())
		})
	}
}

func TestRenderKVGolden(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderKV(&buf, trainKV(), f); err != nil {
				t.Fatalf("RenderKV: %v", err)
			}
			golden(t, "kv."+extOf[f]+".golden", buf.Bytes())
		})
	}
}

func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, auditTable(), FormatJSON); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Title   string
		Columns []struct{ Name, Unit string }
		Rows    []map[string]any
		Notes   []string
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.Bytes())
	}
	if got.Title != auditTable().Title || len(got.Columns) != 6 || len(got.Rows) != 4 || len(got.Notes) != 2 {
		t.Fatalf("got %+v", got)
	}
	if got.Columns[4].Unit != "s" {
		t.Errorf("column 4 unit = %q, want s", got.Columns[4].Unit)
	}
	checks := []struct {
		row  int
		col  string
		want any
	}{
		{0, "agreement", 0.98765432},
		{0, "p-value", 1.234567e-7},
		{0, "queries", 2000.0},
		{1, "suspect", `indep "B" | v2`},
		{2, "agreement", nil}, // NaN
		{2, "p-value", nil},   // +Inf
		{2, "verdict", nil},   // short row
		{3, "agreement", nil}, // empty cell
	}
	for _, c := range checks {
		v, ok := got.Rows[c.row][c.col]
		if !ok || v != c.want {
			t.Errorf("rows[%d][%q] = %v (present %v), want %v", c.row, c.col, v, ok, c.want)
		}
	}
	// Keys keep column order.
	s := buf.String()
	if i, j := strings.Index(s, `"suspect": "student-kd"`), strings.Index(s, `"verdict": "derived"`); i < 0 || j < i {
		t.Errorf("row keys out of column order:\n%s", s)
	}
}

func TestKVJSONOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := RenderKV(&buf, trainKV(), FormatJSON); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&buf)
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
	}
	want := "student,epochs,final loss,test accuracy,fidelity"
	if got := strings.Join(keys, ","); got != want {
		t.Errorf("keys = %s, want %s", got, want)
	}
}

func TestAutoAlign(t *testing.T) {
	tb := Table{
		Columns: []Column{{Name: "n"}, {Name: "mixed"}, {Name: "blank"}, {Name: "forced", Align: AlignLeft}},
		Rows: [][]Cell{
			{Int(1), Int(1), {}, Int(1)},
			{Cell{}, Text("x")},
		},
	}
	want := []Align{AlignRight, AlignLeft, AlignLeft, AlignLeft}
	for j, w := range want {
		if got := tb.align(j); got != w {
			t.Errorf("align(%d) = %d, want %d", j, got, w)
		}
	}
	var buf bytes.Buffer
	if err := Render(&buf, tb, FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	if want := "| --: | :---- | :---- | :----- |"; !strings.Contains(buf.String(), want) {
		t.Errorf("markdown alignment row missing %q:\n%s", want, buf.String())
	}
}

func TestInvalid(t *testing.T) {
	tests := map[string]Table{
		"long row":  {Columns: []Column{{Name: "a"}}, Rows: [][]Cell{{Int(1), Int(2)}}},
		"duplicate": {Columns: []Column{{Name: "a"}, {Name: "a"}}},
	}
	for name, tb := range tests {
		for _, f := range Formats() {
			var buf bytes.Buffer
			err := Render(&buf, tb, f)
			if !errors.Is(err, ErrInvalidTable) {
				t.Errorf("%s/%s: err = %v, want ErrInvalidTable", name, f, err)
			}
			if buf.Len() != 0 {
				t.Errorf("%s/%s: wrote %q for an invalid table", name, f, buf.String())
			}
		}
	}
	kv := KV{}
	kv.Add("k", Int(1)).Add("k", Int(2))
	if err := RenderKV(&bytes.Buffer{}, kv, FormatJSON); !errors.Is(err, ErrInvalidTable) {
		t.Errorf("duplicate KV key: err = %v, want ErrInvalidTable", err)
	}
}

func TestEmptyTable(t *testing.T) {
	tests := map[Format]string{
		FormatTable:    "- only a note\n",
		FormatMarkdown: "- only a note\n",
		FormatCSV:      "",
		FormatJSON:     "{\n  \"title\": \"\",\n  \"columns\": [],\n  \"rows\": [],\n  \"notes\": [\"only a note\"]\n}\n",
	}
	for f, want := range tests {
		var buf bytes.Buffer
		if err := Render(&buf, Table{Notes: []string{"only a note"}}, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := buf.String(); got != want {
			t.Errorf("%s: got %q, want %q", f, got, want)
		}
	}
}

type failWriter struct{ after int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errDisk
	}
	w.after--
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	for _, f := range Formats() {
		if err := Render(&failWriter{}, auditTable(), f); !errors.Is(err, errDisk) {
			t.Errorf("Render %s: err = %v, want wrapped errDisk", f, err)
		}
		if err := RenderAll(&failWriter{after: 1}, []Table{auditTable(), auditTable()}, f); f != FormatJSON && !errors.Is(err, errDisk) {
			t.Errorf("RenderAll %s: err = %v, want wrapped errDisk", f, err)
		}
		if err := RenderKV(&failWriter{}, trainKV(), f); !errors.Is(err, errDisk) {
			t.Errorf("RenderKV %s: err = %v, want wrapped errDisk", f, err)
		}
	}
	// The message names the table and the format once each (it said
	// "writing table table" and `table ""` for an untitled one).
	for _, tt := range []struct {
		title, want string
	}{
		{"Records", `report: writing table "Records" as table: disk full`},
		{"", "report: writing a table as table: disk full"},
	} {
		tb := auditTable()
		tb.Title = tt.title
		if err := Render(&failWriter{}, tb, FormatTable); err == nil || err.Error() != tt.want {
			t.Errorf("Render of table %q: err = %v, want %q", tt.title, err, tt.want)
		}
	}
	if err := RenderAll(&failWriter{}, []Table{auditTable(), auditTable()}, FormatCSV); err == nil || err.Error() != "report: writing tables as csv: disk full" {
		t.Errorf("RenderAll: err = %v, want %q", err, "report: writing tables as csv: disk full")
	}
}

func BenchmarkRenderTable(b *testing.B) {
	tb := Table{Title: "bench", Columns: []Column{{Name: "model"}, {Name: "a"}, {Name: "b"}, {Name: "c"}}}
	for i := range 100 {
		tb.AddRow(Text("model-"+strconv.Itoa(i)), Float(float64(i)/7, 3), Fmt(float64(i)*1e-5, 'e', 2), Int(int64(i)))
	}
	for _, f := range Formats() {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Render(&bytes.Buffer{}, tb, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestHumanFormatsEscapeControls checks that the table and markdown formats
// never write a control or invisible character (but the line feed): text
// from a suspect's model file or server, such as its name, could otherwise
// recolour, move or reorder the auditor's terminal. CSV and JSON keep it.
func TestHumanFormatsEscapeControls(t *testing.T) {
	evil := "evil\x1b[31mRED\x1b[0m\u202eright\u200b\tx\r"
	tb := Table{Title: "Records " + evil, Columns: []Column{{Name: "id"}, {Name: "detail " + evil}},
		Rows: [][]Cell{{Text("a"), Text("model " + evil)}}, Notes: []string{"note " + evil}}
	for _, f := range []Format{FormatTable, FormatMarkdown} {
		var buf bytes.Buffer
		if err := Render(&buf, tb, f); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if i := strings.IndexFunc(out, func(r rune) bool {
			return r != '\n' && (unicode.IsControl(r) || unicode.In(r, unicode.Cf))
		}); i >= 0 {
			t.Errorf("%s: raw %q at byte %d:\n%q", f, []rune(out[i:])[0], i, out)
		}
		// Markdown escapes the escapes' backslashes but in the notes.
		if n := strings.Count(out, `\x1b[31mRED`) + strings.Count(out, `\\x1b\[31mRED`); n != 4 {
			t.Errorf("%s: the escape shown %d times, want 4 (title, header, cell, note):\n%s", f, n, out)
		}
		if !strings.Contains(out, `\u202eright\u200b`) && !strings.Contains(out, `\\u202eright\\u200b`) {
			t.Errorf("%s: invisible characters not shown as escapes:\n%s", f, out)
		}
	}
	var buf bytes.Buffer
	if err := Render(&buf, tb, FormatCSV); err != nil {
		t.Fatal(err)
	}
	if recs, err := csv.NewReader(&buf).ReadAll(); err != nil || len(recs) != 2 || recs[1][1] != "model "+strings.TrimSuffix(evil, "\r")+" " {
		t.Errorf("csv: %q, %v; want the text as it is but for the line break", recs, err)
	}
}

// TestTableTitleOneLine: a line break in a title or a note is a space in
// the table format, as in the others (a name holding one printed a line
// that looked like lineage's own).
func TestTableTitleOneLine(t *testing.T) {
	tb := Table{Title: "References in x\nlineage: OK.db", Columns: []Column{{Name: "a"}}, Rows: [][]Cell{{Int(1)}},
		Notes: []string{"model stu\ndent"}}
	var b strings.Builder
	if err := Render(&b, tb, FormatTable); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if lines[0] != "References in x lineage: OK.db" || !strings.Contains(b.String(), "- model stu dent\n") {
		t.Errorf("table format:\n%s\nwant the title and the note on one line each", b.String())
	}
}

// TestTableCellOneLine: a line break in a cell (a model's name from its
// file) is shown as \n in the table format, each row on one line: it
// broke the cell, and what followed it was drawn as a line of its own,
// the other columns blank, reading as a row of the table.
func TestTableCellOneLine(t *testing.T) {
	tb := Table{Columns: []Column{{Name: "type"}, {Name: "detail"}},
		Rows: [][]Cell{{Text("fingerprint"), Text("model evil\n| fingerprint | forged |")}, {Text("audit"), Text("x")}}}
	// Lines of cells: the header and two rows, and markdown's alignment row.
	for f, want := range map[Format]int{FormatTable: 3, FormatMarkdown: 4} {
		var b strings.Builder
		if err := Render(&b, tb, f); err != nil {
			t.Fatal(err)
		}
		rows := 0
		for l := range strings.Lines(b.String()) {
			if strings.HasPrefix(l, "|") {
				rows++
			}
		}
		if rows != want {
			t.Errorf("%s: %d lines of cells, want %d (one a row):\n%s", f, rows, want, b.String())
		}
		if f == FormatTable && !strings.Contains(b.String(), `| model evil\n| fingerprint | forged | |`) {
			t.Errorf("%s: the line break is not shown as \\n in its row:\n%s", f, b.String())
		}
	}
}

// TestTableNotUTF8: a path that is not UTF-8 (an exec: model or a .lnm
// under a directory with byte \xff) is shown with \xNN escapes in the
// table and markdown formats, each line as wide as the others in the
// table's; the raw byte was written, which a terminal shows as U+FFFD
// (or not at all), drawing the row out of line.
func TestTableNotUTF8(t *testing.T) {
	kv := KV{Title: "Fingerprint ex"}
	kv.Add("model", Text("exec:/bin/sh /tmp/d\xff/m.sh"))
	kv.Add("source", Text(`exec:/bin/sh "/tmp/d\xff/m.sh"`))
	// Markdown escapes the backslash, which it shows as one.
	for f, want := range map[Format]string{FormatTable: `exec:/bin/sh /tmp/d\xff/m.sh `, FormatMarkdown: `exec:/bin/sh /tmp/d\\xff/m.sh `} {
		var b strings.Builder
		if err := RenderKV(&b, kv, f); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !utf8.ValidString(out) || !strings.Contains(out, want) {
			t.Errorf("%s: want valid UTF-8 showing the byte as \\xff:\n%q", f, out)
		}
		if f != FormatTable {
			continue
		}
		width := -1
		for l := range strings.Lines(out) {
			if !strings.HasPrefix(l, "|") && !strings.HasPrefix(l, "+") {
				continue
			}
			if n := utf8.RuneCountInString(l); width < 0 {
				width = n
			} else if n != width {
				t.Errorf("%s: line %q is %d runes wide, want %d:\n%s", f, l, n, width, out)
			}
		}
	}
}
