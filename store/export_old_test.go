package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestImportWithoutEndLine: an export of lineage before 3 December 2026,
// which wrote no end line, is refused saying which line makes it
// importable, and imports once that line is added; an export holding no
// record is only called empty or truncated.
func TestImportWithoutEndLine(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var buf bytes.Buffer
	if err := a.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	lines = lines[:len(lines)-1]
	records := len(lines) - 2 // not the header and end lines
	old := strings.Join(lines[:len(lines)-1], "")
	endLine := fmt.Sprintf(`{"type":"end","count":%d}`, records)

	tests := []struct {
		name  string
		input string
		want  []string // in the error; none: imported
		avoid string   // not in the error
	}{
		{"older export", old, []string{"empty or truncated", "before 3 December 2026", endLine}, ""},
		{"header only", lines[0], []string{"empty or truncated"}, "December"},
		{"older export with the line added", old + endLine + "\n", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openTest(t, tempPath(t), false)
			err := b.Import(ctx, strings.NewReader(tt.input))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Import: got %v, want it imported", err)
				}
				return
			}
			var ie *ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("Import: got %v, want an ImportError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Import: got %q, want it to contain %q", err, w)
				}
			}
			if tt.avoid != "" && strings.Contains(err.Error(), tt.avoid) {
				t.Errorf("Import: got %q, want no %q", err, tt.avoid)
			}
		})
	}
}
