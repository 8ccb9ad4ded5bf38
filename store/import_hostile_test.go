package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
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
	const rows, cols = 1024, 1 << 16
	bomb := sparseBomb(t, "x", su.Hash, rows, cols)
	if _, err := fingerprint.VerifyEncoded(bomb); err != nil {
		t.Fatalf("the crafted fingerprint is not valid: %v", err)
	}
	b := suiteFPExport(t, su, "x", bomb)
	s := openTest(t, tempPath(t), false)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := s.Import(ctx, strings.NewReader(b))
	runtime.ReadMemStats(&after)
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Line != 3 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "1024×65536 outputs, but suite") {
		t.Errorf("Import = %v, want an ImportError at line 3 wrapping ErrCorrupt that names the shapes", err)
	}
	const limit = 64 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("Import of a %d-byte export allocated %d MiB, want at most %d MiB", len(b), got>>20, limit>>20)
	}
}

// TestImportNotDistributions checks that a fingerprint whose rows are not
// probability distributions, under a hash recomputed to fit, is refused
// by import naming the row, by PutFingerprint, and when read from a store
// that holds it: such a record moved an audit from DERIVED to
// INCONCLUSIVE without a word.
func TestImportNotDistributions(t *testing.T) {
	su := newTestSuite("s", 5, 3, 1)
	fp := newTestFP("x", su, 1)
	for j := range fp.P.Cols {
		fp.P.Data[2*fp.P.Stride+j] = float32(math.Pow(float64(fp.P.Data[2*fp.P.Stride+j]), 0.3))
	}
	fp.Hash = fp.ComputeHash()
	fpBytes, err := fingerprint.Encode(fp)
	if err != nil {
		t.Fatal(err)
	}
	b := suiteFPExport(t, su, "x", fpBytes)
	s := openTest(t, tempPath(t), false)
	err = s.Import(ctx, strings.NewReader(b))
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Line != 3 || !errors.Is(err, fingerprint.ErrRows) || !strings.Contains(err.Error(), "row 2: row sums to") {
		t.Errorf("Import = %v, want an ImportError at line 3 wrapping ErrRows that names row 2", err)
	}
	err = s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		return tx.PutFingerprint(fp, PutOptions{})
	})
	if !errors.Is(err, fingerprint.ErrRows) {
		t.Errorf("PutFingerprint = %v, want ErrRows", err)
	}
	// Stored as a store written outside lineage would hold it, with its
	// suite (the update above was rolled back).
	err = s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		return tx.tx.Bucket(bucketFPs).Put([]byte("x"), fpBytes)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		_, err := tx.Fingerprint("x")
		return err
	})
	if !errors.Is(err, ErrCorrupt) || !errors.Is(err, fingerprint.ErrRows) {
		t.Errorf("Fingerprint = %v, want ErrCorrupt and ErrRows", err)
	}
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() {
		t.Error("Verify found nothing wrong with a fingerprint whose rows are not distributions")
	}
}

// TestStoredSparseBomb checks a store written outside lineage holding a
// sparse fingerprint of 14 KB that declares 1024×65536 outputs (256 MiB
// of float32; 4096×65536, 1 GiB, is allowed) on a suite of 5 probes and 3
// labels: reading it is refused for its shape, and listing it, finding
// the suites nothing uses or the users of its suite, and putting a
// fingerprint over it read its header alone. Each made the whole matrix.
func TestStoredSparseBomb(t *testing.T) {
	su := newTestSuite("s", 5, 3, 1)
	const rows, cols = 1024, 1 << 16
	bomb := sparseBomb(t, "x", su.Hash, rows, cols)
	s := openTest(t, tempPath(t), false)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		if err := tx.tx.Bucket(bucketFPs).Put([]byte("x"), bomb); err != nil {
			return err
		}
		// A bomb on a suite not stored.
		return tx.tx.Bucket(bucketFPs).Put([]byte("y"), sparseBomb(t, "y", strings.Repeat("ab", 32), rows, cols))
	})
	if err != nil {
		t.Fatal(err)
	}
	const limit = 64 << 20
	tests := []struct {
		name string
		run  func(tx *Tx) error
		want string // in the error; "" for none
	}{
		{"Fingerprint", func(tx *Tx) error { _, err := tx.Fingerprint("x"); return err }, `fingerprint "x": store is corrupted: 1024×65536 outputs, but suite ` + su.Hash[:12] + " has 5 probes and 3 labels"},
		{"Fingerprint of a missing suite", func(tx *Tx) error { _, err := tx.Fingerprint("y"); return err }, `fingerprint "y" was taken on suite abababababab, which is no longer stored`},
		{"list", func(tx *Tx) error { _, err := tx.list(TypeFingerprint); return err }, ""},
		{"UnusedSuites", func(tx *Tx) error { tx.UnusedSuites(); return nil }, ""},
		{"suiteUsers", func(tx *Tx) error { tx.suiteUsers(su.Hash); return nil }, ""},
		{"PutFingerprint", func(tx *Tx) error { return tx.PutFingerprint(newTestFP("x", su, 1), PutOptions{}) }, "exists"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := s.Update(ctx, tt.run)
			runtime.ReadMemStats(&after)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > limit {
				t.Errorf("allocated %d MiB, want at most %d MiB", got>>20, limit>>20)
			}
		})
	}
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(r.Problems); !strings.Contains(got, "1024×65536 outputs, but suite") || !strings.Contains(got, "suite abababababab is missing") {
		t.Errorf("Verify found %s, want both records listed", got)
	}
}
