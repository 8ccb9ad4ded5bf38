package store

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

func FuzzDecodeSuite(f *testing.F) {
	for _, n := range []int{0, 1, 5} {
		b, err := EncodeSuite(newTestSuite("s", n, 3, uint64(n)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("LNST\x01\x00\x00\x00\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSuite(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		b1, err := EncodeSuite(s)
		if err != nil {
			t.Fatalf("decoded suite does not encode: %v", err)
		}
		s2, err := DecodeSuite(b1)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if s2.X.Rows != s.X.Rows || !slices.Equal(bitsOf(s2.X.Data), bitsOf(s.X.Data)) {
			t.Fatal("X changed in round trip")
		}
		if b2, _ := EncodeSuite(s2); !bytes.Equal(b1, b2) {
			t.Fatal("encoding is not a fixpoint")
		}
	})
}

func bitsOf(x []float32) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = float32bits(v)
	}
	return out
}

// FuzzImport reads arbitrary bytes as an export. Whatever ReadExport
// accepts and a fresh store imports must export to a stream that imports
// into another fresh store and exports to the same bytes again: import is
// exact on what it accepts, and export is canonical. The fresh stores come
// from emptyStores (see there). Fuzz it with a short -fuzzminimizetime
// (3s): Go's minimiser tries every cut of an input it keeps, millions of
// candidates for a 4 KB export, so each new input took the default minute
// and a 60 s run made 4 executions (39,644 with 3s).
func FuzzImport(f *testing.F) {
	fresh := emptyStores(f)
	addExportSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ReadExport(ctx, bytes.NewReader(data))
		if err != nil {
			return
		}
		a := fresh(t)
		if err := a.ImportRecords(ctx, recs); err != nil {
			return
		}
		var first bytes.Buffer
		if err := a.Export(ctx, &first); err != nil {
			t.Fatalf("export of an imported store: %v", err)
		}
		b := fresh(t)
		if err := b.Import(ctx, bytes.NewReader(first.Bytes())); err != nil {
			t.Fatalf("re-import of an export: %v", err)
		}
		var second bytes.Buffer
		if err := b.Export(ctx, &second); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatal("export → import → export changed the bytes")
		}
	})
}

// addExportSeeds adds the seeds of the fuzz targets that read an export:
// a populated store's whole export, its first three lines, an empty
// export, an export of lineage before fingerprint hash rule 2, one
// holding a remote fingerprint under hash rule 3 (coveredFP) and one a
// model file's under it.
func addExportSeeds(f *testing.F) {
	f.Helper()
	old, err := os.ReadFile(ruleOneExport)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(old)
	fp, _ := coveredFP(f, "x", 1)
	data, err := fingerprint.Encode(fp)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(suiteFPExport(f, newTestSuite("s", 5, 3, 1), "x", data)))
	hfp, _ := headerFP(f, "y", 2) // a model file's, under hash rule 3
	if data, err = fingerprint.Encode(hfp); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(suiteFPExport(f, newTestSuite("s", 5, 3, 1), "y", data)))
	s := openTest(f, tempPath(f), false)
	populate(f, s)
	var buf bytes.Buffer
	if err := s.Export(ctx, &buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	lines := bytes.SplitAfter(buf.Bytes(), []byte("\n"))
	f.Add(bytes.Join(lines[:3], nil))
	f.Add([]byte(`{"type":"store","format":"lineage-store","schema":1}` + "\n" + `{"type":"end","count":0}` + "\n"))
}

// FuzzImportStream reads arbitrary bytes as an export with ImportStream,
// which db import uses, and with Import, into fresh stores: ImportStream
// must refuse what Import refuses, accept what it accepts, and leave a
// store that exports to the same bytes. Fuzz it with -fuzzminimizetime 3s
// (see FuzzImport).
func FuzzImportStream(f *testing.F) {
	fresh := emptyStores(f)
	addExportSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		a := fresh(t)
		ierr := a.Import(ctx, bytes.NewReader(data))
		b := fresh(t)
		serr := b.ImportStream(ctx, bytes.NewReader(data), nil)
		if (ierr == nil) != (serr == nil) {
			t.Fatalf("Import: %v; ImportStream: %v", ierr, serr)
		}
		if ierr != nil {
			return
		}
		var ea, eb bytes.Buffer
		if err := a.Export(ctx, &ea); err != nil {
			t.Fatal(err)
		}
		if err := b.Export(ctx, &eb); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ea.Bytes(), eb.Bytes()) {
			t.Fatalf("Import and ImportStream stored other records:\n%s\n%s", ea.Bytes(), eb.Bytes())
		}
	})
}

// emptyStores returns a function that opens a fresh, empty store for t
// cheaply: a copy of one store Open created (the bytes of any store just
// created), opened with bbolt's syncs off. Whether a commit reaches the
// disk before the next begins changes nothing a fuzz target reads back;
// creating and syncing two stores for each input it accepts was most of
// FuzzImport's time (the whole export: 22.7 ms an input, 2.7 ms of it
// CPU; 2 ms with emptyStores).
func emptyStores(f *testing.F) func(t *testing.T) *Store {
	f.Helper()
	path := tempPath(f)
	openTest(f, path, false).Close()
	empty, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return func(t *testing.T) *Store {
		t.Helper()
		p := tempPath(t)
		if err := os.WriteFile(p, empty, 0o600); err != nil {
			t.Fatal(err)
		}
		s := openTest(t, p, false)
		s.db.NoSync, s.db.NoGrowSync = true, true
		return s
	}
}

// FuzzJoinNames: a list JoinNames writes with "," reads back, as a CSV
// record, as the names it was made of (audit --against reads it so).
func FuzzJoinNames(f *testing.F) {
	f.Add("a", "b")
	f.Add("x,y", `q"t`)
	f.Add(`"`, ",")
	f.Fuzz(func(t *testing.T, a, b string) {
		if CheckNewName("teacher", a) != nil || CheckNewName("teacher", b) != nil {
			return
		}
		s := JoinNames([]string{a, b}, ",")
		recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
		if err != nil || len(recs) != 1 || !slices.Equal(recs[0], []string{a, b}) {
			t.Errorf("JoinNames(%q, %q) = %q, read back as %q (%v)", a, b, s, recs, err)
		}
	})
}
