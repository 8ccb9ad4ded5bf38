package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// setImportBatch sets importBatch to n until the function it returns is
// called.
func setImportBatch(n int) func() {
	old := importBatch
	importBatch = n
	return func() { importBatch = old }
}

// TestImportStream checks ImportStream into a new store: its export is
// the one imported, byte for byte, whatever the transactions' size; the
// records are written while the stream is read (a store of the records
// read so far, before the end line); and the content check sees the
// enrolments and audits, its error failing the import with nothing left.
func TestImportStream(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var first bytes.Buffer
	if err := a.Export(ctx, &first); err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 1 << 10, 32 << 20} {
		t.Run(fmt.Sprint(batch), func(t *testing.T) {
			defer setImportBatch(batch)()
			path := tempPath(t)
			enrolments := 0
			err := Create(ctx, path, func(s *Store) error {
				return s.ImportStream(ctx, bytes.NewReader(first.Bytes()), func(x *Records) error {
					enrolments = len(x.byType[TypeEnrolment])
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if enrolments != 1 {
				t.Errorf("the content check saw %d enrolments, want 1", enrolments)
			}
			b := openTest(t, path, true)
			var second bytes.Buffer
			if err := b.Export(ctx, &second); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Errorf("re-export differs:\n%s\nvs\n%s", first.String(), second.String())
			}
			if r, err := b.Verify(ctx); err != nil || !r.OK() {
				t.Errorf("Verify after import = %+v, %v", r, err)
			}
		})
	}

	// Written as read: the fingerprints are in the store before the
	// stream's end line is.
	defer setImportBatch(1)()
	lines := strings.SplitAfter(first.String(), "\n")
	body := strings.Join(lines[:len(lines)-2], "")
	pr, pw := io.Pipe()
	seen := make(chan int, 1)
	err := Create(ctx, tempPath(t), func(s *Store) error {
		go func() {
			pw.Write([]byte(body))
			n := 0
			// The records read are being written: wait for them, and
			// only then give the end line.
			for deadline := time.Now().Add(10 * time.Second); n == 0 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				s.View(ctx, func(tx *Tx) error {
					n = tx.tx.Bucket(bucketFPs).Stats().KeyN
					return nil
				})
			}
			seen <- n
			pw.Write([]byte(lines[len(lines)-2]))
			pw.Close()
		}()
		return s.ImportStream(ctx, pr, func(*Records) error { return errors.New("refused") })
	})
	if err == nil || err.Error() != "refused" {
		t.Errorf("ImportStream = %v, want the content check's error", err)
	}
	if n := <-seen; n == 0 {
		t.Error("no fingerprint was written before the end of the stream")
	}
}
