package serve

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// binaryRequest encodes x as a binary-extension request: the JSON header
// and the header's length.
func binaryRequest(id string, x blas32.General, binaryOut bool) ([]byte, int) {
	b := []byte(`{"id":`)
	b = appendString(b, id)
	b = fmt.Appendf(b, `,"inputs":[{"name":"input","datatype":"FP32","shape":[%d,%d],"parameters":{"binary_data_size":%d}}]`, x.Rows, x.Cols, 4*x.Rows*x.Cols)
	if binaryOut {
		b = append(b, `,"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]`...)
	}
	b = append(b, '}')
	n := len(b)
	return AppendFloat32LE(b, x), n
}

func le32(v ...float32) string {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return string(b)
}

func le64(v ...float64) string {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return string(b)
}

func TestParseRequestBinary(t *testing.T) {
	const in = `{"inputs":[{"name":"input","datatype":"FP32","shape":[2,2],"parameters":{"binary_data_size":16}}]}`
	tests := []struct {
		name    string
		head    string
		bin     string
		want    string // fmt of the batch, or "" for an error
		wantOut bool
		wantErr string
	}{
		{"fp32", in, le32(1, 2, 3, 4), "[1 2 3 4]", false, ""},
		{"fp64", `{"inputs":[{"name":"input","datatype":"FP64","shape":[1,2],"parameters":{"binary_data_size":16}}]}`, le64(0.5, -2), "[0.5 -2]", false, ""},
		{"binary output asked on the output", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}],"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]}`, le32(1, 2), "[1 2]", true, ""},
		{"binary output asked on the request", `{"parameters":{"binary_data_output":true},"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`, "", "[1 2]", true, ""},
		{"short data", in, le32(1, 2, 3), "", false, "binary bytes left"},
		{"leftover", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}]}`, le32(1, 2, 3), "", false, "left over"},
		{"size does not match shape", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":12}}]}`, le32(1, 2, 3), "", false, "want 8"},
		{"fractional size", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":7.5}}]}`, le32(1, 2), "", false, "whole number"},
		{"string size", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":"8"}}]}`, le32(1, 2), "", false, `binary_data_size "8": want a JSON number`},
		{"data and size", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[1,2],"parameters":{"binary_data_size":8}}]}`, le32(1, 2), "", false, "both data"},
		{"NaN", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}]}`, le32(1, float32(math.NaN())), "", false, "non-finite"},
		{"fp64 beyond float32", `{"inputs":[{"name":"input","datatype":"FP64","shape":[1,2],"parameters":{"binary_data_size":16}}]}`, le64(1, 1e39), "", false, "non-finite"},
		{"int32", `{"inputs":[{"name":"input","datatype":"INT32","shape":[1,2],"parameters":{"binary_data_size":8}}]}`, le32(1, 2), "", false, "datatype"},
		{"bad header JSON", `{"inputs":[`, "", "", false, "malformed request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRequest([]byte(tt.head+tt.bin), len(tt.head), 2)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(r.X.Data); got != tt.want || r.BinaryOutput != tt.wantOut {
				t.Errorf("got %s binary output %v, want %s %v", got, r.BinaryOutput, tt.want, tt.wantOut)
			}
		})
	}
	if _, err := ParseRequest([]byte(in+le32(1, 2, 3, 4)), -1, 2); err == nil {
		t.Error("binary_data_size in an all-JSON body: accepted, want an error")
	}
	if _, err := ParseRequest([]byte(in), len(in)+1, 2); err == nil || !strings.Contains(err.Error(), HeaderLength) {
		t.Errorf("header length beyond the body: error %v, want one naming %s", err, HeaderLength)
	}
	const head = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}]}`
	_, err := ParseRequest([]byte(head+le32(0, float32(math.Inf(1)))), len(head), 2)
	if !errors.Is(err, ErrNonFinite) {
		t.Errorf("infinity: error %v, want ErrNonFinite", err)
	}
}

// FuzzParseRequestBinary feeds arbitrary JSON headers and binary parts to
// ParseRequest: it must never panic, and any request it accepts must
// re-encode (binary) to one that decodes to the same id and bit-identical
// batch, and (JSON) to the same batch too.
func FuzzParseRequestBinary(f *testing.F) {
	f.Add([]byte(`{"id":"x","inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}]}`), []byte(le32(1, 2)))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP64","shape":[1,2],"parameters":{"binary_data_size":16}}]}`), []byte(le64(1, 2)))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[0,2],"parameters":{"binary_data_size":0}}]}`), []byte{})
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[1,2]}]}`), []byte{})
	f.Fuzz(func(t *testing.T, head, bin []byte) {
		r, err := ParseRequest(append(append([]byte{}, head...), bin...), len(head), 2)
		if err != nil {
			return
		}
		x := r.X
		if x.Rows*x.Cols != len(x.Data) || x.Cols != 2 {
			t.Fatalf("accepted batch %dx%d with %d values", x.Rows, x.Cols, len(x.Data))
		}
		re, n := binaryRequest(r.ID, x, r.BinaryOutput)
		r2, err := ParseRequest(re, n, 2)
		if err != nil {
			t.Fatalf("re-encoded request rejected: %v", err)
		}
		if r2.ID != r.ID || r2.X.Rows != x.Rows || r2.BinaryOutput != r.BinaryOutput {
			t.Fatalf("round trip: id %q rows %d out %v, want %q %d %v", r2.ID, r2.X.Rows, r2.BinaryOutput, r.ID, x.Rows, r.BinaryOutput)
		}
		id3, x3, err := DecodeRequest(encodeRequest(r.ID, x), 2)
		if err != nil || id3 != r.ID {
			t.Fatalf("JSON re-encoding: id %q error %v", id3, err)
		}
		for i := range x.Data {
			if math.Float32bits(x.Data[i]) != math.Float32bits(r2.X.Data[i]) || math.Float32bits(x.Data[i]) != math.Float32bits(x3.Data[i]) {
				t.Fatalf("value %d: %v became %v (binary) and %v (JSON)", i, x.Data[i], r2.X.Data[i], x3.Data[i])
			}
		}
	})
}

// FuzzBinaryOutput round-trips EncodeBinaryResponse through the client's
// reading of it (Tensor.BinaryOutput) for arbitrary float32 bit patterns.
func FuzzBinaryOutput(f *testing.F) {
	f.Add([]byte(le32(0.25, 0.75)), uint8(2))
	f.Add([]byte(le32(1, 0, 0)), uint8(3))
	f.Fuzz(func(t *testing.T, raw []byte, cols uint8) {
		k := int(cols%8) + 1
		rows := len(raw) / 4 / k
		p := blas32.General{Rows: rows, Cols: k, Stride: k, Data: make([]float32, rows*k)}
		for i := range p.Data {
			p.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		body, n := EncodeBinaryResponse(nil, "m", "7", p)
		var resp InferenceResponse
		if err := json.Unmarshal(body[:n], &resp); err != nil {
			t.Fatalf("header %s: %v", body[:n], err)
		}
		if len(resp.Outputs) != 1 || resp.ID != "7" {
			t.Fatalf("header %s: want one output and id 7", body[:n])
		}
		got, end, err := resp.Outputs[0].BinaryOutput(body[n:], 0)
		if err != nil || end != len(body)-n {
			t.Fatalf("BinaryOutput: end %d of %d, error %v", end, len(body)-n, err)
		}
		for i := range p.Data {
			if math.Float32bits(got[i]) != math.Float32bits(p.Data[i]) {
				t.Fatalf("value %d: %v became %v", i, p.Data[i], got[i])
			}
		}
	})
}

func TestServerBinary(t *testing.T) {
	ts, _ := newTestServer(t, Options{})
	url := ts.URL + "/v2/models/tiny/infer"
	code, _, meta := do(t, http.MethodGet, ts.URL+"/v2", "", "")
	if code != http.StatusOK || !bytes.Contains(meta, []byte(`"`+BinaryExtension+`"`)) {
		t.Fatalf("GET /v2: %d %s, want the %s extension listed", code, meta, BinaryExtension)
	}
	x := blas32.General{Rows: 3, Cols: 4, Stride: 4, Data: []float32{1, 2, 3, 4, -1, 0.5, 0, 2, 9, 9, 9, 9}}
	want, err := testModel().Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	post := func(body []byte, headerLen string) (int, http.Header, []byte) {
		return doWith(t, http.MethodPost, url, map[string]string{"Content-Type": BinaryContentType, HeaderLength: headerLen}, body)
	}
	for _, binaryOut := range []bool{true, false} {
		body, n := binaryRequest("r1", x, binaryOut)
		code, h, resp := post(body, strconv.Itoa(n))
		if code != http.StatusOK {
			t.Fatalf("binary request: %d %s", code, resp)
		}
		var got []float32
		var out InferenceResponse
		if hl := h.Get(HeaderLength); binaryOut {
			l, err := strconv.Atoi(hl)
			if err != nil || h.Get("Content-Type") != BinaryContentType {
				t.Fatalf("binary answer: %s %q, Content-Type %q", HeaderLength, hl, h.Get("Content-Type"))
			}
			if err := json.Unmarshal(resp[:l], &out); err != nil {
				t.Fatal(err)
			}
			got, _, err = out.Outputs[0].BinaryOutput(resp[l:], 0)
			if err != nil {
				t.Fatal(err)
			}
		} else {
			if hl != "" {
				t.Fatalf("JSON answer asked for, got %s %q", HeaderLength, hl)
			}
			if err := json.Unmarshal(resp, &out); err != nil {
				t.Fatal(err)
			}
			if got, err = out.Outputs[0].Float32s(); err != nil {
				t.Fatal(err)
			}
		}
		if out.ID != "r1" || fmt.Sprint(got) != fmt.Sprint(want.Data) {
			t.Errorf("binary output %v: id %q values %v, want r1 %v", binaryOut, out.ID, got, want.Data)
		}
	}
	// A body beyond preallocLimit is read as it arrives, then parsed.
	big := blas32.General{Rows: preallocLimit/16 + 1, Cols: 4, Stride: 4, Data: make([]float32, 4*(preallocLimit/16+1))}
	bigBody, bigN := binaryRequest("big", big, true)
	if code, _, resp := post(bigBody, strconv.Itoa(bigN)); code != http.StatusRequestEntityTooLarge || !bytes.Contains(resp, []byte("batch of")) {
		t.Errorf("%d-byte body of %d rows: status %d %s, want 413 for the batch size", len(bigBody), big.Rows, code, resp)
	}
	body, n := binaryRequest("r2", x, true)
	for _, bad := range []struct {
		body []byte
		hl   string
	}{
		{body, "-1"}, {body, "x"}, {body, strconv.Itoa(len(body) + 1)}, {body[:len(body)-1], strconv.Itoa(n)},
	} {
		if code, _, resp := post(bad.body, bad.hl); code != http.StatusBadRequest {
			t.Errorf("%s %s on %d bytes: status %d %s, want 400", HeaderLength, bad.hl, len(bad.body), code, resp)
		}
	}
}
