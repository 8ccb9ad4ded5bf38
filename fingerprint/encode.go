package fingerprint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/lineage-audit/lineage/internal/digest"
	"github.com/lineage-audit/lineage/model"
)

// Format constants of the binary encoding.
const (
	// Magic starts every encoded fingerprint.
	Magic = "LNFP"
	// Version is the encoding version Encode writes and Decode accepts.
	Version = 1

	formDense    = 0
	formSparse16 = 1
	formSparse32 = 2

	headerLen  = 4 + 2 + 1 + 1 + 4
	maxMetaLen = 16 << 20
	maxDim     = 1 << 30
	maxCells   = 1 << 28 // outputs per fingerprint: 1 GiB of float32
)

// header is the JSON metadata of an encoded fingerprint: Fingerprint's
// fields in its order, but P, then the matrix shape. Elapsed is written as
// integer nanoseconds under "elapsed", as format version 1 always has, not
// as Fingerprint's JSON writes it ("elapsed_s", seconds): stored and
// exported fingerprints keep their bytes, and a store compares them by
// their bytes.
type header struct {
	ID      string            `json:"id"`
	Suite   string            `json:"suite"`
	Model   model.Info        `json:"model"`
	TopK    int               `json:"top_k,omitempty"`
	Queries int               `json:"queries"`
	Elapsed time.Duration     `json:"elapsed"`
	Meta    map[string]string `json:"meta,omitempty"`
	Hash    string            `json:"hash"`
	Rows    int               `json:"rows"`
	Cols    int               `json:"cols"`
}

// Encode returns fp's binary encoding (see the package documentation).
// Fingerprints with TopK > 0 whose rows really have the top-k form are
// stored sparsely; everything else, including a TopK fingerprint whose tail
// entries are not all equal, is stored densely, so Decode always gives back
// P bit for bit.
func Encode(fp *Fingerprint) ([]byte, error) {
	rows, cols := fp.P.Rows, fp.P.Cols
	if rows < 0 || cols < 0 || rows > maxDim || cols > maxDim || (rows > 0 && (fp.P.Stride < cols || len(fp.P.Data) < (rows-1)*fp.P.Stride+cols)) {
		return nil, fmt.Errorf("encode fingerprint %q: bad matrix %d×%d stride %d len %d", fp.ID, rows, cols, fp.P.Stride, len(fp.P.Data))
	}
	if fp.TopK < 0 {
		return nil, fmt.Errorf("encode fingerprint %q: negative top-k %d", fp.ID, fp.TopK)
	}
	meta, err := json.Marshal(header{ID: fp.ID, Suite: fp.Suite, Model: fp.Model, TopK: fp.TopK, Queries: fp.Queries,
		Elapsed: fp.Elapsed, Meta: fp.Meta, Hash: fp.Hash, Rows: rows, Cols: cols})
	if err != nil {
		return nil, fmt.Errorf("encode fingerprint %q: %w", fp.ID, err)
	}
	if len(meta) > maxMetaLen {
		// Decode would refuse it: a record no command could read back.
		return nil, fmt.Errorf("encode fingerprint %q: metadata of %d bytes (model name, labels, source), at most %d allowed", fp.ID, len(meta), maxMetaLen)
	}
	form := byte(formDense)
	var sparse []byte
	if k := fp.TopK; k > 0 && k < cols {
		if sparse = encodeSparse(fp, k); sparse != nil {
			form = formSparse16
			if cols > 1<<16 {
				form = formSparse32
			}
		}
	}
	var buf bytes.Buffer
	buf.Grow(headerLen + len(meta) + 4*rows*cols)
	buf.WriteString(Magic)
	var b [4]byte
	binary.LittleEndian.PutUint16(b[:], Version)
	buf.Write(b[:2])
	buf.WriteByte(form)
	buf.WriteByte(0)
	binary.LittleEndian.PutUint32(b[:], uint32(len(meta)))
	buf.Write(b[:])
	buf.Write(meta)
	if form != formDense {
		buf.Write(sparse)
		return buf.Bytes(), nil
	}
	for i := 0; i < rows; i++ {
		for _, v := range fp.Row(i) {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			buf.Write(b[:])
		}
	}
	return buf.Bytes(), nil
}

// encodeSparse returns the sparse payload, or nil when some row is not of
// the top-k form (its non-kept entries differ bitwise).
func encodeSparse(fp *Fingerprint, k int) []byte {
	rows, cols := fp.P.Rows, fp.P.Cols
	wide := cols > 1<<16
	iw := 2
	if wide {
		iw = 4
	}
	out := make([]byte, 0, rows*(k*(iw+4)+4))
	idx := make([]int, cols)
	var b [4]byte
	for i := 0; i < rows; i++ {
		row := fp.Row(i)
		topIndices(row, k, idx)
		fill := math.Float32bits(row[idx[k]])
		for _, j := range idx[k:] {
			if math.Float32bits(row[j]) != fill {
				return nil
			}
		}
		kept := idx[:k]
		slices.Sort(kept)
		for _, j := range kept {
			if wide {
				binary.LittleEndian.PutUint32(b[:], uint32(j))
				out = append(out, b[:4]...)
			} else {
				binary.LittleEndian.PutUint16(b[:], uint16(j))
				out = append(out, b[:2]...)
			}
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(row[j]))
			out = append(out, b[:]...)
		}
		binary.LittleEndian.PutUint32(b[:], fill)
		out = append(out, b[:]...)
	}
	return out
}

// Decode parses an encoded fingerprint. Malformed input gives an error
// wrapping ErrFormat, never a panic. Decode does not check the hash; call
// Verify for that.
func Decode(data []byte) (*Fingerprint, error) { return DecodeIf(data, nil) }

// DecodeIf is Decode, except that once the header is read (as DecodeHeader
// gives it) and before the matrix is made, it calls check, when not nil,
// with the fingerprint so far, and returns check's error as it is: a
// reader that knows the shape the record must have (its suite's) refuses
// a record declaring another without making it.
func DecodeIf(data []byte, check func(head *Fingerprint) error) (*Fingerprint, error) {
	e, err := parse(data)
	if err != nil {
		return nil, err
	}
	if check != nil {
		if err := check(&e.fp); err != nil {
			return nil, err
		}
	}
	fp := e.fp
	fp.P.Data = make([]float32, fp.P.Rows*fp.P.Cols)
	err = e.eachRow(func(i int) []float32 { return fp.P.Data[i*fp.P.Cols : (i+1)*fp.P.Cols] }, nil)
	if err != nil {
		return nil, err
	}
	return &fp, nil
}

// DecodeHeader parses an encoded fingerprint as Decode does, but for the
// matrix: the Fingerprint it returns has P's Rows, Cols and Stride and no
// Data, and of the payload only the length is checked (a sparse row's
// indices are not). It makes nothing of the matrix's size, for readers
// that need a record's ID, suite, shape, hash or metadata alone: a sparse
// record of a few kilobytes may declare a gigabyte of outputs.
func DecodeHeader(data []byte) (*Fingerprint, error) {
	e, err := parse(data)
	if err != nil {
		return nil, err
	}
	return &e.fp, nil
}

// SuiteOf returns the suite hash an encoded fingerprint names, reading no
// more of it than that: the errors of a malformed header are Decode's,
// but the rest of the metadata and the payload are not checked.
func SuiteOf(data []byte) (string, error) {
	meta, err := metadata(data)
	if err != nil {
		return "", err
	}
	var h struct {
		Suite string `json:"suite"`
	}
	if err := json.Unmarshal(meta, &h); err != nil {
		return "", formatError("metadata: %v", err)
	}
	return h.Suite, nil
}

// VerifyEncoded checks an encoded fingerprint as Decode, Verify and then
// CheckRows do, with the same errors, without making its matrix: the
// Fingerprint it returns has P's Rows and Cols but no Data. It holds one
// row at a time, where Decode holds the whole matrix, which a sparse
// encoding of a few kilobytes can make a gigabyte (rows × labels float32
// values); a record that is only checked and stored, as db import does,
// needs no more.
func VerifyEncoded(data []byte) (*Fingerprint, error) {
	e, err := parse(data)
	if err != nil {
		return nil, err
	}
	fp := e.fp
	h := fp.hashHead()
	buf := make([]float32, fp.P.Cols)
	row := make([]byte, 4*fp.P.Cols)
	var rowErr error // the first row that is not a distribution
	err = e.eachRow(func(int) []float32 { return buf }, func(i int, r []float32) {
		digest.Float32s(h, row, r)
		if rowErr == nil {
			rowErr = fp.rowError(i, r)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := fp.checkHash(h); err != nil {
		return nil, err
	}
	if rowErr != nil {
		return nil, rowErr
	}
	return &fp, nil
}

// encoded is a fingerprint encoding whose header parse has read, with P's
// shape set but no Data, and its payload, checked for length.
type encoded struct {
	fp      Fingerprint
	form    byte
	payload []byte
}

// parse reads the header of an encoded fingerprint and checks that the
// payload's length fits the shape (see Decode).
func parse(data []byte) (*encoded, error) {
	bad := func(format string, args ...any) (*encoded, error) {
		return nil, formatError(format, args...)
	}
	meta, err := metadata(data)
	if err != nil {
		return nil, err
	}
	form := data[6]
	var h header
	if err := json.Unmarshal(meta, &h); err != nil {
		return bad("metadata: %v", err)
	}
	payload := data[headerLen+len(meta):]
	rows, cols, k := h.Rows, h.Cols, h.TopK
	if rows < 0 || cols < 0 || rows > maxDim || cols > maxDim {
		return bad("bad shape %d×%d", rows, cols)
	}
	// A sparse payload is small for any shape; the dense matrix it
	// expands to must still fit in memory.
	if uint64(rows)*uint64(cols) > maxCells {
		return bad("shape %d×%d has more than %d outputs", rows, cols, maxCells)
	}
	if k < 0 {
		return bad("negative top-k %d", k)
	}
	e := &encoded{form: form, payload: payload, fp: Fingerprint{ID: h.ID, Suite: h.Suite, Model: h.Model, TopK: h.TopK, Queries: h.Queries,
		Elapsed: h.Elapsed, Meta: h.Meta, Hash: h.Hash}}
	e.fp.P.Rows, e.fp.P.Cols, e.fp.P.Stride = rows, cols, cols
	if form == formDense {
		if want := uint64(rows) * uint64(cols) * 4; uint64(len(payload)) != want {
			return bad("dense payload is %d bytes, want %d", len(payload), want)
		}
		return e, nil
	}
	iw := e.indexWidth()
	if k == 0 || k >= cols || (iw == 2) != (cols <= 1<<16) {
		return bad("sparse form with top-k %d of %d labels and %d-byte indices", k, cols, iw)
	}
	if want := uint64(rows) * e.perRow(); uint64(len(payload)) != want {
		return bad("sparse payload is %d bytes, want %d", len(payload), want)
	}
	return e, nil
}

// metadata checks the fixed header of an encoded fingerprint and returns
// its JSON metadata.
func metadata(data []byte) ([]byte, error) {
	if len(data) < headerLen {
		return nil, formatError("%d bytes is shorter than the %d-byte header", len(data), headerLen)
	}
	if string(data[:4]) != Magic {
		return nil, formatError("magic %q, want %q", data[:4], Magic)
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != Version {
		return nil, formatError("version %d, want %d", v, Version)
	}
	if form := data[6]; form > formSparse32 {
		return nil, formatError("unknown form %d", form)
	}
	if data[7] != 0 {
		return nil, formatError("reserved byte is %d", data[7])
	}
	n := uint64(binary.LittleEndian.Uint32(data[8:]))
	rest := data[headerLen:]
	if n > maxMetaLen || n > uint64(len(rest)) {
		return nil, formatError("metadata length %d exceeds the %d bytes left", n, len(rest))
	}
	return rest[:n], nil
}

// indexWidth is the bytes of a label index in a sparse payload.
func (e *encoded) indexWidth() int {
	if e.form == formSparse32 {
		return 4
	}
	return 2
}

// perRow is the bytes of a row in a sparse payload.
func (e *encoded) perRow() uint64 { return uint64(e.fp.TopK)*uint64(e.indexWidth()+4) + 4 }

// eachRow decodes the payload's rows in order, row i into into(i) (of
// P.Cols values), calling then with it when then is not nil. A sparse
// row's indices out of order or range are an error wrapping ErrFormat.
func (e *encoded) eachRow(into func(i int) []float32, then func(i int, row []float32)) error {
	rows, cols := e.fp.P.Rows, e.fp.P.Cols
	for i := 0; i < rows; i++ {
		row := into(i)
		if e.form == formDense {
			for j := range row {
				row[j] = math.Float32frombits(binary.LittleEndian.Uint32(e.payload[4*(i*cols+j):]))
			}
		} else if err := e.sparseRow(i, row); err != nil {
			return err
		}
		if then != nil {
			then(i, row)
		}
	}
	return nil
}

// sparseRow decodes row i of a sparse payload into row.
func (e *encoded) sparseRow(i int, row []float32) error {
	iw, per, k, cols := e.indexWidth(), e.perRow(), e.fp.TopK, len(row)
	rec := e.payload[uint64(i)*per:]
	fill := math.Float32frombits(binary.LittleEndian.Uint32(rec[per-4:]))
	for j := range row {
		row[j] = fill
	}
	prev := -1
	for x := 0; x < k; x++ {
		var j int
		if iw == 2 {
			j = int(binary.LittleEndian.Uint16(rec[x*(iw+4):]))
		} else {
			j = int(binary.LittleEndian.Uint32(rec[x*(iw+4):]))
		}
		if j <= prev || j >= cols {
			return formatError("row %d: index %d out of order or range", i, j)
		}
		prev = j
		row[j] = math.Float32frombits(binary.LittleEndian.Uint32(rec[x*(iw+4)+iw:]))
	}
	return nil
}

// SameButElapsed reports whether the encoded fingerprints a and b are one
// record but for Elapsed, the time the model took to answer, which two
// runs of the same enrolment or probe measure differently although every
// answer, hash and other field is the same: the same form and payload,
// byte for byte, and metadata equal once Elapsed is set aside. Metadata
// not written exactly as Encode writes it (an older layout, a field it
// does not know, another spelling), or a record that does not parse, is
// never the same as another record.
func SameButElapsed(a, b []byte) bool {
	ca, ok := timeless(a)
	if !ok {
		return false
	}
	cb, ok := timeless(b)
	return ok && bytes.Equal(ca, cb)
}

// timeless returns the encoding data would have with Elapsed 0, and false
// when its metadata is not what Encode writes for the header it parses to.
func timeless(data []byte) ([]byte, bool) {
	meta, err := metadata(data)
	if err != nil {
		return nil, false
	}
	var h header
	if json.Unmarshal(meta, &h) != nil {
		return nil, false
	}
	if again, err := json.Marshal(h); err != nil || !bytes.Equal(again, meta) {
		return nil, false
	}
	h.Elapsed = 0
	zero, err := json.Marshal(h)
	if err != nil {
		return nil, false
	}
	out := binary.LittleEndian.AppendUint32(slices.Clone(data[:8]), uint32(len(zero)))
	return slices.Concat(out, zero, data[headerLen+len(meta):]), true
}

// formatError is a decoding error, wrapping ErrFormat.
func formatError(format string, args ...any) error {
	return fmt.Errorf("decode fingerprint: %w: %s", ErrFormat, fmt.Sprintf(format, args...))
}
