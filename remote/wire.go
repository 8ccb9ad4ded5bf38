package remote

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"gonum.org/v1/gonum/blas/blas32"
)

// requestBody encodes the inference request for the rows of x: all JSON,
// or (when the server speaks it) a JSON header followed by the rows as
// little-endian float32 that also asks for a binary answer. It returns
// the body, a tail that follows it on the wire (x's own memory, uncopied,
// when x's rows are contiguous on a little-endian host; nil otherwise) and
// the header's length (−1 for all JSON). A model whose metadata declares
// an FP64 input is sent FP64 (requestBodyFP64).
func (c *HTTPModel) requestBody(id string, x blas32.General) (body, tail []byte, headerLen int) {
	if c.inputFP64 {
		return c.requestBodyFP64(id, x)
	}
	if c.binary && (x.Stride == x.Cols || x.Rows == 1) && x.Rows > 0 {
		if raw, ok := serve.Float32Bytes(x.Data[:x.Rows*x.Cols]); ok {
			hdr := serve.AppendRequestHeader(make([]byte, 0, 256), id, c.inputName, c.outputName, x.Rows, x.Cols)
			return hdr, raw, len(hdr)
		}
	}
	body, headerLen = serve.EncodeRequest(id, c.inputName, c.outputName, x, c.binary)
	return body, nil, headerLen
}

// requestBodyFP64 is requestBody for a model that takes FP64 input
// (Triton refuses any other datatype than the one its model declares):
// the rows as doubles, each the exact value of its float32, in JSON or as
// little-endian binary data.
func (c *HTTPModel) requestBodyFP64(id string, x blas32.General) (body, tail []byte, headerLen int) {
	n, d := x.Rows, x.Cols
	in := serve.Tensor{Name: c.inputName, Shape: []int64{int64(n), int64(d)}, Datatype: serve.FP64}
	out := serve.RequestOutput{Name: c.outputName}
	var vals []byte
	if c.binary {
		vals = make([]byte, 0, 8*n*d)
		in.Parameters = map[string]any{serve.ParamBinarySize: 8 * n * d}
		out.Parameters = map[string]any{serve.ParamBinaryData: true}
	} else {
		vals = append(make([]byte, 0, 2+n*d*24), '[')
	}
	for i := range n {
		for j, v := range x.Data[i*x.Stride : i*x.Stride+d] {
			if c.binary {
				vals = binary.LittleEndian.AppendUint64(vals, math.Float64bits(float64(v)))
				continue
			}
			if i+j > 0 {
				vals = append(vals, ',')
			}
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				vals = append(vals, "null"...) // as serve.AppendFloats writes them
			} else {
				vals = strconv.AppendFloat(vals, f, 'g', -1, 64)
			}
		}
	}
	if !c.binary {
		in.Data = append(vals, ']')
	}
	body, err := json.Marshal(serve.InferenceRequest{ID: id, Inputs: []serve.Tensor{in}, Outputs: []serve.RequestOutput{out}})
	if err != nil { // cannot happen: vals is a valid JSON array
		panic("remote: " + err.Error())
	}
	if c.binary {
		return body, vals, len(body)
	}
	return body, nil, -1
}

// The states of HTTPModel.echo.
const (
	echoUnknown int32 = iota
	echoYes
	echoNo
)

// decodeAnswer parses an inference response into dst (n×k): all JSON, or
// a JSON header of the length the serve.HeaderLength header gives
// followed by binary output data.
func (c *HTTPModel) decodeAnswer(h http.Header, body []byte, id string, dst []float32, n, k int) error {
	var bin []byte
	if hl := h.Get(serve.HeaderLength); hl != "" {
		l, err := strconv.Atoi(hl)
		if err != nil || l < 0 || l > len(body) {
			return malformed(fmt.Errorf("%s %q for a body of %d bytes", serve.HeaderLength, hl, len(body)))
		}
		body, bin = body[:l], body[l:]
	}
	if bin != nil && len(bin) == 4*n*k && c.outputName == serve.OutputName {
		// The canonical header of lineage serve's answer: comparing bytes
		// is exact and much cheaper than parsing JSON.
		var buf [256]byte
		if bytes.Equal(body, serve.AppendBinaryResponseHeader(buf[:0], c.info.Name, id, n, k)) {
			c.echo.CompareAndSwap(echoUnknown, echoYes)
			serve.ReadFloat32LE(dst[:n*k], bin)
			return nil
		}
	}
	var resp answer
	if err := json.Unmarshal(body, &resp); err != nil {
		return malformed(fmt.Errorf("inference response: %w", explainNonFinite(err, body)))
	}
	switch {
	case resp.ID != "" && resp.ID != id:
		// Another request's answer: the server sends answers unasked (an
		// answer twice, say), so a kept-alive connection may hold more of
		// them. Ask again, on a connection of its own from now on.
		c.echo.Store(echoNo)
		c.unsolicited.Store(true)
		return malformed(fmt.Errorf("response id %q for request %q", resp.ID, id))
	case resp.ID == id:
		c.echo.CompareAndSwap(echoUnknown, echoYes)
	case c.echo.Swap(echoNo) == echoYes:
		// A server that echoed ids answers without one: on a kept-alive
		// connection this may be an answer to another request. Ask again,
		// on a connection of its own from now on.
		return malformed(fmt.Errorf("response without the id of request %q on a kept-alive connection", id))
	}
	var t *answerTensor
	off := 0 // t's offset in the binary data
	for i := range resp.Outputs {
		if resp.Outputs[i].Name == c.outputName || len(resp.Outputs) == 1 {
			t = &resp.Outputs[i]
			break
		}
		if f := resp.Outputs[i].Parameters.BinarySize; f != nil && *f >= 0 && *f <= float64(len(bin)) {
			off += int(*f)
		}
	}
	if t == nil {
		return fmt.Errorf("response has no output %q", c.outputName)
	}
	if !(len(t.Shape) == 2 && t.Shape[0] == int64(n) && t.Shape[1] == int64(k)) &&
		!(len(t.Shape) == 1 && n == 1 && t.Shape[0] == int64(k)) {
		return fmt.Errorf("output %q has shape %v, want [%d %d]", t.Name, t.Shape, n, k)
	}
	if t.Parameters.BinarySize != nil {
		// The values as the server's datatype has them: Triton sends a
		// model's FP64 output as 8-byte doubles and an FP16 one as
		// half-precision floats, as JSON servers send such data (read
		// below).
		width := map[string]int{fp16: 2, serve.FP32: 4, serve.FP64: 8}[t.Datatype]
		size := *t.Parameters.BinarySize
		if width == 0 || size != float64(width*n*k) || off+width*n*k > len(bin) {
			return malformed(fmt.Errorf("output %q: %s %s of %v bytes at offset %d of %d binary bytes, want FP32 of %d bytes (or FP16 of %d, FP64 of %d)",
				t.Name, serve.ParamBinarySize, t.Datatype, size, off, len(bin), 4*n*k, 2*n*k, 8*n*k))
		}
		b := bin[off:]
		switch width {
		case 2:
			for i := range dst[:n*k] {
				dst[i] = model.HalfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
			}
		case 4:
			serve.ReadFloat32LE(dst[:n*k], b)
		case 8:
			for i := range dst[:n*k] {
				v := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
				if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
					return fmt.Errorf("output %q: answer row %d, value %d: %v is not a finite float32: %w", t.Name, i/k, i%k, v, serve.ErrNonFinite)
				}
				dst[i] = float32(v)
			}
		}
		return nil
	}
	if t.Datatype != serve.FP32 && t.Datatype != serve.FP64 && t.Datatype != fp16 {
		return malformed(fmt.Errorf("output %q: datatype %q, want FP32 (or FP16, FP64)", t.Name, t.Datatype))
	}
	v, err := serve.ParseFloats(dst[:0:n*k], t.Data)
	if err == nil && len(v) != n*k {
		err = fmt.Errorf("%d values for shape %v (want %d)", len(v), t.Shape, n*k)
	}
	if ve := (*serve.ValueError)(nil); errors.As(err, &ve) && k > 0 {
		// The data is n rows of k values, however nested; a value past
		// them is counted as such.
		if ve.Index < n*k {
			err = fmt.Errorf("answer row %d, value %d: %w", ve.Index/k, ve.Index%k, ve.Err)
		} else {
			err = fmt.Errorf("value %d, past the %d of shape %v: %w", ve.Index, n*k, t.Shape, ve.Err)
		}
	}
	if err != nil {
		err = fmt.Errorf("output %q: %w", t.Name, err)
		if errors.Is(err, serve.ErrNonFinite) {
			return err
		}
		return malformed(err)
	}
	return nil
}

// answer is the part of an inference response the client reads.
type answer struct {
	ID      string         `json:"id"`
	Outputs []answerTensor `json:"outputs"`
}

// answerTensor is one output tensor of an answer; Parameters.BinarySize
// is set when the binary part carries its values.
type answerTensor struct {
	Name       string  `json:"name"`
	Shape      []int64 `json:"shape"`
	Datatype   string  `json:"datatype"`
	Parameters struct {
		BinarySize *float64 `json:"binary_data_size"`
	} `json:"parameters"`
	Data json.RawMessage `json:"data"`
}

// fp16 is the protocol's half-precision datatype, which a server may
// answer with (a model computing in half precision); its values are read
// into float32 exactly.
const fp16 = "FP16"
