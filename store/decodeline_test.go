package store

import (
	"strings"
	"testing"
)

// TestDecodeLineUnknownFieldsNamedInOrder: of a line's unknown fields the
// error names the first by name, every time. It named whichever Go's map
// iteration met first, so the same bad export gave another error line from
// one import to the next.
func TestDecodeLineUnknownFieldsNamedInOrder(t *testing.T) {
	text := []byte(`{"type":"suite_name","zeta":1,"id":"x","mu":2,"suite":"y","alpha":3,"omega":4,"kappa":5}`)
	const want = `json: unknown field "alpha"`
	for i := range 50 {
		_, err := decodeLine(text)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("decode %d: error %v, want %s", i+1, err, want)
		}
	}
}
