package serve

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestParseFloats(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"[1,2,3]", "[1 2 3]", false},
		{" [ [1, 2] ,[3,4] ] ", "[1 2 3 4]", false},
		{"[[[0.5]]]", "[0.5]", false},
		{"[]", "[]", false},
		{"7", "[7]", false},
		{"[-0,1e-3,2E+2,-1.5e-7]", "[-0 0.001 200 -1.5e-07]", false},
		{"[1,]", "", true},
		{"[1 2]", "", true},
		{"[1]]", "", true},
		{"[[1]", "", true},
		{"[1][2]", "", true},
		{"[01]", "", true},
		{"[1.]", "", true},
		{"[.5]", "", true},
		{"[0x10]", "", true},
		{`["1"]`, "", true},
		{"[NaN]", "", true},
		{"[Infinity]", "", true},
		{"[null]", "", true},
		{"[3.5e38]", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseFloats(nil, []byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseFloats(%q): error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && fmt.Sprint(got) != tt.want {
			t.Errorf("ParseFloats(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if _, err := ParseFloats(nil, []byte("[1,NaN]")); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN: error %v, want ErrNonFinite", err)
	}
}

// TestParseFloatsErrors checks what ParseFloats says of a token that is
// no float32: which value (counting from 0, however nested) and what is
// wrong with it, the token shown as written, on one line; it said "value
// 1 at offset 3: 1e+308: non-finite value" of a finite float64 beyond
// the float32 range.
func TestParseFloatsErrors(t *testing.T) {
	tests := []struct {
		in        string
		want      string
		nonFinite bool // wraps ErrNonFinite
	}{
		{"[1,1e308]", "value 1: 1e308 is out of float32 range", true},
		{"[3.5e38]", "value 0: 3.5e38 is out of float32 range", true},
		{"[[1],[2,NaN]]", "value 2: NaN is not a number", true},
		{"[-Infinity]", "value 0: -Infinity is not a finite number", true},
		{"[0,null]", "value 1: null is not a number", true},
		{`[0.5,"0.1"]`, `value 1: "0.1" is not a number`, false},
		{"[0x10]", "value 0: 0x10 is not a number", false},
		{"[\"a\x1bb\"]", `value 0: "\"a\x1bb\"" is not a number`, false},
		{"[" + strings.Repeat("9", 40) + "x]", "value 0: " + strings.Repeat("9", 32) + "… is not a number", false},
	}
	for _, tt := range tests {
		_, err := ParseFloats(nil, []byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseFloats(%q): got error %v, want %q", tt.in, err, tt.want)
			continue
		}
		var ve *ValueError
		if !errors.As(err, &ve) {
			t.Errorf("ParseFloats(%q): got error %T, want a *ValueError", tt.in, err)
		}
		if got := errors.Is(err, ErrNonFinite); got != tt.nonFinite {
			t.Errorf("ParseFloats(%q): got ErrNonFinite %v, want %v", tt.in, got, tt.nonFinite)
		}
	}
}

func TestAppendFloatsRoundTrip(t *testing.T) {
	v := []float32{0, float32(math.Copysign(0, -1)), 1, 0.1, 1.0 / 3, math.MaxFloat32, math.SmallestNonzeroFloat32, -2.5e-20, 16777217}
	got, err := ParseFloats(nil, AppendFloats(nil, v))
	if err != nil {
		t.Fatal(err)
	}
	for i := range v {
		if math.Float32bits(got[i]) != math.Float32bits(v[i]) {
			t.Errorf("value %d: got %v, want %v", i, got[i], v[i])
		}
	}
}

// TestDecodeRequestHugeShape sends a shape of 10⁹ rows with one value:
// the request is refused without allocating for the rows it claims (it
// used to allocate 7.6 GB before counting the values).
func TestDecodeRequestHugeShape(t *testing.T) {
	body := []byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1000000000,2],"data":[1]}]}`)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := DecodeRequest(body, 2)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("DecodeRequest accepted one value for 10⁹ rows")
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("DecodeRequest of a %d-byte body allocated %d bytes", len(body), n)
	}
}

// FuzzFloats checks that every finite float32 survives AppendFloats then
// ParseFloats bit for bit.
func FuzzFloats(f *testing.F) {
	f.Add(uint32(0x3f800000), uint32(0x80000000))
	f.Add(uint32(0x00000001), uint32(0x7f7fffff))
	f.Fuzz(func(t *testing.T, a, b uint32) {
		v := []float32{math.Float32frombits(a), math.Float32frombits(b)}
		if math.IsNaN(float64(v[0])) || math.IsInf(float64(v[0]), 0) || math.IsNaN(float64(v[1])) || math.IsInf(float64(v[1]), 0) {
			return
		}
		got, err := ParseFloats(nil, AppendFloats(nil, v))
		if err != nil {
			t.Fatal(err)
		}
		for i := range v {
			if math.Float32bits(got[i]) != math.Float32bits(v[i]) {
				t.Fatalf("value %d: got %v, want %v", i, got[i], v[i])
			}
		}
	})
}

// FuzzDecodeRequest feeds arbitrary bodies to DecodeRequest: it must never
// panic, and any request it accepts must re-encode to one that decodes to
// the same id and bit-identical batch.
func FuzzDecodeRequest(f *testing.F) {
	f.Add([]byte(`{"id":"x","inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP64","shape":[2,2],"data":[[1,2],[3,4e-3]]}]}`))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[2],"data":[1,NaN]}]}`))
	f.Add([]byte(`{"inputs":[{"shape":[0,2],"datatype":"FP32","data":[]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		id, x, err := DecodeRequest(body, 2)
		if err != nil {
			return
		}
		if x.Rows*x.Cols != len(x.Data) || x.Cols != 2 {
			t.Fatalf("accepted batch %dx%d with %d values", x.Rows, x.Cols, len(x.Data))
		}
		re := encodeRequest(id, x)
		id2, x2, err := DecodeRequest(re, 2)
		if err != nil {
			t.Fatalf("re-encoded request %s rejected: %v", re, err)
		}
		if id2 != id || x2.Rows != x.Rows {
			t.Fatalf("round trip: id %q rows %d, want %q %d", id2, x2.Rows, id, x.Rows)
		}
		for i := range x.Data {
			if math.Float32bits(x.Data[i]) != math.Float32bits(x2.Data[i]) {
				t.Fatalf("value %d: %v became %v", i, x.Data[i], x2.Data[i])
			}
		}
	})
}

// FuzzEncodeResponse round-trips EncodeResponse through encoding/json and
// ParseFloats, as a client reads it: the model name, id, shape and
// datatype come back as given, and every finite value (in row-major order,
// whatever the stride) bit for bit; a non-finite one is written as null.
func FuzzEncodeResponse(f *testing.F) {
	f.Add("m", "7", []byte(le32(0.25, 0.75, 1, 0)), uint8(2), uint8(1))
	f.Add("", "", []byte(le32(1, 0, 0)), uint8(3), uint8(0))
	f.Add("a \"b\"\n", "\u2028", []byte{}, uint8(1), uint8(2))
	f.Fuzz(func(t *testing.T, name, id string, raw []byte, cols, pad uint8) {
		if !utf8.ValidString(name) || !utf8.ValidString(id) {
			return // encoding/json writes invalid UTF-8 as U+FFFD
		}
		k := int(cols%8) + 1
		stride := k + int(pad%3)
		rows := len(raw) / 4 / stride
		p := blas32.General{Rows: rows, Cols: k, Stride: stride, Data: make([]float32, rows*stride)}
		for i := range p.Data {
			p.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		body := EncodeResponse(nil, name, id, p)
		var resp InferenceResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("EncodeResponse wrote %s: %v", body, err)
		}
		if resp.ModelName != name || resp.ID != id || len(resp.Outputs) != 1 {
			t.Fatalf("%s: got model %q, id %q, %d outputs; want %q, %q, 1", body, resp.ModelName, resp.ID, len(resp.Outputs), name, id)
		}
		out := resp.Outputs[0]
		if out.Name != OutputName || out.Datatype != "FP32" || len(out.Shape) != 2 || out.Shape[0] != int64(rows) || out.Shape[1] != int64(k) {
			t.Fatalf("output %q %s %v, want %q FP32 [%d %d]", out.Name, out.Datatype, out.Shape, OutputName, rows, k)
		}
		var vals []json.RawMessage
		if err := json.Unmarshal(out.Data, &vals); err != nil || len(vals) != rows*k {
			t.Fatalf("data %s: %d values, want %d (%v)", out.Data, len(vals), rows*k, err)
		}
		for i := range rows {
			for j := range k {
				v, tok := p.Data[i*stride+j], vals[i*k+j]
				if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
					if string(tok) != "null" {
						t.Errorf("value %d,%d: %v written as %s, want null", i, j, v, tok)
					}
					continue
				}
				got, err := ParseFloats(nil, tok)
				if err != nil || len(got) != 1 || math.Float32bits(got[0]) != math.Float32bits(v) {
					t.Errorf("value %d,%d: %v written as %s, read back as %v (%v)", i, j, v, tok, got, err)
				}
			}
		}
	})
}

func encodeRequest(id string, x blas32.General) []byte {
	b, _ := EncodeRequest(id, InputName, OutputName, x, false)
	return b
}

func BenchmarkEncodeResponse(b *testing.B) {
	p := blas32.General{Rows: 64, Cols: 10, Stride: 10, Data: make([]float32, 640)}
	for i := range p.Data {
		p.Data[i] = float32(i%10+1) / 55
	}
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf = EncodeResponse(buf[:0], "m", "1", p)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkDecodeRequest(b *testing.B) {
	x := blas32.General{Rows: 64, Cols: 64, Stride: 64, Data: make([]float32, 64*64)}
	for i := range x.Data {
		x.Data[i] = float32(i%17) / 16
	}
	body := encodeRequest("1", x)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := DecodeRequest(body, 64); err != nil {
			b.Fatal(err)
		}
	}
}
