package model

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/internal/fifo"
)

func testModel() *MLP {
	m := NewMLP([]int{4, 5, 3}, ActGELU, []string{"a", "b", "c"}, testRNG(21))
	randomize(m, testRNG(22))
	m.Name = "test"
	m.Prov = Provenance{Dataset: "digits", Seed: 7, Temperature: 2, Reveal: "topk:2"}
	return m
}

func encode(t testing.TB, m *MLP) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	m := testModel()
	data := encode(t, m)
	if !bytes.Equal(data, encode(t, m.Clone())) {
		t.Error("encoding is not deterministic")
	}
	if !bytes.HasPrefix(data, []byte(Magic)) {
		t.Errorf("encoding starts %q, want magic %q", data[:8], Magic)
	}
	got, err := Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("Decode(Encode(m)) = %+v, want %+v", got, m)
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.lnm")
	m := testModel()
	if err := Save(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Info().Source != path || got.Info().Hash != m.Info().Hash {
		t.Errorf("Load: Source %q Hash %q, want %q and %q", got.Info().Source, got.Info().Hash, path, m.Info().Hash)
	}
	// Failing saves leave neither a temp file nor a partial model.
	bad := m.Clone()
	bad.Theta = bad.Theta[1:]
	if err := Save(filepath.Join(dir, "bad.lnm"), bad); err == nil {
		t.Error("Save of an invalid model succeeded")
	}
	if err := Save(dir, m); err == nil { // rename onto a directory fails
		t.Error("Save onto a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v after failed saves, want only m.lnm", names)
	}
}

// reseal recomputes the checksum of a modified encoding.
func reseal(data []byte) []byte {
	body := data[:len(data)-32]
	sum := sha256.Sum256(body)
	return append(append([]byte(nil), body...), sum[:]...)
}

// withHeader returns the encoding data with old replaced by new in its
// JSON header, the header length and checksum fixed up.
func withHeader(data []byte, old, new string) []byte {
	hlen := binary.LittleEndian.Uint32(data[12:])
	hdr := string(data[16 : 16+hlen])
	if !strings.Contains(hdr, old) {
		panic("withHeader: header lacks " + old)
	}
	hdr = strings.Replace(hdr, old, new, 1)
	out := append([]byte(nil), data[:16]...)
	binary.LittleEndian.PutUint32(out[12:], uint32(len(hdr)))
	out = append(out, hdr...)
	out = append(out, data[16+hlen:]...)
	return reseal(out)
}

func TestDecodeErrors(t *testing.T) {
	good := encode(t, testModel())
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	m := testModel()
	m.Norm.Std[2] = 1e-30 // valid; 1e-39 is not
	smallStd := encode(t, m)
	tests := []struct {
		name     string
		data     []byte
		sentinel error
		problem  string
	}{
		{"empty", nil, ErrTruncated, "truncated"},
		{"magic prefix", good[:5], ErrTruncated, "truncated"},
		{"wrong magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), ErrMagic, "not a lineage model file"},
		{"safetensors", []byte("\x10\x00\x00\x00\x00\x00\x00\x00{}"), ErrMagic, "bad magic"},
		{"wrong version", mod(func(b []byte) []byte { b[8] = 2; return b }), ErrVersion, "format version 2 is not supported"},
		{"absurd header", mod(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[12:], 1<<31); return b }), ErrHeader, "absurd"},
		{"truncated header", good[:20], ErrTruncated, "truncated"},
		{"truncated theta", good[:len(good)-40], ErrTruncated, "truncated"},
		{"truncated checksum", good[:len(good)-1], ErrTruncated, "truncated"},
		{"bit flip theta", mod(func(b []byte) []byte { b[len(b)-40] ^= 4; return b }), ErrChecksum, "checksum mismatch (file is corrupted)"},
		{"bit flip header", mod(func(b []byte) []byte { b[20] ^= 1; return b }), ErrChecksum, "checksum mismatch"},
		{"trailing data", append(append([]byte(nil), good...), 0), ErrChecksum, "checksum mismatch"},
		{"params mismatch", withHeader(good, `"params":43`, `"params":44`), ErrHeader, "header says 44 parameters"},
		{"extra theta", mod(func(b []byte) []byte {
			body := append(b[:len(b)-32:len(b)-32], 0, 0, 0, 0)
			return reseal(append(body, make([]byte, 32)...))
		}), ErrHeader, "size mismatch"},
		{"bad json", mod(func(b []byte) []byte { b[16] = '['; return reseal(b) }), ErrHeader, "invalid JSON header"},
		{"label count", withHeader(good, `"c"]`, `"c","d"]`), ErrHeader, "4 labels for 3 outputs"},
		{"no activation", withHeader(good, `"activation":"gelu",`, ``), ErrHeader, "no activation"},
		{"bad sizes", withHeader(good, `"sizes":[4,5,3]`, `"sizes":[4,-5,3]`), ErrHeader, "invalid layer sizes"},
		{"NaN weight", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[len(b)-36:], math.Float32bits(float32(math.NaN())))
			return reseal(b)
		}), ErrHeader, "inconsistent header: parameter 42 is NaN, want a finite number"},
		{"Inf weight", mod(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[len(b)-36-4*42:], math.Float32bits(float32(math.Inf(-1))))
			return reseal(b)
		}), ErrHeader, "inconsistent header: parameter 0 is -Inf, want a finite number"},
		{"duplicate labels", withHeader(good, `"c"]`, `"a"]`), ErrHeader, `inconsistent header: label "a" repeated (outputs 0 and 2)`},
		{"tiny deviation", withHeader(smallStd, `1e-30`, `1e-39`), ErrHeader,
			"inconsistent header: normalisation deviation 2 is 1e-39, too small: dividing by it overflows float32"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeBytes("x.lnm", tc.data)
			var fe *FormatError
			if !errors.As(err, &fe) || !errors.Is(err, tc.sentinel) {
				t.Fatalf("err = %v, want *FormatError wrapping %v", err, tc.sentinel)
			}
			if !strings.HasPrefix(err.Error(), `model file "x.lnm": `) || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("err = %q, want it to name the file and contain %q", err, tc.problem)
			}
		})
	}
}

func TestLoadSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe.lnm")
	if err := fifo.Make(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	sub := filepath.Join(dir, "dir.lnm")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		load func(string) (*MLP, error)
		want string
	}{
		{pipe, Load, `load model: "` + pipe + `" is a named pipe, not a regular file`},
		{pipe, LoadSafetensors, `load safetensors: "` + pipe + `" is a named pipe, not a regular file`},
		{sub, Load, `load model: "` + sub + `" is a directory, not a regular file`},
		{"/dev/zero", Load, `load model: "/dev/zero" is a device, not a regular file`},
	}
	for _, tt := range tests {
		if _, err := os.Stat(tt.path); err != nil {
			continue // no /dev/zero
		}
		done := make(chan error, 1)
		go func() { _, err := tt.load(tt.path); done <- err }()
		select {
		case err := <-done:
			if err == nil || err.Error() != tt.want {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("loading %s did not return", tt.path)
		}
	}
}

func TestReadModelFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lnm")
	data := encode(t, testModel())
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit int64
		want  string
	}{
		{int64(len(data)), ""},
		{int64(len(data)) - 1, `model file "` + path + `": larger than the limit of ` + strconv.Itoa(len(data)-1) + ` bytes`},
	}
	for _, tt := range tests {
		got, err := readModelFile(path, tt.limit, lnmHead(path))
		switch {
		case tt.want == "" && (err != nil || !bytes.Equal(got, data)):
			t.Errorf("limit %d: got %d bytes, %v; want the file", tt.limit, len(got), err)
		case tt.want != "" && (err == nil || err.Error() != tt.want || !errors.Is(err, ErrTooLarge)):
			t.Errorf("limit %d: got %v, want %q wrapping ErrTooLarge", tt.limit, err, tt.want)
		}
	}
	// Decode stops reading a stream after its limit (MaxFileSize).
	_, err := decodeLimited(io.MultiReader(bytes.NewReader(data), zeros{}), 1<<20)
	if !errors.Is(err, ErrTooLarge) || err.Error() != "model data: larger than the limit of 1048576 bytes" {
		t.Errorf("endless stream: got %v, want ErrTooLarge", err)
	}
}

// TestLoadLargeWrongFile checks that a large file that is not a model (a
// sparse 1 GiB file here) is refused from its first bytes, before it is
// read (allocating less than 1 MiB): Load took 2 GB and 13 s to refuse a 2 GB file for its magic bytes,
// LoadSafetensors as long for its header. The messages are those of
// decoding the whole file.
func TestLoadLargeWrongFile(t *testing.T) {
	dir := t.TempDir()
	hdr := `{"layers.0.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}`
	tests := []struct {
		name string
		head []byte
		load func(string) (*MLP, error)
		want string
	}{
		{"zeros.lnm", nil, Load, "not a lineage model file (bad magic bytes)"},
		{"v9.lnm", append([]byte(Magic), 9, 0, 0, 0, 10, 0, 0, 0), Load, "format version 9 is not supported (want 1)"},
		{"zeros.safetensors", nil, LoadSafetensors, "safetensors: invalid JSON header: unexpected end of JSON input"},
		{"text.safetensors", []byte("hello, world"), LoadSafetensors, "safetensors: header length 8583909746840200552 is absurd"},
		{"nobias.safetensors", stFile(hdr, nil), LoadSafetensors, "safetensors: tensor layers.0.bias is missing (an nn.Linear(bias=False)? write a bias of zeros)"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Write(tt.head)
		if err == nil {
			err = f.Truncate(1 << 30)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = tt.load(path)
		runtime.ReadMemStats(&after)
		if want := `model file "` + path + `": ` + tt.want; err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", tt.name, err, want)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: %d bytes allocated to refuse it: the file was read", tt.name, n)
		}
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestLoadChecksumMessage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lnm")
	data := encode(t, testModel())
	data[30] ^= 0x10
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := `model file "` + path + `": checksum mismatch (file is corrupted)`
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %q", err, want)
	}
}

func FuzzDecode(f *testing.F) {
	good := encode(f, testModel())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(encode(f, NewMLP([]int{1, 1}, ActTanh, nil, testRNG(1))))
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data) })
}

// checkDecode decodes data as a fuzz target does: a refusal must be a
// *FormatError, and a decoded model must encode, decode back to itself and
// re-encode to identical bytes. It returns the model, or nil when refused.
func checkDecode(t *testing.T, data []byte) *MLP {
	t.Helper()
	m, err := Decode(bytes.NewReader(data))
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("Decode error %v is not a *FormatError", err)
		}
		return nil
	}
	again := encode(t, m)
	m2, err := Decode(bytes.NewReader(again))
	if err != nil {
		t.Fatalf("Decode(Encode(m)): %v", err)
	}
	if !bytes.Equal(again, encode(t, m2)) {
		t.Fatalf("encoding is not deterministic")
	}
	return m
}

func BenchmarkEncode(b *testing.B) {
	m := NewMLP([]int{64, 256, 256, 10}, ActReLU, nil, testRNG(1))
	b.ReportAllocs()
	for b.Loop() {
		if err := Encode(&bytes.Buffer{}, m); err != nil {
			b.Fatal(err)
		}
	}
}
