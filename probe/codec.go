package probe

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// Magic starts every encoded suite.
const Magic = "LNPS1\n\x00\x00"

// FormatVersion is the encoding version Encode writes and Decode accepts.
const FormatVersion = 1

// Errors wrapped by Decode.
var (
	// ErrFormat is wrapped by every Decode error about malformed input.
	ErrFormat = errors.New("malformed probe suite encoding")
	// ErrChecksum is wrapped (with ErrFormat) when the trailing SHA-256
	// does not match.
	ErrChecksum = errors.New("probe suite checksum mismatch")
)

// header is the JSON header of an encoded suite.
type header struct {
	Name       string      `json:"name,omitempty"`
	Rows       int         `json:"rows"`
	Cols       int         `json:"cols"`
	Labels     []string    `json:"labels"`
	Kinds      []Kind      `json:"kinds"`
	Generators []Generator `json:"generators"`
	Hash       string      `json:"hash"`
}

// Encode writes s in the binary suite format: Magic (8 bytes), the format
// version and the header length as uint32 LE, a JSON header (name, rows,
// cols, labels, kinds, generators, hash), every probe value as float32 LE
// row by row, and the SHA-256 of everything before it. It validates s
// first (errors wrap ErrInvalid).
func Encode(w io.Writer, s *Suite) error {
	if err := Validate(s); err != nil {
		return fmt.Errorf("probe: encode: %w", err)
	}
	hdr, err := json.Marshal(header{
		Name: s.Name, Rows: s.X.Rows, Cols: s.X.Cols, Labels: s.Labels,
		Kinds: s.Kinds, Generators: s.Generators, Hash: s.Hash,
	})
	if err != nil {
		return fmt.Errorf("probe: encode header: %w", err)
	}
	buf := make([]byte, 0, len(Magic)+8+len(hdr)+4*s.X.Rows*s.X.Cols+sha256.Size)
	buf = append(buf, Magic...)
	buf = binary.LittleEndian.AppendUint32(buf, FormatVersion)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(hdr)))
	buf = append(buf, hdr...)
	for i := 0; i < s.X.Rows; i++ {
		for _, v := range s.Row(i) {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	sum := sha256.Sum256(buf)
	buf = append(buf, sum[:]...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("probe: encode: %w", err)
	}
	return nil
}

// Decode reads a suite written by Encode. Malformed input gives an error
// wrapping ErrFormat (and ErrChecksum for a bad checksum); a well-formed
// encoding of an invalid suite gives one wrapping ErrInvalid (a *HashError
// when the contents do not match the stored hash).
func Decode(r io.Reader) (*Suite, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("probe: decode: %w", err)
	}
	const fixed = len(Magic) + 8
	if len(b) < fixed+sha256.Size {
		return nil, fmt.Errorf("probe: decode: %d bytes is too short: %w", len(b), ErrFormat)
	}
	if string(b[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("probe: decode: bad magic %q: %w", b[:len(Magic)], ErrFormat)
	}
	if v := binary.LittleEndian.Uint32(b[len(Magic):]); v != FormatVersion {
		return nil, fmt.Errorf("probe: decode: format version %d, want %d: %w", v, FormatVersion, ErrFormat)
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("probe: decode: %w: %w", ErrFormat, ErrChecksum)
	}
	hlen := uint64(binary.LittleEndian.Uint32(b[len(Magic)+4:]))
	if hlen > uint64(len(body)-fixed) {
		return nil, fmt.Errorf("probe: decode: header of %d bytes overruns the input: %w", hlen, ErrFormat)
	}
	var h header
	if err := json.Unmarshal(body[fixed:fixed+int(hlen)], &h); err != nil {
		return nil, fmt.Errorf("probe: decode header: %w: %w", ErrFormat, err)
	}
	vals := body[fixed+int(hlen):]
	if h.Rows < 0 || h.Cols < 0 || (h.Cols > 0 && h.Rows > len(vals)/4/h.Cols) || 4*h.Rows*h.Cols != len(vals) {
		return nil, fmt.Errorf("probe: decode: %d value bytes for %d×%d probes: %w", len(vals), h.Rows, h.Cols, ErrFormat)
	}
	x := blas32.General{Rows: h.Rows, Cols: h.Cols, Stride: h.Cols, Data: make([]float32, h.Rows*h.Cols)}
	for i := range x.Data {
		x.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(vals[4*i:]))
	}
	s := &Suite{Name: h.Name, Labels: h.Labels, X: x, Kinds: h.Kinds, Generators: h.Generators, Hash: h.Hash}
	if err := Validate(s); err != nil {
		return nil, fmt.Errorf("probe: decode: %w", err)
	}
	return s, nil
}
