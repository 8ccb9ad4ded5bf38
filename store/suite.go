package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/probe"
	"gonum.org/v1/gonum/blas/blas32"
)

// suiteMagic starts every encoded suite; suiteVersion follows as uint16 LE.
const (
	suiteMagic   = "LNST"
	suiteVersion = 1
	maxSuiteMeta = 64 << 20
	maxSuiteDim  = 1 << 30
)

type suiteHeader struct {
	probe.Suite
	Rows int `json:"rows"`
	Cols int `json:"cols"`
}

// EncodeSuite returns the stored form of s: the magic "LNST", a uint16 LE
// version (1), two zero bytes, a uint32 LE length, the JSON metadata (name,
// labels, kinds, generators, hash, rows, cols) and X as float32 LE row by
// row.
func EncodeSuite(s *probe.Suite) ([]byte, error) {
	x := s.X
	if x.Rows < 0 || x.Cols < 0 || x.Rows > maxSuiteDim || x.Cols > maxSuiteDim ||
		(x.Rows > 0 && (x.Stride < x.Cols || len(x.Data) < (x.Rows-1)*x.Stride+x.Cols)) {
		return nil, fmt.Errorf("encode suite %q: bad matrix %d×%d stride %d", s.Name, x.Rows, x.Cols, x.Stride)
	}
	meta, err := json.Marshal(suiteHeader{Suite: *s, Rows: x.Rows, Cols: x.Cols})
	if err != nil {
		return nil, fmt.Errorf("encode suite %q: %w", s.Name, err)
	}
	var buf bytes.Buffer
	buf.Grow(12 + len(meta) + 4*x.Rows*x.Cols)
	buf.WriteString(suiteMagic)
	var b [4]byte
	binary.LittleEndian.PutUint16(b[:], suiteVersion)
	buf.Write(b[:2])
	buf.Write([]byte{0, 0})
	binary.LittleEndian.PutUint32(b[:], uint32(len(meta)))
	buf.Write(b[:])
	buf.Write(meta)
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Data[i*x.Stride : i*x.Stride+x.Cols] {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			buf.Write(b[:])
		}
	}
	return buf.Bytes(), nil
}

// DecodeSuite parses EncodeSuite's output. Malformed input gives an error
// wrapping ErrCorrupt, never a panic; the hash is not recomputed.
func DecodeSuite(data []byte) (*probe.Suite, error) {
	meta, payload, err := suiteMeta(data)
	if err != nil {
		return nil, err
	}
	var h suiteHeader
	if err := json.Unmarshal(meta, &h); err != nil {
		return nil, suiteCorrupt("metadata: %v", err)
	}
	if err := checkSuiteShape(h.Rows, h.Cols, payload); err != nil {
		return nil, err
	}
	s := h.Suite
	if len(s.Kinds) != h.Rows {
		return nil, suiteCorrupt("%d probe kinds for %d probes", len(s.Kinds), h.Rows)
	}
	s.X = blas32.General{Rows: h.Rows, Cols: h.Cols, Stride: h.Cols, Data: make([]float32, h.Rows*h.Cols)}
	for i := range s.X.Data {
		s.X.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(payload[4*i:]))
	}
	return &s, nil
}

// suiteCorrupt is a decoding error of a stored suite, wrapping ErrCorrupt.
func suiteCorrupt(format string, args ...any) error {
	return fmt.Errorf("decode suite: %w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// suiteMeta splits EncodeSuite's output data into its JSON metadata and
// its probe data, checking the magic, version and lengths.
func suiteMeta(data []byte) (meta, payload []byte, err error) {
	if len(data) < 12 || string(data[:4]) != suiteMagic {
		return nil, nil, suiteCorrupt("missing magic %q", suiteMagic)
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != suiteVersion || data[6] != 0 || data[7] != 0 {
		return nil, nil, suiteCorrupt("version %d, want %d", v, suiteVersion)
	}
	n := uint64(binary.LittleEndian.Uint32(data[8:]))
	rest := data[12:]
	if n > maxSuiteMeta || n > uint64(len(rest)) {
		return nil, nil, suiteCorrupt("metadata length %d exceeds the %d bytes left", n, len(rest))
	}
	return rest[:n], rest[n:], nil
}

// checkSuiteShape checks a suite's shape, as its metadata declares it,
// against its probe data.
func checkSuiteShape(rows, cols int, payload []byte) error {
	if rows < 0 || cols < 0 || rows > maxSuiteDim || cols > maxSuiteDim {
		return suiteCorrupt("bad shape %d×%d", rows, cols)
	}
	if want := uint64(rows) * uint64(cols) * 4; uint64(len(payload)) != want {
		return suiteCorrupt("probe data is %d bytes, want %d", len(payload), want)
	}
	return nil
}

// suiteShape returns the number of probes and labels of the encoded suite
// data without decoding its probes, with DecodeSuite's errors.
func suiteShape(data []byte) (probes, labels int, err error) {
	meta, payload, err := suiteMeta(data)
	if err != nil {
		return 0, 0, err
	}
	var h struct {
		Labels []json.RawMessage `json:"labels"`
		Rows   int               `json:"rows"`
		Cols   int               `json:"cols"`
	}
	if err := json.Unmarshal(meta, &h); err != nil {
		return 0, 0, suiteCorrupt("metadata: %v", err)
	}
	return h.Rows, len(h.Labels), checkSuiteShape(h.Rows, h.Cols, payload)
}

// suiteHash returns s's canonical hash, checking s.Hash when it is set.
func suiteHash(s *probe.Suite) (string, error) {
	h := probe.CanonicalHash(s.X, s.Kinds, s.Labels)
	if s.Hash != "" && s.Hash != h {
		return "", fmt.Errorf("suite %q: stored hash %.12s does not match its probes (%.12s)", s.Name, s.Hash, h)
	}
	if len(s.Kinds) != s.X.Rows {
		return "", fmt.Errorf("suite %q: %d kinds for %d probes", s.Name, len(s.Kinds), s.X.Rows)
	}
	return h, nil
}

// PutSuite stores s under its hash and, when s.Name is set, indexes the
// name. Suites are immutable: storing the same probes again is a no-op
// (an extra name is added to the index), while a name already naming a
// different suite gives ErrExists.
func (t *Tx) PutSuite(s *probe.Suite) error {
	h, err := suiteHash(s)
	if err != nil {
		return err
	}
	names := t.tx.Bucket(bucketNames)
	if s.Name != "" {
		if err := CheckName("suite", s.Name); err != nil {
			return err
		}
		if old := names.Get([]byte(s.Name)); old != nil && string(old) != h {
			return exists("suite", s.Name, fmt.Sprintf("it names suite %.12s, not %.12s", old, h))
		}
	}
	suites := t.tx.Bucket(bucketSuites)
	if suites.Get([]byte(h)) == nil {
		c := *s
		c.Hash = h
		b, err := EncodeSuite(&c)
		if err != nil {
			return err
		}
		if err := suites.Put([]byte(h), b); err != nil {
			return fmt.Errorf("put suite %q: %w", s.Name, err)
		}
	}
	if s.Name != "" {
		if err := names.Put([]byte(s.Name), []byte(h)); err != nil {
			return fmt.Errorf("put suite %q: %w", s.Name, err)
		}
	}
	return nil
}

// MinSuitePrefix is the fewest hex digits of a suite hash Suite and
// SuiteHash accept in place of the whole hash (reports print 12).
const MinSuitePrefix = 8

// Suite returns the suite named ref, or whose hash is ref or starts with
// ref (at least MinSuitePrefix hex digits, matching one suite only).
func (t *Tx) Suite(ref string) (*probe.Suite, error) {
	h, err := t.SuiteHash(ref)
	if err != nil {
		return nil, err
	}
	s, err := DecodeSuite(t.tx.Bucket(bucketSuites).Get([]byte(h)))
	if err != nil {
		return nil, fmt.Errorf("suite %q: %w", ref, err)
	}
	// The hash is the suite's published commitment: probes that no
	// longer hash to it are not that suite, and nothing is measured on
	// them (db verify reports the same).
	if got := probe.CanonicalHash(s.X, s.Kinds, s.Labels); got != h || s.Hash != h {
		return nil, fmt.Errorf("suite %q: %w: its content hashes to %.12s, not to %.12s (run `lineage db verify`)", ref, ErrCorrupt, got, h)
	}
	return s, nil
}

// SuiteHash resolves a suite name, hash or hash prefix (as Suite) to the
// hash of a stored suite. A prefix several suites share is an error
// wrapping ErrAmbiguous.
//
// A name that is also the start of another suite's hash (an enrolment
// named 24f69773ac83, say, the prefix reports print of another
// enrolment's suite) is ambiguous too: it resolved to the named suite,
// so that probe --suite and db rm suite took the one the user did not see
// listed under that prefix.
func (t *Tx) SuiteHash(ref string) (string, error) {
	if v := t.tx.Bucket(bucketNames).Get([]byte(ref)); v != nil {
		if h, ok := t.SuiteHashStarting(ref); ok && h != string(v) {
			return "", fmt.Errorf("suite %q: %w: it is the name of suite %.12s and the start of suite %.12s's hash; give the whole hash of the one meant", ref, ErrAmbiguous, v, h)
		}
		return string(v), nil
	}
	suites := t.tx.Bucket(bucketSuites)
	if suites.Get([]byte(ref)) != nil {
		return ref, nil
	}
	if len(ref) < MinSuitePrefix || !isHex(ref) {
		return "", notFound("suite", ref)
	}
	var match []string
	c := suites.Cursor()
	for k, _ := c.Seek([]byte(ref)); k != nil && bytes.HasPrefix(k, []byte(ref)) && len(match) < 2; k, _ = c.Next() {
		match = append(match, string(k))
	}
	switch len(match) {
	case 0:
		return "", notFound("suite", ref)
	case 1:
		return match[0], nil
	}
	return "", fmt.Errorf("suite %q: %w: several suite hashes start with it; give more digits", ref, ErrAmbiguous)
}

// SuiteHashStarting returns the hash of a stored suite that starts with
// prefix, when prefix can stand for a hash (at least MinSuitePrefix
// lower-case hex digits; the first such suite in hash order).
func (t *Tx) SuiteHashStarting(prefix string) (string, bool) {
	if len(prefix) < MinSuitePrefix || !isHex(prefix) {
		return "", false
	}
	k, _ := t.tx.Bucket(bucketSuites).Cursor().Seek([]byte(prefix))
	if k == nil || !bytes.HasPrefix(k, []byte(prefix)) {
		return "", false
	}
	return string(k), true
}

// HasSuiteName reports whether a suite is stored under the name name
// (names only: not hashes or their prefixes).
func (t *Tx) HasSuiteName(name string) bool {
	return t.tx.Bucket(bucketNames).Get([]byte(name)) != nil
}

// isHex reports whether s is lower-case hexadecimal digits only.
func isHex(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}
