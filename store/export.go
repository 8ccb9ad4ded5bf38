package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
)

// line is one JSON line of an export. Data holds binary encodings
// (EncodeSuite, fingerprint.Encode, raw answers) as base64, so a round trip
// is exact; Record holds enrolment and audit JSON.
type line struct {
	Type   string          `json:"type"`
	ID     string          `json:"id,omitempty"`
	Format string          `json:"format,omitempty"`
	Schema int             `json:"schema,omitempty"`
	Suite  string          `json:"suite,omitempty"`
	Batch  *uint64         `json:"batch,omitempty"`
	Count  *int            `json:"count,omitempty"`
	Data   []byte          `json:"data,omitempty"`
	Record json.RawMessage `json:"record,omitempty"`
}

const typeHeader, typeSuiteName, typeEnd = "store", "suite_name", "end"

// Export writes the whole store as JSON lines, one record per line with a
// "type" field: first {"type":"store",...}, then suites, suite names,
// fingerprints, enrolments, audits and answers, each sorted by key, and
// last {"type":"end","count":N} with the number of records, so that a
// truncated file is refused on import. The output depends only on the
// store's content, so exporting, importing into a fresh store and
// exporting again gives identical bytes.
func (s *Store) Export(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	records := -1 // the header is not a record
	emit := func(l line) error {
		records++
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		bw.Write(b)
		return bw.WriteByte('\n')
	}
	err := s.View(ctx, func(tx *Tx) error {
		if err := emit(line{Type: typeHeader, Format: formatName, Schema: SchemaVersion}); err != nil {
			return err
		}
		raw := func(bucket []byte, typ string, f func(k, v []byte) line) error {
			return tx.tx.Bucket(bucket).ForEach(func(k, v []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				return emit(f(k, v))
			})
		}
		steps := []struct {
			bucket []byte
			typ    string
			f      func(k, v []byte) line
		}{
			{bucketSuites, TypeSuite, func(k, v []byte) line { return line{Type: TypeSuite, ID: string(k), Data: v} }},
			{bucketNames, typeSuiteName, func(k, v []byte) line { return line{Type: typeSuiteName, ID: string(k), Suite: string(v)} }},
			{bucketFPs, TypeFingerprint, func(k, v []byte) line { return line{Type: TypeFingerprint, ID: string(k), Data: v} }},
			{bucketEnrol, TypeEnrolment, func(k, v []byte) line { return line{Type: TypeEnrolment, ID: string(k), Record: v} }},
			{bucketAudits, TypeAudit, func(k, v []byte) line { return line{Type: TypeAudit, ID: string(k), Record: v} }},
		}
		for _, st := range steps {
			if err := raw(st.bucket, st.typ, st.f); err != nil {
				return err
			}
		}
		err := tx.tx.Bucket(bucketAnswers).ForEachBucket(func(job []byte) error {
			return tx.tx.Bucket(bucketAnswers).Bucket(job).ForEach(func(k, v []byte) error {
				if len(k) != 8 {
					return nil
				}
				b := binary.BigEndian.Uint64(k)
				return emit(line{Type: TypeAnswers, ID: string(job), Batch: &b, Data: v})
			})
		})
		if err != nil {
			return err
		}
		n := records
		return emit(line{Type: typeEnd, Count: &n})
	})
	if err != nil {
		return fmt.Errorf("export store %q: %w", s.path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export store %q: %w", s.path, err)
	}
	return nil
}

// ImportError names the line of an import that failed.
type ImportError struct {
	Line int
	Err  error
}

// Error formats as "import line 7: ...".
func (e *ImportError) Error() string { return fmt.Sprintf("import line %d: %v", e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *ImportError) Unwrap() error { return e.Err }

// Import reads an Export stream into the store in one transaction: either
// every record is added or, on any error, none is. Records equal to stored
// ones are skipped; a conflicting record fails with ErrExists. Malformed
// lines give an *ImportError with the line number. The stream must start
// with the header line and end with the end line whose count matches, so
// an empty or truncated export is refused. Records may come in any order;
// they are applied suites first. Audits may name enrolments the stream
// lacks (an enrolment removed after its audits keeps them as history).
func (s *Store) Import(ctx context.Context, r io.Reader) error {
	type item struct {
		n int
		l line
	}
	byType := map[string][]item{}
	br := bufio.NewReader(contextReader{ctx, r})
	sawHeader, records, end := false, 0, 0
	n := 1
	for ; ; n++ {
		text, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(text)) > 0 {
			if end > 0 {
				return &ImportError{Line: n, Err: fmt.Errorf("a record after the end line (line %d)", end)}
			}
			var l line
			dec := json.NewDecoder(bytes.NewReader(text))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&l); derr != nil {
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
				records++
				byType[l.Type] = append(byType[l.Type], item{n, l})
			default:
				return &ImportError{Line: n, Err: fmt.Errorf("unknown record type %q", l.Type)}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if end == 0 {
		return &ImportError{Line: n, Err: errors.New(`missing {"type":"end"} line: the export is empty or truncated`)}
	}
	return s.Update(ctx, func(tx *Tx) error {
		for _, typ := range []string{TypeSuite, typeSuiteName, TypeFingerprint, TypeEnrolment, TypeAudit, TypeAnswers} {
			for _, it := range byType[typ] {
				if err := tx.importLine(it.l); err != nil {
					return &ImportError{Line: it.n, Err: err}
				}
			}
		}
		return nil
	})
}

// contextReader is a Reader whose Read returns ctx's error once ctx is
// done, even while the underlying Read is blocked (on a pipe or terminal
// that delivers nothing): an import from standard input stops on Ctrl-C.
// The abandoned Read finishes into a buffer of its own.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if c.ctx.Done() == nil {
		return c.r.Read(p)
	}
	type result struct {
		n   int
		err error
	}
	buf := make([]byte, len(p))
	done := make(chan result, 1)
	go func() {
		n, err := c.r.Read(buf)
		done <- result{n, err}
	}()
	select {
	case res := <-done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}

func (t *Tx) importLine(l line) error {
	putRaw := func(bucket []byte, kind string, v []byte) error {
		b := t.tx.Bucket(bucket)
		if old := b.Get([]byte(l.ID)); old != nil {
			if bytes.Equal(old, v) {
				return nil
			}
			return exists(kind, l.ID, "with other content")
		}
		return b.Put([]byte(l.ID), v)
	}
	switch l.Type {
	case TypeSuite:
		su, err := DecodeSuite(l.Data)
		if err != nil {
			return err
		}
		if h := probe.CanonicalHash(su.X, su.Kinds, su.Labels); h != l.ID || su.Hash != h {
			return fmt.Errorf("suite %.12s: %w: content hashes to %.12s", l.ID, ErrCorrupt, h)
		}
		// A consistent hash is easy to forge: the suite must also be one
		// the rest of lineage can use (labels, known kinds, finite values).
		if err := probe.Validate(su); err != nil {
			return fmt.Errorf("suite %.12s: %w: %w", l.ID, ErrCorrupt, err)
		}
		return putRaw(bucketSuites, "suite", l.Data)
	case typeSuiteName:
		if t.tx.Bucket(bucketSuites).Get([]byte(l.Suite)) == nil {
			return fmt.Errorf("suite name %q: %w", l.ID, notFound("suite", l.Suite))
		}
		return putRaw(bucketNames, "suite", []byte(l.Suite))
	case TypeFingerprint:
		fp, err := fingerprint.Decode(l.Data)
		if err != nil {
			return err
		}
		if fp.ID != l.ID {
			return fmt.Errorf("fingerprint %q: %w: its ID is %q", l.ID, ErrCorrupt, fp.ID)
		}
		if err := fp.Verify(); err != nil {
			return err
		}
		return putRaw(bucketFPs, "fingerprint", l.Data)
	case TypeEnrolment:
		var e Enrolment
		if err := json.Unmarshal(l.Record, &e); err != nil {
			return fmt.Errorf("teacher %q: %w", l.ID, err)
		}
		if e.Name != l.ID {
			return fmt.Errorf("teacher %q: %w: record names %q", l.ID, ErrCorrupt, e.Name)
		}
		return t.PutEnrolment(&e, PutOptions{})
	case TypeAudit:
		var a AuditRecord
		if err := json.Unmarshal(l.Record, &a); err != nil {
			return fmt.Errorf("audit %q: %w", l.ID, err)
		}
		if a.ID != l.ID {
			return fmt.Errorf("audit %q: %w: record names %q", l.ID, ErrCorrupt, a.ID)
		}
		return t.putAudit(&a, PutOptions{}, false)
	default:
		if l.Batch == nil || *l.Batch > 1<<62 {
			return fmt.Errorf("answers job %q: missing or bad batch", l.ID)
		}
		for b, old := range t.Answers(l.ID) {
			if b == int(*l.Batch) && !bytes.Equal(old, l.Data) {
				return exists("answers job", l.ID, fmt.Sprintf("batch %d with other content", b))
			}
		}
		return t.PutAnswers(l.ID, int(*l.Batch), l.Data)
	}
}

// countOf formats an end line's count, which may be missing.
func countOf(n *int) any {
	if n == nil {
		return "no"
	}
	return *n
}
