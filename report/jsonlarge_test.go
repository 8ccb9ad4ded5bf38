package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// TestJSONLargerThanFlush renders tables whose JSON is several times
// jsonFlushAt, the size at which the writer hands what it holds to the
// output and starts again, alone and among others: the output must be one
// valid JSON document holding every row once. A writer that kept what it
// had handed over wrote the first rows twice; every other test's tables
// are smaller than one flush (found by mutating the flush by hand).
func TestJSONLargerThanFlush(t *testing.T) {
	const rows = 4000 // about 4 jsonFlushAt of JSON
	big := Table{Title: "many", Columns: []Column{{Name: "model"}, {Name: "value"}},
		More: RowSource{N: rows, Row: func(i int, dst []Cell) []Cell {
			return append(dst[:0], Text(fmt.Sprintf("model-%05d-with-a-long-name", i)), Float(float64(i)/7, 4))
		}}}
	type table struct {
		Rows []map[string]any `json:"rows"`
	}
	check := func(t *testing.T, tabs []table, out []byte) {
		t.Helper()
		if len(out) < 3*jsonFlushAt {
			t.Fatalf("%d bytes of JSON, want more than 3 flushes (%d)", len(out), 3*jsonFlushAt)
		}
		for _, tab := range tabs {
			if len(tab.Rows) != rows {
				t.Fatalf("%d rows, want %d", len(tab.Rows), rows)
			}
			for i, r := range tab.Rows {
				if want := fmt.Sprintf("model-%05d-with-a-long-name", i); r["model"] != want {
					t.Fatalf("row %d: model %v, want %s", i, r["model"], want)
				}
			}
		}
	}
	t.Run("Render", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Render(&buf, big, FormatJSON); err != nil {
			t.Fatal(err)
		}
		var tab table
		if err := json.Unmarshal(buf.Bytes(), &tab); err != nil {
			t.Fatalf("output is not one JSON document: %v", err)
		}
		check(t, []table{tab}, buf.Bytes())
	})
	t.Run("RenderAll", func(t *testing.T) {
		var buf bytes.Buffer
		if err := RenderAll(&buf, []Table{big, big}, FormatJSON); err != nil {
			t.Fatal(err)
		}
		var tabs []table
		if err := json.Unmarshal(buf.Bytes(), &tabs); err != nil {
			t.Fatalf("output is not one JSON document: %v", err)
		}
		if len(tabs) != 2 {
			t.Fatalf("%d tables, want 2", len(tabs))
		}
		check(t, tabs, buf.Bytes())
	})
}
