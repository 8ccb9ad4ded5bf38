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
	"maps"
	"reflect"
	"slices"
	"strings"

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
			// A record whose stored JSON is damaged cannot be embedded.
			return fmt.Errorf("%s %q: %w: %v (run `lineage db verify`)", l.Type, l.ID, ErrCorrupt, err)
		}
		if len(b)+1 > MaxLine {
			// Import would refuse the line: say so now, not when the
			// copy is needed.
			return fmt.Errorf("%s %q: a record of %d MiB is longer than an export line may be (%d MiB)", l.Type, l.ID, len(b)>>20, MaxLine>>20)
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
// every record is added or, on any error, none is. It is ReadExport, then
// ImportRecords. Records equal to stored ones are skipped; a conflicting
// record fails with ErrExists. Malformed lines give an *ImportError with
// the line number. The stream must start with the header line and end with
// the end line whose count matches, so an empty or truncated export is
// refused. Records may come in any order; they are applied suites first.
// Audits may name enrolments the stream lacks (an enrolment removed after
// its audits keeps them as history).
func (s *Store) Import(ctx context.Context, r io.Reader) error {
	x, err := ReadExport(ctx, r)
	if err != nil {
		return err
	}
	return s.ImportRecords(ctx, x)
}

// Records is an export stream read and checked by ReadExport, to be added
// to a store with ImportRecords.
type Records struct {
	byType map[string][]item
	n      int
}

// item is one record line of an export: its line number, the line and, for
// enrolments and audits, the decoded record.
type item struct {
	n     int
	l     line
	enrol *Enrolment
	audit *AuditRecord
	suite string // a fingerprint's suite and its outputs' shape
	shape [2]int
	// hashRule says that a fingerprint is under fingerprint.MetaHashRule:
	// storing it marks the file SchemaVersion (Tx.markSchema).
	hashRule bool
}

// Len returns the number of records.
func (x *Records) Len() int { return x.n }

// CheckContent runs enrol on every enrolment (for its report and how that
// agrees with the controls) and result on the result of every audit
// record that x holds, in file order, and returns the first error as an
// *ImportError naming the record's line. Package store keeps reports and
// results as opaque JSON; their owner (package audit) checks them, so that
// an export edited by hand cannot import records that then fail every
// report or move a verdict.
func (x *Records) CheckContent(enrol func(*Enrolment) error, result func(json.RawMessage) error) error {
	for _, it := range x.byType[TypeEnrolment] {
		if err := enrol(it.enrol); err != nil {
			return &ImportError{Line: it.n, Err: fmt.Errorf("teacher %q: %w: %w", it.l.ID, ErrCorrupt, err)}
		}
	}
	for _, it := range x.byType[TypeAudit] {
		if err := result(it.audit.Result); err != nil {
			return &ImportError{Line: it.n, Err: fmt.Errorf("audit %q: %w: %w", it.l.ID, ErrCorrupt, err)}
		}
	}
	return nil
}

// ReadExport reads an Export stream to its end and checks it without any
// store: the header and end lines and the count, the JSON of every line,
// and every record on its own (a suite's content against its hash and the
// rules of a usable suite, a fingerprint's checksum and ID, the names in
// enrolments and audits, the answers' batch numbers). Errors are
// *ImportError values naming the line, as for Import. What needs a store
// (conflicts with stored records, references between records) is checked
// by ImportRecords.
func ReadExport(ctx context.Context, r io.Reader) (*Records, error) {
	x := &Records{byType: map[string][]item{}}
	if err := readExport(ctx, r, func(it item) error { x.add(it); return nil }); err != nil {
		return nil, err
	}
	return x, nil
}

// add adds it to x.
func (x *Records) add(it item) {
	x.n++
	x.byType[it.l.Type] = append(x.byType[it.l.Type], it)
}

// missingEnd is the error of an export of n records without its end line.
// lineage before 3 December 2026 wrote no end line, so one holding
// records may be such an export, complete: the error says which line
// makes it importable, for whoever knows it is whole.
func missingEnd(n int) error {
	const msg = `missing {"type":"end"} line: the export is empty or truncated`
	if n == 0 {
		return errors.New(msg)
	}
	return fmt.Errorf(`%s, or was written by lineage before 3 December 2026, which wrote no end line; `+
		`if it is such an export and whole, add the line {"type":"end","count":%d} at its end and import it again `+
		`(or, with the store it came from, db export that again)`, msg, n)
}

// MaxLine is the longest line, in bytes with its newline, that Export
// writes and ReadExport reads. The largest record lineage makes at its own
// limits (a suite of audit.MaxSuiteSize probes of 784 inputs, base64) is
// about 42 MB; the bound keeps a file that is not an export, or one
// damaged into a single endless line, from taking the machine's memory
// before it is refused.
const MaxLine = 256 << 20

// errLongLine is returned by readLine for a line over its limit.
var errLongLine = fmt.Errorf("a line longer than %d MiB (no export record is that long)", MaxLine>>20)

// readLine reads one line, its newline included, as ReadBytes does, but
// stops with errLongLine, having kept no more than max bytes, when the
// line is longer than max. Like ReadBytes it copies a long line's pieces
// once and joins them once, so a line takes about twice its length while
// it is read (growing one slice by appending took four times as much).
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var parts [][]byte
	n := 0
	for {
		frag, err := br.ReadSlice('\n')
		if n += len(frag); n > max {
			return nil, errLongLine
		}
		if err != bufio.ErrBufferFull {
			out := make([]byte, 0, n)
			for _, p := range parts {
				out = append(out, p...)
			}
			return append(out, frag...), err
		}
		parts = append(parts, bytes.Clone(frag))
	}
}

// decodeLine decodes one export line, refusing fields a line does not
// have. It checks the field names first with a pass that copies nothing
// (json.Decoder's DisallowUnknownFields would copy the whole line into the
// decoder's buffer, a second copy of a record that may be tens of MB).
func decodeLine(text []byte) (line, error) {
	var fields map[string]skipJSON
	if err := json.Unmarshal(text, &fields); err != nil {
		return line{}, err
	}
	// In name order: the error names the same field every time.
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if !lineFields[k] {
			return line{}, fmt.Errorf("json: unknown field %q", k)
		}
	}
	var l line
	err := json.Unmarshal(text, &l)
	return l, err
}

// lineFields are the JSON names of line's fields, read from its tags.
var lineFields = func() map[string]bool {
	t := reflect.TypeFor[line]()
	m := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

// skipJSON is any JSON value, decoded into nothing.
type skipJSON struct{}

// UnmarshalJSON accepts any value.
func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// ImportRecords adds the records x holds to the store in one transaction:
// either every record is added or, on any error, none is (the file is then
// left as it was). Records equal to stored ones are skipped; a conflicting
// record fails with ErrExists. Errors name the line of the record.
func (s *Store) ImportRecords(ctx context.Context, x *Records) error {
	return s.ImportRecordsChecked(ctx, x, nil)
}

// ImportRecordsChecked is ImportRecords with check (when not nil) run in
// the import's transaction once every record is added, before it commits:
// check sees the store as the import would leave it, and its error fails
// the import, which then adds nothing.
func (s *Store) ImportRecordsChecked(ctx context.Context, x *Records, check func(*Tx) error) error {
	return s.Update(ctx, func(tx *Tx) error {
		shapes := map[string][2]int{} // of the suites fingerprints use, decoded once
		for _, typ := range []string{TypeSuite, typeSuiteName, TypeFingerprint, TypeEnrolment, TypeAudit, TypeAnswers} {
			for _, it := range x.byType[typ] {
				if err := tx.importLine(it, shapes); err != nil {
					return &ImportError{Line: it.n, Err: err}
				}
			}
		}
		if check != nil {
			return check(tx)
		}
		return nil
	})
}

// Enrolments returns the names of the enrolments x holds, in file order.
func (x *Records) Enrolments() []string {
	var out []string
	for _, it := range x.byType[TypeEnrolment] {
		out = append(out, it.l.ID)
	}
	return out
}

// checkLine checks the record l, line n of an export, on its own (see
// ReadExport) and returns it as an item.
func checkLine(n int, l line) (item, error) {
	it := item{n: n, l: l}
	if l.ID == "" {
		// bbolt's own "key required" would name nothing.
		return it, fmt.Errorf("%s record without an id", l.Type)
	}
	switch l.Type {
	case TypeSuite:
		su, err := DecodeSuite(l.Data)
		if err != nil {
			return it, err
		}
		if h := probe.CanonicalHash(su.X, su.Kinds, su.Labels); h != l.ID || su.Hash != h {
			return it, fmt.Errorf("suite %.12s: %w: content hashes to %.12s", l.ID, ErrCorrupt, h)
		}
		// A consistent hash is easy to forge: the suite must also be one
		// the rest of lineage can use (labels, known kinds, finite values).
		if err := probe.Validate(su); err != nil {
			return it, fmt.Errorf("suite %.12s: %w: %w", l.ID, ErrCorrupt, err)
		}
	case TypeFingerprint:
		// Checked without making the matrix, which a sparse record
		// of 55 KB declared 4096×65536 (1 GiB); importLine checks the
		// shape against the suite's.
		fp, err := fingerprint.VerifyEncoded(l.Data)
		if err != nil {
			return it, err
		}
		if fp.ID != l.ID {
			return it, fmt.Errorf("fingerprint %q: %w: its ID is %q", l.ID, ErrCorrupt, fp.ID)
		}
		it.suite, it.shape = fp.Suite, [2]int{fp.P.Rows, fp.P.Cols}
		_, it.hashRule = fp.Meta[fingerprint.MetaHashRule]
	case TypeEnrolment:
		var e Enrolment
		if err := json.Unmarshal(l.Record, &e); err != nil {
			return it, fmt.Errorf("teacher %q: %w", l.ID, err)
		}
		if e.Name != l.ID {
			return it, fmt.Errorf("teacher %q: %w: record names %q", l.ID, ErrCorrupt, e.Name)
		}
		if err := checkSeal(&e); err != nil {
			return it, fmt.Errorf("teacher %q: %w: %w", l.ID, ErrCorrupt, err)
		}
		it.enrol = &e
	case TypeAudit:
		var a AuditRecord
		if err := json.Unmarshal(l.Record, &a); err != nil {
			return it, fmt.Errorf("audit %q: %w", l.ID, err)
		}
		if a.ID != l.ID {
			return it, fmt.Errorf("audit %q: %w: record names %q", l.ID, ErrCorrupt, a.ID)
		}
		if err := checkSeal(&a); err != nil {
			return it, fmt.Errorf("audit %q: %w: %w", l.ID, ErrCorrupt, err)
		}
		it.audit = &a
	case TypeAnswers:
		if l.Batch == nil || *l.Batch > 1<<62 {
			return it, fmt.Errorf("answers job %q: missing or bad batch", l.ID)
		}
	}
	return it, nil
}

// importLine stores the record of it, checked by checkLine, unless an
// equal one is stored: importRefs, then importPut.
func (t *Tx) importLine(it item, shapes map[string][2]int) error {
	if err := t.importRefs(it, shapes); err != nil {
		return err
	}
	return t.importPut(it)
}

// importRefs checks what the record of it refers to: a suite name's suite
// must be stored, and a fingerprint's, in its shape (shapes caches the
// shapes of the suites read). Other records are checked as they are put.
func (t *Tx) importRefs(it item, shapes map[string][2]int) error {
	l := it.l
	switch l.Type {
	case typeSuiteName:
		if t.tx.Bucket(bucketSuites).Get([]byte(l.Suite)) == nil {
			return fmt.Errorf("suite name %q: %w", l.ID, notFound("suite", l.Suite))
		}
	case TypeFingerprint:
		// The suite must be stored (in the store or the import) and fit
		// the outputs: db verify would find the fingerprint broken.
		sh, ok := shapes[it.suite]
		if !ok {
			raw := t.tx.Bucket(bucketSuites).Get([]byte(it.suite))
			if raw == nil {
				return fmt.Errorf("fingerprint %q: %w", l.ID, notFound("suite", it.suite))
			}
			probes, labels, err := suiteShape(raw)
			if err != nil {
				return fmt.Errorf("fingerprint %q: suite %.12s: %w", l.ID, it.suite, err)
			}
			sh = [2]int{probes, labels}
			shapes[it.suite] = sh
		}
		if it.shape != sh {
			return fmt.Errorf("fingerprint %q: %w: %d×%d outputs, but suite %.12s has %d probes and %d labels", l.ID, ErrCorrupt, it.shape[0], it.shape[1], it.suite, sh[0], sh[1])
		}
	}
	return nil
}

// importPut stores the record of it unless an equal one is stored (for a
// fingerprint, one equal but for Elapsed: fingerprint.SameButElapsed); a
// record of the same ID and other content is an error.
func (t *Tx) importPut(it item) error {
	l := it.l
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
		return putRaw(bucketSuites, "suite", l.Data)
	case typeSuiteName:
		return putRaw(bucketNames, "suite", []byte(l.Suite))
	case TypeFingerprint:
		if it.hashRule {
			if err := t.markSchema(); err != nil {
				return err
			}
		}
		// Two runs of one enrolment or probe store the same record but
		// for the time the model took to answer: the stored one is kept.
		if old := t.tx.Bucket(bucketFPs).Get([]byte(l.ID)); old != nil && fingerprint.SameButElapsed(old, l.Data) {
			return nil
		}
		return putRaw(bucketFPs, "fingerprint", l.Data)
	case TypeEnrolment:
		return t.PutEnrolment(it.enrol, PutOptions{})
	case TypeAudit:
		return t.putAudit(it.audit, PutOptions{}, false)
	default:
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
