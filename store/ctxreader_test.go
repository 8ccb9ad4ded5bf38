package store

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// TestImportStopsOnCancel checks that an import reading from a pipe that
// delivers nothing (db import - with a stalled producer) returns when its
// context is cancelled, instead of waiting for end of input with the
// database locked, and stores nothing.
//
// Cancelled in the middle of a line, it is the cancellation too, not a
// malformed record: Ctrl-C during `db import` said "import line 57:
// malformed record: unexpected end of JSON input", exit 1.
func TestImportStopsOnCancel(t *testing.T) {
	for _, sent := range []string{
		`{"type":"store","format":"lineage-store","schema":1}` + "\n",                              // a header, then nothing
		`{"type":"store","format":"lineage-store","schema":1}` + "\n" + `{"type":"suite","id":"ab`, // half a record
	} {
		testImportStopsOnCancel(t, sent)
	}
}

func testImportStopsOnCancel(t *testing.T, sent string) {
	s := openTest(t, tempPath(t), false)
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		pw.Write([]byte(sent))
	}()
	c, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	errc := make(chan error, 1)
	go func() { errc <- s.Import(c, pr) }()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Import = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Import still blocked on its input 5 s after its context was cancelled")
	}
	if es, err := s.List(ctx, ""); err != nil || len(es) != 0 {
		t.Errorf("after a cancelled import: %d records, %v; want none", len(es), err)
	}
}
