package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"gonum.org/v1/gonum/blas/blas32"
)

// sparseBomb returns a top-1 fingerprint encoding (sparse, 16-bit
// indices) of rows×cols outputs on suite, every row the same, with a hash
// that matches: a few bytes a row that decode to rows·cols float32s.
func sparseBomb(t *testing.T, id, suite string, rows, cols int) []byte {
	t.Helper()
	row := make([]float32, cols)
	row[0] = 1
	// Stride 0 repeats the one row: ComputeHash reads row i at i·Stride.
	fp := fingerprint.Fingerprint{ID: id, Suite: suite, TopK: 1, P: blas32.General{Rows: rows, Cols: cols, Stride: 0, Data: row}}
	meta, err := json.Marshal(map[string]any{"id": id, "suite": suite, "model": map[string]any{}, "top_k": 1,
		"queries": rows, "elapsed": 0, "hash": fp.ComputeHash(), "rows": rows, "cols": cols})
	if err != nil {
		t.Fatal(err)
	}
	out := []byte(fingerprint.Magic)
	out = binary.LittleEndian.AppendUint16(out, fingerprint.Version)
	out = append(out, 1, 0) // sparse, 16-bit indices; reserved
	out = binary.LittleEndian.AppendUint32(out, uint32(len(meta)))
	out = append(out, meta...)
	for range rows {
		out = binary.LittleEndian.AppendUint16(out, 0)
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(1))
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(0))
	}
	return out
}

// TestImportSparseBomb checks that an export line of 14 KB holding a
// sparse fingerprint that declares 1024×65536 outputs (256 MiB of
// float32) is refused for its shape without the matrix being made:
// ReadExport decoded it whole to check its hash (db import of a 55 KB
// file declaring 4096×65536 took 1 GB).
func TestImportSparseBomb(t *testing.T) {
	su := newTestSuite("s", 5, 3, 1)
	suBytes, err := EncodeSuite(su)
	if err != nil {
		t.Fatal(err)
	}
	const rows, cols = 1024, 1 << 16
	bomb := sparseBomb(t, "x", su.Hash, rows, cols)
	if _, err := fingerprint.VerifyEncoded(bomb); err != nil {
		t.Fatalf("the crafted fingerprint is not valid: %v", err)
	}
	var b strings.Builder
	for _, l := range []line{
		{Type: typeHeader, Format: formatName, Schema: SchemaVersion},
		{Type: TypeSuite, ID: su.Hash, Data: suBytes},
		{Type: TypeFingerprint, ID: "x", Data: bomb},
	} {
		j, _ := json.Marshal(l)
		b.Write(append(j, '\n'))
	}
	b.WriteString(`{"type":"end","count":2}` + "\n")
	s := openTest(t, tempPath(t), false)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err = s.Import(ctx, strings.NewReader(b.String()))
	runtime.ReadMemStats(&after)
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Line != 3 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "1024×65536 outputs, but suite") {
		t.Errorf("Import = %v, want an ImportError at line 3 wrapping ErrCorrupt that names the shapes", err)
	}
	const limit = 64 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("Import of a %d-byte export allocated %d MiB, want at most %d MiB", b.Len(), got>>20, limit>>20)
	}
}
