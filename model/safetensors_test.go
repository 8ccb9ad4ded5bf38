package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// TestSafetensorsFixture loads files written by testdata/make_safetensors.py
// (numpy only) and checks the predictions numpy computed.
func TestSafetensorsFixture(t *testing.T) {
	tests := []struct {
		file, name string
		act        Activation
		norm       bool
	}{
		{"tiny_gelu", "tiny-gelu", ActGELU, true},
		{"tiny_nometa", "", ActReLU, false},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m, err := LoadSafetensors(filepath.Join("testdata", tc.file+".safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(filepath.Join("testdata", tc.file+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Sizes  []int
				Labels []string
				X, P   [][]float64
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.Sizes, want.Sizes) || !reflect.DeepEqual(m.Labels, want.Labels) ||
				m.Act != tc.act || m.Name != tc.name || (m.Norm.Std != nil) != tc.norm {
				t.Fatalf("loaded sizes %v labels %v act %q name %q norm %v; want %v %v %q %q %v",
					m.Sizes, m.Labels, m.Act, m.Name, m.Norm, want.Sizes, want.Labels, tc.act, tc.name, tc.norm)
			}
			d := want.Sizes[0]
			x := blas32.General{Rows: len(want.X), Cols: d, Stride: d}
			for _, row := range want.X {
				for _, v := range row {
					x.Data = append(x.Data, float32(v))
				}
			}
			p, err := m.Predict(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			for i, row := range want.P {
				for j, w := range row {
					if got := float64(p.Data[i*p.Stride+j]); math.Abs(got-w) > 1e-5 {
						t.Errorf("p[%d,%d] = %.7f, numpy %.7f", i, j, got, w)
					}
				}
			}
		})
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	m := testModel()
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := SaveSafetensors(path, m); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	got.source = ""
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip = %+v, want %+v", got, m)
	}
	a, _ := EncodeSafetensors(m)
	b, _ := EncodeSafetensors(m.Clone())
	if !bytes.Equal(a, b) {
		t.Error("safetensors encoding is not deterministic")
	}
	if hl := binary.LittleEndian.Uint64(a); (8+hl)%8 != 0 {
		t.Errorf("header length %d leaves the data unaligned", hl)
	}
}

// stFile builds a safetensors file from a header and data.
func stFile(header string, data []byte) []byte {
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(out, header...), data...)
}

func TestSafetensorsDtypes(t *testing.T) {
	// A 1-1 network w=2, b=-0.5 in each dtype.
	tests := []struct {
		dtype string
		w, b  []byte
	}{
		{"F32", binary.LittleEndian.AppendUint32(nil, math.Float32bits(2)), binary.LittleEndian.AppendUint32(nil, math.Float32bits(-0.5))},
		{"F64", binary.LittleEndian.AppendUint64(nil, math.Float64bits(2)), binary.LittleEndian.AppendUint64(nil, math.Float64bits(-0.5))},
		{"BF16", []byte{0x00, 0x40}, []byte{0x00, 0xbf}},
		{"F16", []byte{0x00, 0x40}, []byte{0x00, 0xb8}},
	}
	for _, tc := range tests {
		n := len(tc.w)
		hdr := fmt.Sprintf(`{"layers.0.weight":{"dtype":"%s","shape":[1,1],"data_offsets":[0,%d]},"layers.0.bias":{"dtype":"%s","shape":[1],"data_offsets":[%d,%d]}}`,
			tc.dtype, n, tc.dtype, n, 2*n)
		m, err := DecodeSafetensors(stFile(hdr, append(append([]byte(nil), tc.w...), tc.b...)))
		if err != nil {
			t.Errorf("%s: %v", tc.dtype, err)
			continue
		}
		if want := []float32{2, -0.5}; !reflect.DeepEqual(m.Theta, want) {
			t.Errorf("%s: Theta = %v, want %v", tc.dtype, m.Theta, want)
		}
	}
	if got := HalfToFloat32(0x0001); got != float32(math.Ldexp(1, -24)) {
		t.Errorf("smallest F16 subnormal = %v, want 2^-24", got)
	}
}

func TestSafetensorsErrors(t *testing.T) {
	w := `"layers.0.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}`
	b := `"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}`
	data := make([]byte, 16)
	tests := []struct {
		name    string
		file    []byte
		problem string
	}{
		{"short", []byte{1, 2}, "truncated"},
		{"absurd header", binary.LittleEndian.AppendUint64(nil, 1<<40), "absurd"},
		{"header past end", binary.LittleEndian.AppendUint64(nil, 100), "truncated"},
		{"bad json", stFile("{", nil), "invalid JSON header"},
		{"no layers", stFile(`{"fc.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}}`, data), "no tensor layers.0.weight"},
		{"missing bias", stFile("{"+w+"}", data), "layers.0.bias is missing"},
		{"bad dtype", stFile("{"+strings.Replace(w, "F32", "I8", 1)+","+b+"}", data), "dtype I8 is not supported"},
		{"offsets outside", stFile("{"+w+","+b+"}", data[:12]), "outside"},
		{"offsets size", stFile("{"+strings.Replace(w, "[0,8]", "[0,4]", 1)+","+b+"}", data), "needs 8"},
		{"chain", stFile("{"+w+","+b+`,"layers.1.weight":{"dtype":"F32","shape":[1,3],"data_offsets":[0,12]},"layers.1.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data), "layer 1 takes 3 inputs"},
		{"bad activation", stFile(`{"__metadata__":{"activation":"swish"},`+w+","+b+"}", data), `activation "swish"`},
		{"gap", stFile("{"+w+","+b+`,"layers.2.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"layers.2.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data), "tensor layers.2.bias comes after a missing layers.1.weight"},
		{"bias without weight", stFile("{"+w+","+b+`,"layers.1.bias":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, data), "tensor layers.1.bias comes after a missing layers.1.weight"},
		{"labels", stFile(`{"__metadata__":{"labels":"[\"a\"]"},`+w+","+b+"}", data), "1 labels for 2 outputs"},
		{"long name", stFile(`{"__metadata__":{"name":"`+strings.Repeat("n", 2000)+`"},`+w+","+b+"}", data), "name is 2000 bytes long, at most 1024 allowed"},
		// The reference implementation refuses these too: the data
		// buffer must be tiled by the tensors, whichever they are.
		{"bytes appended", stFile("{"+w+","+b+"}", make([]byte, 20)), "the data buffer has 4 bytes after its last tensor (20 bytes, tensors end at 16)"},
		{"overlap", stFile("{"+w+","+b+`,"extra":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, data), "overlap in the data buffer"},
		{"hole", stFile("{"+w+","+strings.Replace(b, "[8,16]", "[12,20]", 1)+"}", make([]byte, 20)), "bytes 8 to 12 of the data buffer belong to no tensor"},
		{"other tensor without offsets", stFile("{"+w+","+b+`,"extra":{"dtype":"F32","shape":[1]}}`, data), "tensor extra has no data_offsets"},
		// An ignored tensor's offsets are not checked by checkTensor:
		// one starting before the buffer was an index out of range.
		// It was read as +Inf and refused as "parameter 1 is +Inf", a
		// value the file does not hold.
		{"F64 beyond float32", stFile(`{"layers.0.weight":{"dtype":"F64","shape":[2,1],"data_offsets":[0,16]},"layers.0.bias":{"dtype":"F64","shape":[2],"data_offsets":[16,32]}}`,
			slices.Concat(binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.5)), binary.LittleEndian.AppendUint64(nil, math.Float64bits(-1e300)), make([]byte, 16))),
			"layers.0.weight: value 1 is -1e+300, beyond float32's range (3.4e38), in which lineage computes"},
		{"other tensor before the buffer", stFile("{"+w+","+b+`,"extra":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}`, data), "tensor extra has data offsets [-4, 0] outside the buffer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeSafetensors("f.safetensors", tc.file)
			var fe *FormatError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.problem) || !strings.HasPrefix(err.Error(), `model file "f.safetensors": safetensors: `) {
				t.Errorf("err = %v, want a *FormatError naming the file and containing %q", err, tc.problem)
			}
		})
	}
}

func FuzzDecodeSafetensors(f *testing.F) {
	good, _ := EncodeSafetensors(testModel())
	f.Add(good)
	f.Add(good[:40])
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeSafetensors(data)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("DecodeSafetensors error %v is not a *FormatError", err)
			}
			return
		}
		enc, err := EncodeSafetensors(m)
		if err != nil {
			t.Fatalf("EncodeSafetensors of a decoded model: %v", err)
		}
		m2, err := DecodeSafetensors(enc)
		if err != nil {
			t.Fatalf("DecodeSafetensors(EncodeSafetensors(m)): %v", err)
		}
		if enc2, _ := EncodeSafetensors(m2); !bytes.Equal(enc, enc2) {
			t.Fatal("round trip changed the encoding")
		}
	})
}

// TestSafetensorsIgnoresOtherTensors checks that tensors outside the
// layers.{i}.weight/bias numbering (an optimizer's state, a buffer) are
// still ignored now that a gap in the numbering is refused.
func TestSafetensorsIgnoresOtherTensors(t *testing.T) {
	hdr := `{"layers.0.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},` +
		`"layers.0.scale":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},"head.weight":{"dtype":"I8","shape":[1],"data_offsets":[20,21]},"layers.x.weight":{"dtype":"F32","shape":[1],"data_offsets":[21,25]}}`
	m, err := DecodeSafetensors(stFile(hdr, make([]byte, 25)))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Sizes, []int{1, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("Sizes = %v, want %v", got, want)
	}
}
