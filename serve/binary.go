package serve

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"gonum.org/v1/gonum/blas/blas32"
)

// BinaryExtension is the name GET /v2 lists when the server speaks the
// binary tensor data extension of the Open Inference Protocol (the one
// Triton and KServe implement): a body is a JSON header followed by raw
// little-endian tensor bytes.
const BinaryExtension = "binary_tensor_data"

// HeaderLength is the HTTP header that marks a binary body: its value is
// the length in bytes of the JSON part at the start of the body. A body
// without it is all JSON.
const HeaderLength = "Inference-Header-Content-Length"

// BinaryContentType is the Content-Type of binary bodies.
const BinaryContentType = "application/octet-stream"

// Parameter names of the binary tensor data extension.
const (
	// ParamBinarySize, on a tensor, is the number of bytes of its data in
	// the binary part (the tensor then has no "data").
	ParamBinarySize = "binary_data_size"
	// ParamBinaryData, on a requested output, asks for it as binary data.
	ParamBinaryData = "binary_data"
	// ParamBinaryOutput, on the request, asks for every output as binary
	// data.
	ParamBinaryOutput = "binary_data_output"
)

// ParamClassification, on a requested output, asks (in the classification
// extension) for the top classes as strings instead of the output: the
// server refuses it, answering probabilities only.
const ParamClassification = "classification"

// Request is a decoded inference request. BinaryOutput reports whether
// the client asked for the output as binary data.
type Request struct {
	ID           string
	X            blas32.General
	BinaryOutput bool
	// Single is set when the input had shape [inputSize], one example
	// without a batch dimension (X has one row): the answer's shape is
	// then [labels], not [1, labels].
	Single bool
}

// ParseRequest parses an inference request body for a model with
// inputSize features. headerLen < 0 means the body is all JSON; otherwise
// the first headerLen bytes are the JSON header and the rest holds the
// binary data of every input that declares binary_data_size, in input
// order, FP32 (4 bytes) or FP64 (8 bytes) little-endian, with nothing left
// over. Otherwise the rules are DecodeRequest's: one input of shape
// [batch, inputSize] or [inputSize], every value finite.
func ParseRequest(body []byte, headerLen, inputSize int) (Request, error) {
	return parseRequest(body, headerLen, inputSize, 0)
}

// BatchTooLargeError reports a request whose shape declares more rows than
// the server takes in one request. The server reports it before it
// parses the data.
type BatchTooLargeError struct {
	Rows, Max int64
}

// Error names the declared rows and the limit.
func (e *BatchTooLargeError) Error() string {
	return fmt.Sprintf("batch of %d exceeds the limit of %d", e.Rows, e.Max)
}

// parseRequest is ParseRequest refusing, when maxRows > 0, a shape of more
// than maxRows rows before any value is read (*BatchTooLargeError): a
// 32 MB body of zeros holds 16 million values.
func parseRequest(body []byte, headerLen, inputSize, maxRows int) (Request, error) {
	var req InferenceRequest
	head, bin := body, []byte(nil)
	if headerLen >= 0 {
		if headerLen > len(body) {
			return Request{}, fmt.Errorf("malformed request: %s %d exceeds the body's %d bytes", HeaderLength, headerLen, len(body))
		}
		head, bin = body[:headerLen], body[headerLen:]
	}
	if err := json.Unmarshal(head, &req); err != nil {
		if headerLen < 0 && (bytes.Contains(head, []byte("NaN")) || bytes.Contains(head, []byte("Infinity"))) {
			return Request{}, fmt.Errorf("malformed request: NaN and Infinity are not JSON: %w", ErrNonFinite)
		}
		return Request{}, fmt.Errorf("malformed request: %w", err)
	}
	r := Request{ID: req.ID, BinaryOutput: req.Parameters[ParamBinaryOutput] == true}
	if len(req.Inputs) != 1 {
		return r, fmt.Errorf("request has %d inputs, want 1", len(req.Inputs))
	}
	for _, o := range req.Outputs {
		if o.Name != OutputName {
			return r, fmt.Errorf("unknown output %q, want %q", o.Name, OutputName)
		}
		if _, ok := o.Parameters[ParamClassification]; ok {
			// The classification extension answers the top classes
			// as BYTES: answering probabilities instead would be
			// misread by a client that asked for it.
			return r, fmt.Errorf("output %q: parameter %q is not supported: the output is the probabilities of every label (the class is their argmax)", o.Name, ParamClassification)
		}
		if o.Parameters[ParamBinaryData] == true {
			r.BinaryOutput = true
		}
	}
	in := &req.Inputs[0]
	var rows int
	switch {
	case len(in.Shape) == 2 && in.Shape[1] == int64(inputSize) && in.Shape[0] >= 0:
		rows = int(min(in.Shape[0], math.MaxInt32))
	case len(in.Shape) == 1 && in.Shape[0] == int64(inputSize):
		rows, r.Single = 1, true
	default:
		return r, fmt.Errorf("input %q has shape %v, want [batch, %d]", in.Name, in.Shape, inputSize)
	}
	if maxRows > 0 && in.Shape[0] > int64(maxRows) && len(in.Shape) == 2 {
		return r, &BatchTooLargeError{Rows: in.Shape[0], Max: int64(maxRows)}
	}
	var data []float32
	var err error
	if size, ok := in.Parameters[ParamBinarySize]; ok {
		data, bin, err = in.binaryFloat32s(size, bin, headerLen >= 0)
	} else {
		data, err = in.Float32s()
	}
	if err != nil {
		return r, err
	}
	if len(bin) != 0 {
		return r, fmt.Errorf("malformed request: %d bytes of binary data left over", len(bin))
	}
	r.X = blas32.General{Rows: rows, Cols: inputSize, Stride: inputSize, Data: data}
	return r, nil
}

// binaryFloat32s reads t's values from the front of bin, given its
// binary_data_size parameter, and returns them and the rest of bin.
func (t *Tensor) binaryFloat32s(size any, bin []byte, hasBinary bool) ([]float32, []byte, error) {
	if !hasBinary {
		return nil, bin, fmt.Errorf("tensor %q: %s without the %s header", t.Name, ParamBinarySize, HeaderLength)
	}
	if len(t.Data) != 0 {
		return nil, bin, fmt.Errorf("tensor %q: both data and %s", t.Name, ParamBinarySize)
	}
	width := 4
	switch t.Datatype {
	case FP32:
	case FP64:
		width = 8
	default:
		return nil, bin, fmt.Errorf("tensor %q: datatype %q, want %s", t.Name, t.Datatype, FP32)
	}
	n, err := t.elements()
	if err != nil {
		return nil, bin, err
	}
	f, ok := size.(float64)
	if !ok {
		return nil, bin, fmt.Errorf("tensor %q: %s %s: want a JSON number", t.Name, ParamBinarySize, truncate(fmt.Appendf(nil, "%#v", size), 40))
	}
	if f != math.Trunc(f) || f < 0 || f > float64(len(bin)) {
		return nil, bin, fmt.Errorf("tensor %q: %s %v: want a whole number of bytes at most the %d binary bytes left", t.Name, ParamBinarySize, size, len(bin))
	}
	nb := int(f)
	if int64(nb) != n*int64(width) {
		return nil, bin, fmt.Errorf("tensor %q: %d bytes of %s for shape %v (want %d)", t.Name, nb, t.Datatype, t.Shape, n*int64(width))
	}
	out := make([]float32, n)
	for i := range out {
		var v float64
		if width == 4 {
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(bin[4*i:])))
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(bin[8*i:]))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
			return nil, bin, fmt.Errorf("tensor %q: value %d is %v: %w", t.Name, i, v, ErrNonFinite)
		}
		out[i] = float32(v)
	}
	return out, bin[nb:], nil
}

// elements returns the product of t's shape, checking it.
func (t *Tensor) elements() (int64, error) {
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return 0, fmt.Errorf("tensor %q: negative dimension in shape %v", t.Name, t.Shape)
		}
		if d > 0 && n > math.MaxInt32/d {
			return 0, fmt.Errorf("tensor %q: shape %v too large", t.Name, t.Shape)
		}
		n *= d
	}
	return n, nil
}

// EncodeBinaryResponse appends to dst the inference response carrying p
// as the output "probabilities" of shape [p.Rows, p.Cols] in the binary
// tensor data extension's form: a JSON header whose output declares
// binary_data_size, followed by the values as little-endian float32. It
// returns the body and the length of its JSON header (the value of the
// HeaderLength HTTP header).
func EncodeBinaryResponse(dst []byte, modelName, id string, p blas32.General) ([]byte, int) {
	return encodeBinaryResponse(dst, modelName, id, p, false)
}

// encodeBinaryResponse is EncodeBinaryResponse, with the output's shape
// [p.Cols] when single (see appendResponseStart).
func encodeBinaryResponse(dst []byte, modelName, id string, p blas32.General, single bool) ([]byte, int) {
	start := len(dst)
	dst = appendBinaryResponseHeader(dst, modelName, id, p.Rows, p.Cols, single)
	headerLen := len(dst) - start
	return AppendFloat32LE(dst, p), headerLen
}

// AppendBinaryResponseHeader appends to dst the JSON header that
// EncodeBinaryResponse writes for a rows×cols answer. Clients may compare
// an answer's header with it byte for byte to skip parsing the header of
// a lineage server's answer.
func AppendBinaryResponseHeader(dst []byte, modelName, id string, rows, cols int) []byte {
	return appendBinaryResponseHeader(dst, modelName, id, rows, cols, false)
}

func appendBinaryResponseHeader(dst []byte, modelName, id string, rows, cols int, single bool) []byte {
	dst = appendResponseStart(dst, modelName, id, rows, cols, single)
	dst = append(dst, `,"parameters":{"`+ParamBinarySize+`":`...)
	dst = strconv.AppendInt(dst, int64(4*rows*cols), 10)
	return append(dst, "}}]}"...)
}

// AppendFloat32LE appends the values of x row by row to dst as
// little-endian float32 bytes.
func AppendFloat32LE(dst []byte, x blas32.General) []byte {
	if x.Stride == x.Cols || x.Rows <= 1 {
		if b, ok := Float32Bytes(x.Data[:x.Rows*x.Cols]); ok {
			return append(dst, b...)
		}
	}
	for i := 0; i < x.Rows; i++ {
		for _, v := range x.Data[i*x.Stride : i*x.Stride+x.Cols] {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
		}
	}
	return dst
}

// ErrNoBinary is wrapped by Tensor.BinaryOutput's error for a tensor that does not
// declare binary_data_size.
var ErrNoBinary = errors.New("tensor has no binary data")

// BinaryOutput returns the float32 values of an FP32 output tensor that
// declares binary_data_size, read from bin at offset off, and the offset
// after them. It checks that the size matches the shape and that the
// bytes are there; values are returned as they are (callers validate
// them).
func (t *Tensor) BinaryOutput(bin []byte, off int) ([]float32, int, error) {
	size, ok := t.Parameters[ParamBinarySize]
	if !ok {
		return nil, off, fmt.Errorf("tensor %q: %w", t.Name, ErrNoBinary)
	}
	if t.Datatype != FP32 {
		return nil, off, fmt.Errorf("tensor %q: binary datatype %q, want %s", t.Name, t.Datatype, FP32)
	}
	n, err := t.elements()
	if err != nil {
		return nil, off, err
	}
	f, ok := size.(float64)
	if !ok || f != 4*float64(n) || off < 0 || int64(off)+4*n > int64(len(bin)) {
		return nil, off, fmt.Errorf("tensor %q: %s %v for shape %v with %d binary bytes at offset %d", t.Name, ParamBinarySize, size, t.Shape, len(bin), off)
	}
	out := make([]float32, n)
	ReadFloat32LE(out, bin[off:])
	return out, off + int(4*n), nil
}

// ReadFloat32LE fills dst from the little-endian float32 bytes at the
// start of b, which must hold at least 4·len(dst) bytes; it is the inverse
// of AppendFloat32LE.
func ReadFloat32LE(dst []float32, b []byte) {
	if v, ok := Float32Bytes(dst); ok {
		copy(v, b[:len(v)])
		return
	}
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}

// littleEndianHost reports whether float32 values are laid out in memory
// as the little-endian bytes the binary extension uses.
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Float32Bytes returns the memory of x as bytes, without copying, when the
// host is little-endian (so the bytes are x's binary tensor data) and
// false otherwise. The bytes alias x.
func Float32Bytes(x []float32) ([]byte, bool) {
	if !littleEndianHost {
		return nil, false
	}
	if len(x) == 0 {
		return []byte{}, true
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&x[0])), 4*len(x)), true
}
