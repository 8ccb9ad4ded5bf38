package store

// This file holds the reading of an export line by line (readExport) and
// ImportStream, which writes the records of an export into a new store as
// they are read.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// importBatch is about the bytes of records ImportStream writes in one
// transaction (a variable for tests).
var importBatch = 32 << 20

// ImportStream reads an Export stream into s as Import does, with the same
// checks and errors, but without holding the stream in memory: the suites,
// suite names, fingerprints and answers are written as they are read, in
// transactions of about importBatch bytes, and only the enrolments and
// audit records (small) are kept, to be checked by content (as
// Records.CheckContent checks them, when content is not nil) and added
// once the stream has been read whole, in a last transaction that also
// checks the references between records. Records equal to ones already
// written are skipped and a conflicting one fails, as with Import.
//
// The records are not added in one transaction: s must be a store no
// other process uses until ImportStream has succeeded, and one that is
// thrown away when it fails: the store Create makes (which leaves no file
// when its fn fails). Import holds a whole stream in memory, where this
// holds about importBatch bytes of it (a 332 MB export of 20,000
// fingerprints: 1.3 GB of memory, 0.2 GB this way).
func (s *Store) ImportStream(ctx context.Context, r io.Reader, content func(*Records) error) error {
	kept := &Records{byType: map[string][]item{}} // enrolments and audits, added last
	var refs []item                               // suite names and fingerprints written, without their data
	var batch []item
	size := 0
	flush := func() error {
		err := s.Update(ctx, func(tx *Tx) error {
			for _, it := range batch {
				if err := tx.importPut(it); err != nil {
					return &ImportError{Line: it.n, Err: err}
				}
			}
			return nil
		})
		clear(batch) // their data
		batch, size = batch[:0], 0
		return err
	}
	err := readExport(ctx, r, func(it item) error {
		switch it.l.Type {
		case TypeEnrolment, TypeAudit:
			kept.add(it)
			return nil
		case typeSuiteName, TypeFingerprint:
			ref := it
			ref.l.Data = nil
			refs = append(refs, ref)
		}
		batch = append(batch, it)
		if size += len(it.l.Data); size >= importBatch {
			return flush()
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = flush()
	}
	if err == nil && content != nil {
		err = content(kept)
	}
	if err != nil {
		return err
	}
	return s.Update(ctx, func(tx *Tx) error {
		shapes := map[string][2]int{}
		// In Import's order: suite names, fingerprints, enrolments, audits.
		for _, typ := range []string{typeSuiteName, TypeFingerprint} {
			for _, it := range refs {
				if it.l.Type != typ {
					continue
				}
				if err := tx.importRefs(it, shapes); err != nil {
					return &ImportError{Line: it.n, Err: err}
				}
			}
		}
		for _, typ := range []string{TypeEnrolment, TypeAudit} {
			for _, it := range kept.byType[typ] {
				if err := tx.importLine(it, shapes); err != nil {
					return &ImportError{Line: it.n, Err: err}
				}
			}
		}
		return nil
	})
}

// readExport reads an Export stream to its end, checking it as ReadExport
// does, and calls each with every record, in order, checked on its own;
// an error of each stops the reading and is returned as it is.
func readExport(ctx context.Context, r io.Reader, each func(item) error) error {
	records := 0
	br := bufio.NewReaderSize(contextReader{ctx, r}, 1<<16)
	sawHeader, end := false, 0
	n := 1
	for ; ; n++ {
		text, err := readLine(br, MaxLine)
		if errors.Is(err, errLongLine) {
			return &ImportError{Line: n, Err: err}
		}
		if err != nil && err != io.EOF {
			// A read that failed (Ctrl-C, a broken pipe) cut the line
			// short: it is not the file's fault.
			return fmt.Errorf("import: %w", err)
		}
		if n == 1 {
			// A byte-order mark, added by some editors on the way.
			text = bytes.TrimPrefix(text, []byte("\ufeff"))
		}
		if len(bytes.TrimSpace(text)) > 0 {
			if end > 0 {
				return &ImportError{Line: n, Err: fmt.Errorf("a record after the end line (line %d)", end)}
			}
			l, derr := decodeLine(text)
			if derr != nil {
				return &ImportError{Line: n, Err: fmt.Errorf("malformed record: %w", derr)}
			}
			switch l.Type {
			case typeHeader:
				if l.Format != formatName {
					return &ImportError{Line: n, Err: fmt.Errorf("%w: format %q", ErrNotStore, l.Format)}
				}
				if l.Schema > SchemaVersion {
					return &ImportError{Line: n, Err: fmt.Errorf("%w: schema version %d is newer than %d", ErrSchema, l.Schema, SchemaVersion)}
				}
				if sawHeader {
					return &ImportError{Line: n, Err: errors.New("a second header line")}
				}
				sawHeader = true
			case typeEnd:
				if !sawHeader {
					return &ImportError{Line: n, Err: errors.New(`missing {"type":"store"} header line`)}
				}
				if l.Count == nil || *l.Count != records {
					return &ImportError{Line: n, Err: fmt.Errorf("the end line counts %v records, the file holds %d", countOf(l.Count), records)}
				}
				end = n
			case TypeSuite, typeSuiteName, TypeFingerprint, TypeEnrolment, TypeAudit, TypeAnswers:
				if !sawHeader {
					return &ImportError{Line: n, Err: errors.New(`missing {"type":"store"} header line`)}
				}
				it, cerr := checkLine(n, l)
				if cerr != nil {
					return &ImportError{Line: n, Err: cerr}
				}
				records++
				if err := each(it); err != nil {
					return err
				}
			default:
				return &ImportError{Line: n, Err: fmt.Errorf("unknown record type %q", l.Type)}
			}
		}
		if err == io.EOF {
			break
		}
	}
	if end == 0 {
		return &ImportError{Line: n, Err: missingEnd(records)}
	}
	return nil
}
