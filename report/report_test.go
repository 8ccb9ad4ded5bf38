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
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
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

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		ok   bool
	}{
		{"table", FormatTable, true},
		{" Markdown ", FormatMarkdown, true},
		{"md", FormatMarkdown, true},
		{"CSV", FormatCSV, true},
		{"json", FormatJSON, true},
		{"", "", false},
		{"yaml", "", false},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("ParseFormat(%q) error %v does not wrap ErrUnknownFormat", tt.in, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "table, markdown, csv, json") {
				t.Errorf("ParseFormat(%q) error %q does not list the valid formats", tt.in, msg)
			}
		}
	}
	var f Format
	if err := f.Set("json"); err != nil || f != FormatJSON || f.Type() != "format" {
		t.Errorf("Set(json): f=%q err=%v", f, err)
	}
	if err := Render(&bytes.Buffer{}, Table{}, Format("xml")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Render with bad format: err = %v, want ErrUnknownFormat", err)
	}
}

func TestParseImageFormat(t *testing.T) {
	for in, want := range map[string]ImageFormat{"png": ImagePNG, ".SVG": ImageSVG, "pdf": "", "": ""} {
		got, err := ParseImageFormat(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ParseImageFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestCellString(t *testing.T) {
	tests := []struct {
		c    Cell
		want string
	}{
		{Cell{}, ""},
		{Text("x"), "x"},
		{Int(-42), "-42"},
		{Float(3.14159, 2), "3.14"},
		{Float(-0.0001, 3), "0.000"},
		{Float(-0.001, 3), "-0.001"},
		{Fmt(-1e-9, 'e', 0), "-1e-09"},
		{Fmt(math.Copysign(0, -1), 'e', 1), "0.0e+00"},
		{Float(1.0/3, -1), "0.3333333333333333"},
		{Fmt(math.NaN(), 'g', 3), "NaN"},
		{Float(math.Inf(-1), 2), "-Inf"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
	if v, ok := Int(7).Number(); !ok || v != 7 {
		t.Errorf("Int(7).Number() = %v, %v", v, ok)
	}
	if _, ok := Text("7").Number(); ok {
		t.Errorf("Text(7).Number() reported a number")
	}
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("Fmt with verb 'x' did not panic")
		}
	}()
	Fmt(1, 'x', 2)
}

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

func TestMeasured(t *testing.T) {
	if c := Measured(math.NaN(), 2); !c.IsEmpty() {
		t.Errorf("Measured(NaN) = %q, want an empty cell", c.String())
	}
	if got := Measured(1.234, 2).String(); got != "1.23" {
		t.Errorf("Measured(1.234, 2) = %q, want 1.23", got)
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
