package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzRender checks that any text and number survive the machine-readable
// formats: the JSON is valid and decodes to the same values, and the CSV
// re-parses to the same text and the same float64.
func FuzzRender(f *testing.F) {
	f.Add("title", "cell", 0.5, 3)
	f.Add("", "a|b\n\"c\"", math.Inf(-1), -1)
	f.Add("ü\x00", "<&>\\", math.Copysign(0, -1), 20)
	f.Fuzz(func(t *testing.T, title, text string, v float64, prec int) {
		prec = prec%20 - 1 // -1..18: keep formatting cheap
		if text == "v" {
			return // would duplicate the second column's name
		}
		tb := Table{
			Title:   title,
			Columns: []Column{{Name: text}, {Name: "v", Unit: text}},
			Rows:    [][]Cell{{Text(text), Float(v, prec)}},
			Notes:   []string{text},
		}
		for _, format := range Formats() {
			if err := Render(&bytes.Buffer{}, tb, format); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
		var js bytes.Buffer
		if err := Render(&js, tb, FormatJSON); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Title string
			Rows  []map[string]any
		}
		if err := json.Unmarshal(js.Bytes(), &got); err != nil {
			t.Fatalf("invalid JSON: %v\n%s", err, js.Bytes())
		}
		if !utf8Valid(title) || !utf8Valid(text) {
			return // encoding/json replaces invalid UTF-8; nothing to compare
		}
		if got.Title != title || got.Rows[0][text] != text {
			t.Errorf("JSON round trip: title %q text %v, want %q %q", got.Title, got.Rows[0][text], title, text)
		}
		if finite := !math.IsNaN(v) && !math.IsInf(v, 0); finite && got.Rows[0]["v"] != v {
			t.Errorf("JSON number %v, want %v", got.Rows[0]["v"], v)
		}
		var cs bytes.Buffer
		if err := Render(&cs, tb, FormatCSV); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&cs).ReadAll()
		if err != nil {
			t.Fatalf("CSV does not re-parse: %v\n%q", err, cs.String())
		}
		if len(recs) != 2 {
			t.Fatalf("CSV has %d records, want 2", len(recs))
		}
		// Text is on one line, and guarded against spreadsheet formulas.
		if want := csvText(text); recs[1][0] != want {
			t.Errorf("CSV text %q, want %q", recs[1][0], want)
		}
		back, err := strconv.ParseFloat(recs[1][1], 64)
		if math.IsNaN(v) {
			if !math.IsNaN(back) {
				t.Errorf("CSV number %q -> %v, want NaN", recs[1][1], back)
			}
		} else if err != nil || back != v || math.Signbit(back) != math.Signbit(v) {
			t.Errorf("CSV number %q -> %v, %v; want %v", recs[1][1], back, err, v)
		}
	})
}

func utf8Valid(s string) bool { return utf8.ValidString(s) }

// csvText is what the CSV format writes for the text s: line breaks
// (\r\n, \n, \r) as spaces, then an apostrophe before a text of two or
// more bytes that starts with = + - @ or a tab, and before any that starts
// with an apostrophe.
func csvText(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	if strings.HasPrefix(s, "'") || len(s) > 1 && strings.ContainsAny(s[:1], "=+-@\t") {
		s = "'" + s
	}
	return s
}
