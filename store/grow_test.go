package store

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestGrowMapsOnce checks Options.Grow: a writer that expects the file to
// grow by an import's bytes commits the import without bbolt mapping the
// file again (which copies every value the transaction put to the heap,
// once per doubling: bbolt counts the copies as node dereferences),
// imports the same records as one that did not say, and leaves the file
// no longer than it did.
func TestGrowMapsOnce(t *testing.T) {
	if mmapSize(os.DevNull, 1) == 0 {
		t.Skip("Grow is off here (mmapSize)")
	}
	su := newTestSuite("grow", 50, 4, 1)
	src := openTest(t, tempPath(t), false)
	if err := src.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		for i := range 200 {
			if err := tx.PutFingerprint(newTestFP(fmt.Sprint("fp", i), su, uint64(i)), PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var export bytes.Buffer
	if err := src.Export(ctx, &export); err != nil {
		t.Fatal(err)
	}
	var (
		exports [2]bytes.Buffer
		sizes   [2]int64
	)
	for i, grow := range []int64{0, 2 * int64(export.Len())} {
		path := tempPath(t)
		s, err := Open(path, Options{Grow: grow, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		st := s.db.Stats()
		before := st.TxStats.GetNodeDeref()
		if err := s.Import(ctx, bytes.NewReader(export.Bytes())); err != nil {
			t.Fatal(err)
		}
		st = s.db.Stats()
		derefs := st.TxStats.GetNodeDeref() - before
		if (grow > 0) != (derefs == 0) {
			t.Errorf("Grow %d: %d node dereferences (the file mapped again while committing); want them only without Grow", grow, derefs)
		}
		if err := s.Export(ctx, &exports[i]); err != nil {
			t.Fatal(err)
		}
		st2, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes[i] = st2.Size()
	}
	if !bytes.Equal(exports[0].Bytes(), exports[1].Bytes()) || !bytes.Equal(exports[0].Bytes(), export.Bytes()) {
		t.Error("the imports with and without Grow export differently")
	}
	// bbolt makes a file whose map is at most its AllocSize (16 MB) as
	// long as the map when a commit grows it: Grow's map left the file
	// the guess's length, not the data's (with 200 fingerprints, a 262 KB
	// export: 1 MB with Grow, 512 KB without).
	if sizes[1] > sizes[0] {
		t.Errorf("after the import the file is %d bytes long with Grow, %d without; want no longer", sizes[1], sizes[0])
	}
}

// TestGrowKeepsFileSize checks that Grow maps more than the file without
// making the file longer: a guess of 64 MB leaves a new store as long as
// one opened without it.
func TestGrowKeepsFileSize(t *testing.T) {
	var sizes [2]int64
	for i, grow := range []int64{0, 64 << 20} {
		path := tempPath(t)
		s, err := Open(path, Options{Grow: grow, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sizes[i] = st.Size()
	}
	if sizes[1] != sizes[0] {
		t.Errorf("a store opened with Grow 64 MB is %d bytes long, without it %d; want the same", sizes[1], sizes[0])
	}
}
