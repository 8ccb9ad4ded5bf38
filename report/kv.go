package report

import (
	"fmt"
	"io"
)

// Pair is one key/value line of a [KV] summary.
type Pair struct {
	Key   string
	Value Cell
}

// KV is an ordered key/value summary of a single result (for example a
// training run). The zero KV is an empty summary; pairs render in the order
// they were added.
type KV struct {
	Title string
	Pairs []Pair
	Notes []string
}

// Add appends a pair and returns kv for chaining.
func (kv *KV) Add(key string, v Cell) *KV {
	kv.Pairs = append(kv.Pairs, Pair{key, v})
	return kv
}

// Table returns kv as a two-column table ("key", "value") with the same title
// and notes. The value column is left-aligned unless every value is a number.
func (kv *KV) Table() Table {
	t := Table{
		Title:   kv.Title,
		Columns: []Column{{Name: "key", Align: AlignLeft}, {Name: "value"}},
		Rows:    make([][]Cell, len(kv.Pairs)),
		Notes:   kv.Notes,
	}
	for i, p := range kv.Pairs {
		t.Rows[i] = []Cell{Text(p.Key), p.Value}
	}
	return t
}

// RenderKV writes kv to w in format f: as the two-column [KV.Table] for the
// table, markdown and CSV formats, and as one flat JSON object {key: value}
// with keys in kv's order for JSON (title and notes are not part of the JSON
// object). Duplicate keys are an error wrapping [ErrInvalidTable] in every
// format, so the output means the same whatever the format.
func RenderKV(w io.Writer, kv KV, f Format) error {
	if err := f.check(); err != nil {
		return err
	}
	seen := make(map[string]bool, len(kv.Pairs))
	for _, p := range kv.Pairs {
		if seen[p.Key] {
			return fmt.Errorf("report: summary %q: duplicate key %q: %w", kv.Title, p.Key, ErrInvalidTable)
		}
		seen[p.Key] = true
	}
	if f != FormatJSON {
		return Render(w, kv.Table(), f)
	}
	b := []byte("{")
	for i, p := range kv.Pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  "...)
		b = appendJSONString(b, p.Key)
		b = append(b, ": "...)
		b = p.Value.appendJSON(b)
	}
	if len(kv.Pairs) > 0 {
		b = append(b, '\n')
	}
	b = append(b, "}\n"...)
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("report: writing json summary %q: %w", kv.Title, err)
	}
	return nil
}
