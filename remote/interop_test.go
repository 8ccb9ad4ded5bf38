package remote

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"gonum.org/v1/gonum/blas/blas32"
)

// foreignServer is an OIP server that is not lineage's own, modelled on
// servers lineage meets in deployments: the model's outputs (in metadata
// order), the ones it returns to a request that names none, the datatype
// of its probabilities, and whether it speaks the binary extension.
type foreignServer struct {
	m model.Model
	// outputs: "label" (INT64 [-1], the argmax) or "probs" (the
	// distribution, named probsName, of datatype probsType).
	outputs   []string
	defaults  []string // returned when the request names no output
	probsName string
	probsType string // FP32 or FP64
	binary    bool   // list and speak binary_tensor_data
	// inputType is the input datatype the metadata declares and the
	// server requires, as Triton does ("": FP32).
	inputType string
}

func (f *foreignServer) inType() string {
	if f.inputType == "" {
		return "FP32"
	}
	return f.inputType
}

func (f *foreignServer) start(t *testing.T) *httptest.Server {
	t.Helper()
	info := f.m.Info()
	name := func(o string) string {
		if o == "probs" {
			return f.probsName
		}
		return o
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply := func(v any) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		}
		switch r.URL.Path {
		case "/v2":
			ext := []string{"classification", "model_repository"}
			if f.binary {
				ext = append(ext, serve.BinaryExtension)
			}
			reply(map[string]any{"name": "foreign", "version": "1", "extensions": ext})
			return
		case "/v2/models/m":
			var outs []map[string]any
			for _, o := range f.outputs {
				if o == "label" {
					outs = append(outs, map[string]any{"name": "label", "datatype": "INT64", "shape": []int{-1}})
				} else {
					outs = append(outs, map[string]any{"name": f.probsName, "datatype": f.probsType, "shape": []int{-1, len(info.Labels)}})
				}
			}
			reply(map[string]any{"name": "m", "platform": "foreign",
				"inputs":  []map[string]any{{"name": "x", "datatype": f.inType(), "shape": []int{-1, info.InputSize}}},
				"outputs": outs})
			return
		case "/v2/models/m/infer":
		default:
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		head, bin := body, []byte(nil)
		if h := r.Header.Get(serve.HeaderLength); h != "" {
			n, _ := strconv.Atoi(h)
			head, bin = body[:n], body[n:]
		}
		var req struct {
			ID     string `json:"id"`
			Inputs []struct {
				Datatype   string          `json:"datatype"`
				Shape      []int           `json:"shape"`
				Data       json.RawMessage `json:"data"`
				Parameters map[string]any  `json:"parameters"`
			} `json:"inputs"`
			Outputs []struct {
				Name       string         `json:"name"`
				Parameters map[string]any `json:"parameters"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal(head, &req); err != nil || len(req.Inputs) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			reply(map[string]string{"error": "bad request"})
			return
		}
		in := req.Inputs[0]
		if in.Datatype != f.inType() {
			w.WriteHeader(http.StatusBadRequest)
			reply(map[string]string{"error": "inference input 'x' data-type is '" + in.Datatype + "', but model 'm' expects '" + f.inType() + "'"})
			return
		}
		var xs []float32
		switch {
		case in.Parameters["binary_data_size"] != nil && in.Datatype == "FP64":
			for i := 0; i+8 <= len(bin); i += 8 {
				v := math.Float64frombits(binary.LittleEndian.Uint64(bin[i:]))
				if float64(float32(v)) != v {
					t.Errorf("FP64 input %v is no float32", v)
				}
				xs = append(xs, float32(v))
			}
		case in.Parameters["binary_data_size"] != nil:
			xs = make([]float32, len(bin)/4)
			serve.ReadFloat32LE(xs, bin)
		default:
			xs, _ = serve.ParseFloats(nil, in.Data)
		}
		n := in.Shape[0]
		p, err := f.m.Predict(r.Context(), blas32.General{Rows: n, Cols: info.InputSize, Stride: info.InputSize, Data: xs})
		if err != nil {
			t.Error(err)
			return
		}
		want := f.defaults
		binOut := map[string]bool{}
		if len(req.Outputs) > 0 {
			want = nil
			for _, o := range req.Outputs {
				for _, c := range f.outputs {
					if name(c) == o.Name {
						want = append(want, c)
						binOut[c] = o.Parameters["binary_data"] == true
					}
				}
			}
		}
		var outs []map[string]any
		var tail []byte
		for _, o := range want {
			t := map[string]any{"name": name(o)}
			var vals []float64
			width := 8
			if o == "label" {
				t["datatype"], t["shape"] = "INT64", []int{n}
				for i := range n {
					vals = append(vals, float64(blas32.Iamax(blas32.Vector{N: p.Cols, Inc: 1, Data: p.Data[i*p.Stride:]})))
				}
			} else {
				t["datatype"], t["shape"] = f.probsType, []int{n, p.Cols}
				for i := range n {
					for _, v := range p.Data[i*p.Stride : i*p.Stride+p.Cols] {
						vals = append(vals, float64(v))
					}
				}
				switch f.probsType {
				case "FP32":
					width = 4
				case "FP16":
					width = 2
				}
			}
			if f.binary && binOut[o] {
				for _, v := range vals {
					switch {
					case o == "label":
						tail = binary.LittleEndian.AppendUint64(tail, uint64(int64(v)))
					case width == 2:
						tail = binary.LittleEndian.AppendUint16(tail, toHalf(v))
					case width == 4:
						tail = binary.LittleEndian.AppendUint32(tail, math.Float32bits(float32(v)))
					default:
						tail = binary.LittleEndian.AppendUint64(tail, math.Float64bits(v))
					}
				}
				t["parameters"] = map[string]any{"binary_data_size": width * len(vals)}
			} else {
				if width == 2 {
					for i, v := range vals {
						vals[i] = float64(model.HalfToFloat32(toHalf(v)))
					}
				}
				t["data"] = vals
			}
			outs = append(outs, t)
		}
		resp := map[string]any{"model_name": "m", "id": req.ID, "outputs": outs}
		if tail == nil {
			reply(resp)
			return
		}
		hdr, _ := json.Marshal(resp)
		w.Header().Set(serve.HeaderLength, strconv.Itoa(len(hdr)))
		w.Header().Set("Content-Type", serve.BinaryContentType)
		w.Write(append(hdr, tail...))
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestForeignServers reads models from servers modelled on real
// deployments and checks the answers are the model's own, bit for bit.
func TestForeignServers(t *testing.T) {
	m := testMLP()
	x := randomBatch(11, 6, 5)
	want, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    foreignServer
	}{
		// MLServer's scikit-learn runtime returns only predict (the
		// labels) unless the request names predict_proba; it does not
		// speak the binary extension.
		{"mlserver sklearn", foreignServer{outputs: []string{"probs"}, defaults: []string{"label"},
			probsName: "predict_proba", probsType: "FP64"}},
		// Triton sends an output in the model's datatype, FP64 as 8-byte
		// doubles when binary data is asked for.
		{"triton fp64 binary", foreignServer{outputs: []string{"probs"}, probsName: "OUTPUT0", probsType: "FP64", binary: true}},
		{"triton fp32 binary", foreignServer{outputs: []string{"probs"}, probsName: "OUTPUT0", probsType: "FP32", binary: true}},
		// scikit-learn's ONNX export (zipmap off), served by Triton:
		// output_label (INT64) first, then output_probability.
		{"skl2onnx label first", foreignServer{outputs: []string{"label", "probs"}, defaults: []string{"label", "probs"},
			probsName: "output_probability", probsType: "FP32", binary: true}},
		{"label first json", foreignServer{outputs: []string{"label", "probs"}, defaults: []string{"label"},
			probsName: "predict_proba", probsType: "FP64"}},
		// A model that takes FP64 input: Triton refuses FP32 for it.
		{"fp64 input json", foreignServer{outputs: []string{"probs"}, probsName: "out", probsType: "FP64", inputType: "FP64"}},
		{"fp64 input binary", foreignServer{outputs: []string{"probs"}, probsName: "out", probsType: "FP64", inputType: "FP64", binary: true}},
		// A model computing in half precision answers FP16.
		{"fp16 binary", foreignServer{outputs: []string{"probs"}, probsName: "OUTPUT0", probsType: "FP16", binary: true}},
		{"fp16 json", foreignServer{outputs: []string{"probs"}, probsName: "OUTPUT0", probsType: "FP16"}},
		{"fp64 json", foreignServer{outputs: []string{"probs"}, defaults: []string{"probs"}, probsName: "out", probsType: "FP64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.m = m
			ts := tt.f.start(t)
			rm, err := Open(context.Background(), ts.URL+"/v2/models/m", fastOpts())
			if err != nil {
				t.Fatal(err)
			}
			defer rm.Close()
			if got := rm.(*HTTPModel).Binary(); got != tt.f.binary {
				t.Errorf("Binary() = %v, want %v", got, tt.f.binary)
			}
			got, err := rm.Predict(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			want := want
			if tt.f.probsType == "FP16" {
				want.Data = slices.Clone(want.Data)
				for i, v := range want.Data {
					want.Data[i] = model.HalfToFloat32(toHalf(float64(v)))
				}
			}
			assertSame(t, got, want)
		})
	}
}

// toHalf rounds v, a probability in [0, 1], to the nearest half-precision
// value (ties to even) and returns its bits.
func toHalf(v float64) uint16 {
	if v < 0x1p-14 { // subnormal: a multiple of 2⁻²⁴
		return uint16(math.RoundToEven(v * 0x1p24))
	}
	frac, exp := math.Frexp(v) // v = frac·2^exp, frac in [0.5, 1)
	m := math.RoundToEven((frac*2 - 1) * 1024)
	e := exp - 1
	if m == 1024 {
		m, e = 0, e+1
	}
	return uint16(e+15)<<10 | uint16(m)
}

func TestHalfToFloat32(t *testing.T) {
	for _, tt := range []struct {
		h    uint16
		want float64
	}{
		{0x3c00, 1}, {0xbc00, -1}, {0x3800, 0.5}, {0x3555, 0.333251953125}, {0x0001, 0x1p-24},
		{0x03ff, 1023 * 0x1p-24}, {0x0400, 0x1p-14}, {0x7bff, 65504}, {0x0000, 0},
		{0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)},
	} {
		if got := model.HalfToFloat32(tt.h); float64(got) != tt.want {
			t.Errorf("HalfToFloat32(%#04x) = %v, want %v", tt.h, got, tt.want)
		}
	}
	if got := model.HalfToFloat32(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("HalfToFloat32(0x8000) = %v, want -0", got)
	}
	if got := model.HalfToFloat32(0x7e00); !math.IsNaN(float64(got)) {
		t.Errorf("HalfToFloat32(0x7e00) = %v, want NaN", got)
	}
	for _, v := range []float64{1, 0.5, 0.333251953125, 0x1p-24, 0x1p-14, 0.1} {
		if got := float64(model.HalfToFloat32(toHalf(v))); math.Abs(got-v) > v*0x1p-11 {
			t.Errorf("toHalf(%v) reads back as %v", v, got)
		}
	}
}

// TestMetadataRefusals checks that metadata lineage cannot read is
// refused saying why: an image-shaped input (whose last dimension is not
// the input size: [-1 8 8] was read as 8 inputs), no outputs listed.
func TestMetadataRefusals(t *testing.T) {
	tests := []struct {
		name, meta, want string
	}{
		{"image-shaped input", `{"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-1,2,3]}],"outputs":[{"name":"p","datatype":"FP32","shape":[-1,4]}]}`,
			`input "x" has shape [-1 2 3]: lineage sends inputs of shape [batch, features] and reads no other input shape`},
		{"no outputs", `{"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-1,6]}],"outputs":[]}`,
			"model metadata lists no outputs: lineage reads the input size and the label count from them"},
		{"neither", `{"name":"m","inputs":[],"outputs":[]}`, "model metadata lists no inputs and no outputs"},
		{"labels and shape disagree", `{"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-1,6]}],"outputs":[{"name":"p","datatype":"FP32","shape":[-1,4]}],"parameters":{"labels":["a","b","c"]}}`,
			`metadata lists 3 labels but output "p" has shape [-1 4]`},
		{"long output name", `{"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-1,6]}],"outputs":[{"name":"p","datatype":"FP32","shape":[-1,4]},{"name":"` + strings.Repeat("q", MaxNameBytes+1) + `","datatype":"FP32","shape":[-1,4]}]}`,
			"model metadata: output 1's name is 1025 bytes long, at most 1024 allowed"},
		{"long input name", `{"name":"m","inputs":[{"name":"` + strings.Repeat("x", 2<<20) + `","datatype":"FP32","shape":[-1,6]}],"outputs":[{"name":"p","datatype":"FP32","shape":[-1,4]}]}`,
			"model metadata: input 0's name is 2097152 bytes long, at most 1024 allowed"},
		{"too many outputs", `{"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-1,6]}],"outputs":[` +
			strings.Repeat(`{"name":"p","datatype":"FP32","shape":[-1,4]},`, MaxOutputs) + `{"name":"p","datatype":"FP32","shape":[-1,4]}]}`,
			"model metadata lists 257 outputs, at most 256 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, tt.meta)
			}))
			defer ts.Close()
			_, err := Open(context.Background(), ts.URL+"/v2/models/m", fastOpts())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// A batch dimension and single dimensions before the features read
	// as before.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-1,1,6]}],"outputs":[{"name":"p","datatype":"FP32","shape":[-1,4]}]}`)
	}))
	defer ts.Close()
	rm, err := Open(context.Background(), ts.URL+"/v2/models/m", fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer rm.Close()
	if d := rm.Info().InputSize; d != 6 {
		t.Errorf("input size %d, want 6", d)
	}
}
