package store

import (
	"bytes"
	"testing"
)

// TestHolds checks that Holds is true only for a store holding exactly an
// export's records: the store exported, a copy imported from it, but not
// an empty store, one with a record more, fewer, or one record changed.
func TestHolds(t *testing.T) {
	src := openTest(t, tempPath(t), false)
	populate(t, src)
	var exp bytes.Buffer
	if err := src.Export(ctx, &exp); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadExport(ctx, bytes.NewReader(exp.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	copyOf := func(edit func(tx *Tx) error) *Store {
		s := openTest(t, tempPath(t), false)
		if err := s.ImportRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			if err := s.Update(ctx, edit); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	for _, tt := range []struct {
		name string
		s    *Store
		want bool
	}{
		{"the exported store", src, true},
		{"an imported copy", copyOf(nil), true},
		{"an empty store", openTest(t, tempPath(t), false), false},
		{"an answer batch more", copyOf(func(tx *Tx) error { return tx.PutAnswers("remote-1", 3, []byte{3}) }), false},
		{"an answer batch changed", copyOf(func(tx *Tx) error { return tx.PutAnswers("remote-1", 2, []byte{9}) }), false},
		{"an audit fewer", copyOf(func(tx *Tx) error { return tx.tx.Bucket(bucketAudits).Delete([]byte("case-1")) }), false},
		{"a suite name changed", copyOf(func(tx *Tx) error { return tx.tx.Bucket(bucketNames).Put([]byte("acme"), []byte("other")) }), false},
	} {
		got, err := tt.s.Holds(ctx, recs)
		if err != nil || got != tt.want {
			t.Errorf("%s: Holds = %v, %v; want %v, nil", tt.name, got, err, tt.want)
		}
	}
}
