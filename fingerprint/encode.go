package fingerprint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

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
func Decode(data []byte) (*Fingerprint, error) {
	bad := func(format string, args ...any) (*Fingerprint, error) {
		return nil, fmt.Errorf("decode fingerprint: %w: %s", ErrFormat, fmt.Sprintf(format, args...))
	}
	if len(data) < headerLen {
		return bad("%d bytes is shorter than the %d-byte header", len(data), headerLen)
	}
	if string(data[:4]) != Magic {
		return bad("magic %q, want %q", data[:4], Magic)
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != Version {
		return bad("version %d, want %d", v, Version)
	}
	form := data[6]
	if form > formSparse32 {
		return bad("unknown form %d", form)
	}
	if data[7] != 0 {
		return bad("reserved byte is %d", data[7])
	}
	n := uint64(binary.LittleEndian.Uint32(data[8:]))
	rest := data[headerLen:]
	if n > maxMetaLen || n > uint64(len(rest)) {
		return bad("metadata length %d exceeds the %d bytes left", n, len(rest))
	}
	var h header
	if err := json.Unmarshal(rest[:n], &h); err != nil {
		return bad("metadata: %v", err)
	}
	payload := rest[n:]
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
	fp := Fingerprint{ID: h.ID, Suite: h.Suite, Model: h.Model, TopK: h.TopK, Queries: h.Queries,
		Elapsed: h.Elapsed, Meta: h.Meta, Hash: h.Hash}
	fp.P.Rows, fp.P.Cols, fp.P.Stride = rows, cols, cols
	switch form {
	case formDense:
		if want := uint64(rows) * uint64(cols) * 4; uint64(len(payload)) != want {
			return bad("dense payload is %d bytes, want %d", len(payload), want)
		}
		fp.P.Data = make([]float32, rows*cols)
		for i := range fp.P.Data {
			fp.P.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(payload[4*i:]))
		}
	default:
		iw := 2
		if form == formSparse32 {
			iw = 4
		}
		if k == 0 || k >= cols || (iw == 2) != (cols <= 1<<16) {
			return bad("sparse form with top-k %d of %d labels and %d-byte indices", k, cols, iw)
		}
		per := uint64(k)*uint64(iw+4) + 4
		if want := uint64(rows) * per; uint64(len(payload)) != want {
			return bad("sparse payload is %d bytes, want %d", len(payload), want)
		}
		fp.P.Data = make([]float32, rows*cols)
		for i := 0; i < rows; i++ {
			rec := payload[uint64(i)*per:]
			row := fp.P.Data[i*cols : (i+1)*cols]
			fill := math.Float32frombits(binary.LittleEndian.Uint32(rec[per-4:]))
			for j := range row {
				row[j] = fill
			}
			prev := -1
			for e := 0; e < k; e++ {
				var j int
				if iw == 2 {
					j = int(binary.LittleEndian.Uint16(rec[e*(iw+4):]))
				} else {
					j = int(binary.LittleEndian.Uint32(rec[e*(iw+4):]))
				}
				if j <= prev || j >= cols {
					return bad("row %d: index %d out of order or range", i, j)
				}
				prev = j
				row[j] = math.Float32frombits(binary.LittleEndian.Uint32(rec[e*(iw+4)+iw:]))
			}
		}
	}
	return &fp, nil
}
