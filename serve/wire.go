package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/blas/blas32"
)

// Datatypes of the Open Inference Protocol this package reads. Inputs may
// be FP32 or FP64 (converted to float32); outputs are always FP32.
const (
	FP32 = "FP32"
	FP64 = "FP64"
)

// ErrNonFinite is wrapped by decoding errors when tensor data holds NaN,
// an infinity, or a number outside the float32 range.
var ErrNonFinite = errors.New("non-finite value")

// InferenceRequest is the JSON body of POST /v2/models/{name}/infer.
type InferenceRequest struct {
	ID         string          `json:"id,omitempty"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Inputs     []Tensor        `json:"inputs"`
	Outputs    []RequestOutput `json:"outputs,omitempty"`
}

// RequestOutput names an output tensor a request asks for.
type RequestOutput struct {
	Name       string         `json:"name"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// InferenceResponse is the JSON body answering a successful inference.
type InferenceResponse struct {
	ModelName    string         `json:"model_name"`
	ModelVersion string         `json:"model_version,omitempty"`
	ID           string         `json:"id,omitempty"`
	Parameters   map[string]any `json:"parameters,omitempty"`
	Outputs      []Tensor       `json:"outputs"`
}

// Tensor is a request input or a response output: a named, typed,
// shaped array whose Data is row-major JSON, either flat or nested
// arrays as the protocol allows, or empty when the binary tensor data
// extension carries the values (Parameters["binary_data_size"]).
type Tensor struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// MetadataTensor describes one model input or output in ModelMetadata; a
// -1 in Shape is a variable dimension.
type MetadataTensor struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// ModelMetadata is the body of GET /v2/models/{name}.
type ModelMetadata struct {
	Name       string           `json:"name"`
	Versions   []string         `json:"versions,omitempty"`
	Platform   string           `json:"platform"`
	Inputs     []MetadataTensor `json:"inputs"`
	Outputs    []MetadataTensor `json:"outputs"`
	Parameters map[string]any   `json:"parameters,omitempty"`
}

// ServerMetadata is the body of GET /v2.
type ServerMetadata struct {
	Name       string   `json:"name"`
	Version    string   `json:"version"`
	Extensions []string `json:"extensions"`
}

// ErrorResponse is the protocol's error body, sent with every 4xx and 5xx
// status.
type ErrorResponse struct {
	Error string `json:"error"`
}

// Float32s returns t's data as float32s, checking that the datatype is FP32
// or FP64, that the shape has no negative dimension and that the number of
// values equals the product of the shape. Nested arrays are flattened in
// row-major order.
func (t *Tensor) Float32s() ([]float32, error) {
	if t.Datatype != FP32 && t.Datatype != FP64 {
		return nil, fmt.Errorf("tensor %q: datatype %q, want %s", t.Name, t.Datatype, FP32)
	}
	n, err := t.elements()
	if err != nil {
		return nil, err
	}
	// Each value takes at least one byte and a delimiter, so the data
	// cannot hold more than len/2+1 of them: the shape alone, which costs
	// the client a few bytes, must not size the allocation.
	v, err := ParseFloats(make([]float32, 0, min(n, int64(len(t.Data)/2+1))), t.Data)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if int64(len(v)) != n {
		return nil, fmt.Errorf("tensor %q: %d values for shape %v (want %d)", t.Name, len(v), t.Shape, n)
	}
	return v, nil
}

// AppendFloats appends v to dst as a flat JSON array, each value in the
// shortest decimal form that parses back to the same float32
// (strconv.FormatFloat(x, 'g', -1, 32)). Non-finite values are written as
// null, which ParseFloats rejects.
func AppendFloats(dst []byte, v []float32) []byte {
	dst = append(dst, '[')
	for i, x := range v {
		if i > 0 {
			dst = append(dst, ',')
		}
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			dst = append(dst, "null"...)
			continue
		}
		dst = strconv.AppendFloat(dst, f, 'g', -1, 32)
	}
	return append(dst, ']')
}

// ValueError is a ParseFloats error about one number of the data: the
// Index-th, counting from 0 in row-major order, and what is wrong with it
// (Err, naming the number as written: `1e+308 is out of float32 range`,
// `"0.1" is not a number`).
type ValueError struct {
	Index int
	Err   error
}

// Error names the value's index and its problem.
func (e *ValueError) Error() string { return fmt.Sprintf("value %d: %v", e.Index, e.Err) }

// Unwrap returns e.Err.
func (e *ValueError) Unwrap() error { return e.Err }

// valueProblem says what is wrong with a number; it wraps kind
// (ErrNonFinite, or nil) without repeating its text.
type valueProblem struct {
	msg  string
	kind error
}

func (p *valueProblem) Error() string { return p.msg }
func (p *valueProblem) Unwrap() error { return p.kind }

// ParseFloats appends to dst the numbers of the JSON value data, which must
// be a number or an array (arbitrarily nested) of numbers, flattened in
// order. A token that is not a number is a *ValueError; NaN, Infinity (as
// some encoders write them), null and numbers beyond the float32 range
// are too, wrapping ErrNonFinite.
func ParseFloats(dst []float32, data []byte) ([]float32, error) {
	depth, i := 0, 0
	expectValue := true // a value (or '[' or, after '[', ']') may come next
	afterOpen := false
	seen := false
	for i < len(data) {
		c := data[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '[':
			if !expectValue {
				return dst, fmt.Errorf("unexpected '[' at offset %d", i)
			}
			if depth == 0 && seen {
				return dst, fmt.Errorf("trailing data at offset %d", i)
			}
			depth++
			if depth > 32 {
				return dst, fmt.Errorf("arrays nested deeper than 32")
			}
			seen, afterOpen = true, true
			i++
		case c == ']':
			if depth == 0 || (expectValue && !afterOpen) {
				return dst, fmt.Errorf("unexpected ']' at offset %d", i)
			}
			depth--
			expectValue, afterOpen = false, false
			i++
		case c == ',':
			if depth == 0 || expectValue {
				return dst, fmt.Errorf("unexpected ',' at offset %d", i)
			}
			expectValue, afterOpen = true, false
			i++
		default:
			if !expectValue || (depth == 0 && seen) {
				return dst, fmt.Errorf("unexpected %q at offset %d", c, i)
			}
			j := i
			for j < len(data) && !isDelim(data[j]) {
				j++
			}
			tok := data[i:j]
			v, err := parseNumber(tok)
			if err != nil {
				return dst, &ValueError{Index: len(dst), Err: err}
			}
			dst = append(dst, v)
			seen, expectValue, afterOpen = true, false, false
			i = j
		}
	}
	if depth != 0 {
		return dst, errors.New("unterminated array")
	}
	if !seen {
		return dst, errors.New("no data")
	}
	return dst, nil
}

func isDelim(c byte) bool {
	return c == ',' || c == ']' || c == '[' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// parseNumber parses one JSON number token as a float32; its error says
// what is wrong with the token, naming it (see ValueError).
func parseNumber(tok []byte) (float32, error) {
	switch string(tok) {
	case "NaN", "null":
		return 0, &valueProblem{string(tok) + " is not a number", ErrNonFinite}
	case "Infinity", "-Infinity":
		return 0, &valueProblem{string(tok) + " is not a finite number", ErrNonFinite}
	}
	if !validNumber(tok) {
		return 0, &valueProblem{showToken(tok) + " is not a number", nil}
	}
	f, err := strconv.ParseFloat(string(tok), 32)
	if err != nil || math.IsInf(f, 0) {
		// Finite as a float64 perhaps (1e308), but no float32.
		return 0, &valueProblem{showToken(tok) + " is out of float32 range", ErrNonFinite}
	}
	return float32(f), nil
}

// showToken is tok for a one-line message: as it is written when it is
// printable ASCII ("0.1", quotes and all, for a string where a number
// should be), quoted with Go escapes otherwise; cut after 32 bytes.
func showToken(tok []byte) string {
	for _, c := range tok {
		if c <= ' ' || c > '~' {
			return fmt.Sprintf("%q", truncate(tok, 32))
		}
	}
	return truncate(tok, 32)
}

// validNumber reports whether tok follows the JSON number grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func validNumber(tok []byte) bool {
	i, n := 0, len(tok)
	if i < n && tok[i] == '-' {
		i++
	}
	digits := func() int {
		s := i
		for i < n && tok[i] >= '0' && tok[i] <= '9' {
			i++
		}
		return i - s
	}
	switch {
	case i < n && tok[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < n && tok[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < n && (tok[i] == 'e' || tok[i] == 'E') {
		i++
		if i < n && (tok[i] == '+' || tok[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == n
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// EncodeRequest returns the inference request (with the given id) that
// carries x as the FP32 input named input and asks for the output named
// output (a server returns its default outputs to a request that names
// none: MLServer's scikit-learn runtime the labels, not predict_proba).
// With binary false it is all JSON and headerLen is −1; with binary true
// it is a JSON header that asks for the output as binary data, followed
// by x as little-endian float32, and headerLen is the header's length
// (the value of the HeaderLength HTTP header).
func EncodeRequest(id, input, output string, x blas32.General, binary bool) (body []byte, headerLen int) {
	n, d := x.Rows, x.Cols
	if binary {
		body = AppendRequestHeader(make([]byte, 0, 192+n*d*4), id, input, output, n, d)
		headerLen = len(body)
		return AppendFloat32LE(body, x), headerLen
	}
	body = appendInputHead(make([]byte, 0, 64+n*d*8), id, input, n, d)
	body = append(body, `],"data":`...)
	flat := x.Data[:n*d]
	if x.Stride != d && n > 0 {
		flat = make([]float32, 0, n*d)
		for i := range n {
			flat = append(flat, x.Data[i*x.Stride:i*x.Stride+d]...)
		}
	}
	body = AppendFloats(body, flat)
	body = append(body, `}],"outputs":[{"name":`...)
	body = appendString(body, output)
	return append(body, `}]}`...), -1
}

// AppendRequestHeader appends the JSON header of a binary inference
// request for rows×cols FP32 inputs (EncodeRequest's header: the input
// declares binary_data_size, the output asks for binary_data) to dst. The
// rows' little-endian bytes follow it on the wire.
func AppendRequestHeader(dst []byte, id, input, output string, rows, cols int) []byte {
	dst = appendInputHead(dst, id, input, rows, cols)
	dst = append(dst, `],"parameters":{"`+ParamBinarySize+`":`...)
	dst = strconv.AppendInt(dst, int64(4*rows*cols), 10)
	dst = append(dst, `}}],"outputs":[{"name":`...)
	dst = appendString(dst, output)
	return append(dst, `,"parameters":{"`+ParamBinaryData+`":true}}]}`...)
}

// appendInputHead appends the start of an inference request, up to the
// input tensor's shape: {"id":ID,"inputs":[{"name":INPUT,"datatype":"FP32","shape":[ROWS,COLS
func appendInputHead(dst []byte, id, input string, rows, cols int) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, id)
	dst = append(dst, `,"inputs":[{"name":`...)
	dst = appendString(dst, input)
	dst = append(dst, `,"datatype":"FP32","shape":[`...)
	dst = strconv.AppendInt(dst, int64(rows), 10)
	dst = append(dst, ',')
	return strconv.AppendInt(dst, int64(cols), 10)
}

// DecodeRequest parses an inference request body for a model with
// inputSize features: one FP32 (or FP64) input of shape [batch,
// inputSize] (or [inputSize] for a single input), data flat or nested,
// every value finite. It returns the request id and the batch.
func DecodeRequest(body []byte, inputSize int) (id string, x blas32.General, err error) {
	r, err := ParseRequest(body, -1, inputSize)
	return r.ID, r.X, err
}

// EncodeResponse appends to dst the JSON inference response carrying p as
// the FP32 output "probabilities" of shape [p.Rows, p.Cols], flat, each
// value formatted to round-trip exactly.
func EncodeResponse(dst []byte, modelName, id string, p blas32.General) []byte {
	return encodeResponse(dst, modelName, id, p, false)
}

// encodeResponse is EncodeResponse, with the output's shape [p.Cols] when
// single (the answer to one input sent without a batch dimension).
func encodeResponse(dst []byte, modelName, id string, p blas32.General, single bool) []byte {
	dst = appendResponseStart(dst, modelName, id, p.Rows, p.Cols, single)
	dst = append(dst, `,"data":`...)
	if p.Stride == p.Cols || p.Rows == 0 {
		dst = AppendFloats(dst, p.Data[:p.Rows*p.Cols])
	} else {
		flat := make([]float32, 0, p.Rows*p.Cols)
		for i := 0; i < p.Rows; i++ {
			flat = append(flat, p.Data[i*p.Stride:i*p.Stride+p.Cols]...)
		}
		dst = AppendFloats(dst, flat)
	}
	return append(dst, "}]}\n"...)
}

// appendResponseStart appends an inference response up to the end of its
// output's shape: model name, id (when not empty), and the FP32 output
// "probabilities" of shape [rows, cols], or [cols] when single (one row
// answering an input sent without a batch dimension, as Triton answers a
// model without one).
func appendResponseStart(dst []byte, modelName, id string, rows, cols int, single bool) []byte {
	dst = append(dst, `{"model_name":`...)
	dst = appendString(dst, modelName)
	if id != "" {
		dst = append(dst, `,"id":`...)
		dst = appendString(dst, id)
	}
	dst = append(dst, `,"outputs":[{"name":"`+OutputName+`","datatype":"FP32","shape":[`...)
	if !single {
		dst = strconv.AppendInt(dst, int64(rows), 10)
		dst = append(dst, ',')
	}
	dst = strconv.AppendInt(dst, int64(cols), 10)
	return append(dst, ']')
}

func appendString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // cannot fail for a string
	return append(dst, b...)
}
