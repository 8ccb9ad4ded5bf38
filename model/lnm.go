package model

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/lineage-audit/lineage/internal/regfile"
	"github.com/lineage-audit/lineage/internal/tmpfile"
)

// The .lnm format: Magic, uint32 LE FormatVersion, uint32 LE header
// length, the JSON header, len(Theta) float32 LE, and the SHA-256 of all
// the preceding bytes.
const (
	Magic         = "LNM1\n\x00\x00\x00"
	FormatVersion = 1
	// MaxHeaderLen is the largest JSON header Decode accepts (64 MiB).
	MaxHeaderLen = 64 << 20
	// MaxParams is the largest parameter count Decode accepts.
	MaxParams = 1 << 30
	// MaxFileSize is the largest .lnm file Load and Decode read: the
	// prefix, the largest header, MaxParams float32 values and the
	// checksum.
	MaxFileSize = 16 + MaxHeaderLen + 4*MaxParams + sha256.Size
)

// Sentinel errors wrapped by *FormatError; test with errors.Is.
var (
	ErrMagic     = errors.New("not a lineage model file")
	ErrVersion   = errors.New("unsupported format version")
	ErrChecksum  = errors.New("checksum mismatch")
	ErrTruncated = errors.New("truncated")
	ErrHeader    = errors.New("invalid header")
	ErrTooLarge  = errors.New("too large")
)

// FormatError reports a malformed model file. Path is the file ("" when
// decoding a stream), Problem a human-readable description and Err the
// sentinel (ErrMagic, ErrVersion, ...) or underlying error.
type FormatError struct {
	Path    string
	Problem string
	Err     error
}

// Error returns `model file "PATH": PROBLEM` (or `model data: PROBLEM`
// without a path).
func (e *FormatError) Error() string {
	if e.Path == "" {
		return "model data: " + e.Problem
	}
	return fmt.Sprintf("model file %q: %s", e.Path, e.Problem)
}

// Unwrap returns e.Err.
func (e *FormatError) Unwrap() error { return e.Err }

// lnmHeader is the JSON header; field order is fixed, so the encoding is
// deterministic.
type lnmHeader struct {
	Name          string        `json:"name"`
	Sizes         []int         `json:"sizes"`
	Activation    Activation    `json:"activation"`
	Labels        []string      `json:"labels"`
	Normalization Normalization `json:"normalization"`
	Provenance    Provenance    `json:"provenance"`
	Params        int           `json:"params"`
}

// Encode writes m in the .lnm format. The bytes depend only on m's
// exported fields, so identical models encode identically. It returns an
// error if m is invalid (see Validate).
func Encode(w io.Writer, m *MLP) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("encode model %q: %w", m.Name, err)
	}
	act, _ := ParseActivation(string(m.Act))
	hdr, err := json.Marshal(lnmHeader{
		Name: m.Name, Sizes: m.Sizes, Activation: act, Labels: m.Labels,
		Normalization: m.Norm, Provenance: m.Prov, Params: len(m.Theta),
	})
	if err != nil {
		return fmt.Errorf("encode model %q: header: %w", m.Name, err)
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(w, h), 64<<10)
	var pre [16]byte
	copy(pre[:], Magic)
	binary.LittleEndian.PutUint32(pre[8:], FormatVersion)
	binary.LittleEndian.PutUint32(pre[12:], uint32(len(hdr)))
	bw.Write(pre[:])
	bw.Write(hdr)
	var b [4]byte
	for _, v := range m.Theta {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("encode model %q: %w", m.Name, err)
	}
	if _, err := w.Write(h.Sum(nil)); err != nil {
		return fmt.Errorf("encode model %q: %w", m.Name, err)
	}
	return nil
}

// Decode reads a model in the .lnm format. Malformed input gives a
// *FormatError wrapping ErrMagic, ErrVersion, ErrTruncated, ErrChecksum or
// ErrHeader; read errors are returned wrapped.
func Decode(r io.Reader) (*MLP, error) { return decodeLimited(r, MaxFileSize) }

// decodeLimited is Decode reading at most limit bytes.
func decodeLimited(r io.Reader, limit int64) (*MLP, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("decode model: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, tooLarge("", limit)
	}
	return decodeBytes("", data)
}

// tooLarge is the error for model data over limit bytes.
func tooLarge(path string, limit int64) error {
	return &FormatError{Path: path, Problem: fmt.Sprintf("larger than the limit of %d bytes", limit), Err: ErrTooLarge}
}

// readModelFile reads path, which must be a regular file of at most limit
// bytes: a named pipe or a device such as /dev/zero is refused before it
// is opened (opening a pipe blocks), and reading stops after limit+1 bytes.
// Before reading it all, it returns head's error, if any: head checks what
// the format's first bytes can tell (a wrong file of gigabytes took as
// much memory and many seconds to be refused for its magic bytes).
func readModelFile(path string, limit int64, head func(f *os.File, size int64) error) ([]byte, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	if err := head(f, st.Size()); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(int(st.Size()) + bytes.MinRead)
	if _, err := b.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	if int64(b.Len()) > limit { // the file grew
		return nil, tooLarge(path, limit)
	}
	return b.Bytes(), nil
}

// prefixError returns the error of a .lnm file whose first 16 bytes (all
// of a shorter file) are head, for its magic bytes, version or header
// length; nil when they are right or head is too short to tell.
func prefixError(path string, head []byte) error {
	bad := func(sentinel error, format string, args ...any) error {
		return &FormatError{Path: path, Problem: fmt.Sprintf(format, args...), Err: sentinel}
	}
	if len(head) < len(Magic) && bytes.HasPrefix([]byte(Magic), head) {
		return nil // truncated, which decodeBytes says
	}
	if !bytes.HasPrefix(head, []byte(Magic)) {
		return bad(ErrMagic, "not a lineage model file (bad magic bytes)")
	}
	if len(head) < 16 {
		return nil
	}
	if v := binary.LittleEndian.Uint32(head[8:]); v != FormatVersion {
		return bad(ErrVersion, "format version %d is not supported (want %d)", v, FormatVersion)
	}
	if hlen := binary.LittleEndian.Uint32(head[12:]); hlen > MaxHeaderLen {
		return bad(ErrHeader, "header length %d is absurd (limit %d)", hlen, MaxHeaderLen)
	}
	return nil
}

// readError is err, readModelFile's, with context, unless it is a
// *FormatError, which names the file already.
func readError(context string, err error) error {
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("%s: %w", context, err)
}

// lnmHead is Load's early check (see readModelFile): prefixError of the
// file's first 16 bytes.
func lnmHead(path string) func(f *os.File, size int64) error {
	return func(f *os.File, size int64) error {
		head := make([]byte, min(size, 16))
		if _, err := f.ReadAt(head, 0); err != nil {
			return err
		}
		return prefixError(path, head)
	}
}

func decodeBytes(path string, data []byte) (*MLP, error) {
	bad := func(sentinel error, format string, args ...any) (*MLP, error) {
		return nil, &FormatError{Path: path, Problem: fmt.Sprintf(format, args...), Err: sentinel}
	}
	n := len(data)
	if err := prefixError(path, data[:min(n, 16)]); err != nil {
		return nil, err
	}
	if n < 16 {
		return bad(ErrTruncated, "truncated (%d bytes)", n)
	}
	hlen := uint64(binary.LittleEndian.Uint32(data[12:]))
	if uint64(n) < 16+hlen+sha256.Size {
		return bad(ErrTruncated, "truncated (%d bytes, header alone needs %d)", n, 16+hlen+sha256.Size)
	}
	var hdr lnmHeader
	herr := json.Unmarshal(data[16:16+hlen], &hdr)
	want := int64(-1)
	if l := len(hdr.Sizes) - 1; herr == nil && l > MaxLayers {
		// Refused before the sizes are printed in an error or summed.
		return bad(ErrHeader, "header lists %d layers, at most %d allowed", l, MaxLayers)
	}
	if herr == nil {
		if p := NumParams(hdr.Sizes); p >= 0 && p <= MaxParams {
			want = int64(16+hlen) + 4*int64(p) + sha256.Size
		}
	}
	if want > int64(n) {
		return bad(ErrTruncated, "truncated (%d bytes, want %d)", n, want)
	}
	body := data[:n-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[n-sha256.Size:]) {
		return bad(ErrChecksum, "checksum mismatch (file is corrupted)")
	}
	if herr != nil {
		return bad(ErrHeader, "invalid JSON header: %v", herr)
	}
	if want < 0 {
		return bad(ErrHeader, "invalid layer sizes %v", hdr.Sizes)
	}
	if hdr.Params != NumParams(hdr.Sizes) {
		return bad(ErrHeader, "header says %d parameters but sizes %v need %d", hdr.Params, hdr.Sizes, NumParams(hdr.Sizes))
	}
	if want != int64(n) {
		return bad(ErrHeader, "size mismatch: %d bytes, header implies %d", n, want)
	}
	m := &MLP{
		Name: hdr.Name, Sizes: hdr.Sizes, Act: hdr.Activation, Labels: hdr.Labels,
		Norm: hdr.Normalization, Prov: hdr.Provenance, Theta: make([]float32, hdr.Params),
	}
	raw := data[16+hlen:]
	for i := range m.Theta {
		m.Theta[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	if m.Act == "" {
		return bad(ErrHeader, "header has no activation")
	}
	if err := m.Validate(); err != nil {
		return nil, &FormatError{Path: path, Problem: "inconsistent header: " + err.Error(), Err: fmt.Errorf("%w: %w", ErrHeader, err)}
	}
	return m, nil
}

// Save writes m to path in the .lnm format. It writes a locked temporary
// file in the same directory, syncs it and renames it over path
// (tmpfile.Write), so path never holds a half-written model; the temporary
// is removed on any error, and those of killed runs by the next Save.
func Save(path string, m *MLP) error {
	if err := tmpfile.Write(path, 0o644, func(w io.Writer) error { return Encode(w, m) }); err != nil {
		return fmt.Errorf("save model %q: %w", path, err)
	}
	return nil
}

// Load reads a .lnm model file. Malformed files give a *FormatError
// naming the file and the problem (wrapping ErrTooLarge for files over
// MaxFileSize bytes); paths that are not regular files are refused. The
// model's Info().Source is path.
func Load(path string) (*MLP, error) {
	data, err := readModelFile(path, MaxFileSize, lnmHead(path))
	if err != nil {
		return nil, readError("load model", err)
	}
	m, err := decodeBytes(path, data)
	if err != nil {
		return nil, err
	}
	m.source = path
	return m, nil
}
