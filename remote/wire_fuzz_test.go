package remote

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"gonum.org/v1/gonum/blas/blas32"
)

// FuzzDecodeAnswer feeds arbitrary inference responses (all JSON, or a
// JSON header of a given length and binary data) to decodeAnswer: it must
// never panic nor write past the n×k rows it was given (the rest of the
// output matrix belongs to batches other workers are filling).
func FuzzDecodeAnswer(f *testing.F) {
	p := blas32.General{Rows: 1, Cols: 2, Stride: 2, Data: []float32{0.25, 0.75}}
	bin, hl := serve.EncodeBinaryResponse(nil, "m", "7", p)
	f.Add(bin, hl, uint8(1), uint8(2))
	f.Add(serve.EncodeResponse(nil, "m", "7", p), -1, uint8(1), uint8(2))
	f.Add([]byte(`{"outputs":[{"name":"x","shape":[1,1],"parameters":{"binary_data_size":4}},{"name":"probabilities","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}]}abcdefghijkl`), 108, uint8(1), uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, headerLen int, rows, cols uint8) {
		n, k := int(rows%4)+1, int(cols%4)+1
		c := &HTTPModel{outputName: serve.OutputName, binary: true, info: model.Info{Name: "m"}}
		h := http.Header{}
		if headerLen >= 0 {
			h.Set(serve.HeaderLength, strconv.Itoa(headerLen))
		}
		const guard = 1234.5
		out := make([]float32, n*k+8)
		for i := range out {
			out[i] = guard
		}
		err := c.decodeAnswer(h, body, "7", out[:n*k], n, k)
		for i, v := range out[n*k:] {
			if v != guard {
				t.Fatalf("value %d past the %d×%d answer overwritten with %v (error %v)", n*k+i, n, k, v, err)
			}
		}
	})
}

// FuzzExecAnswer feeds arbitrary "probabilities" of an exec answer to
// parseProbabilities: it must never panic nor write past the n×k values
// it was given (the rest of the output matrix is the next batches'), even
// though the slice it gets has room beyond them; and what it accepts is
// n rows of k numbers each.
func FuzzExecAnswer(f *testing.F) {
	f.Add([]byte(`[[0.25,0.75]]`), uint8(1), uint8(2))
	f.Add([]byte(`[[1,0],[0,1],[0.5,0.5]]`), uint8(2), uint8(2))
	f.Add([]byte(`[[0.5,0.5,0.5,0.5]]`), uint8(2), uint8(2))
	f.Add([]byte(`[0.5,0.5]`), uint8(1), uint8(2))
	f.Add([]byte(` [ [1] , [0] ] `), uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, rows, cols uint8) {
		n, k := int(rows%4)+1, int(cols%4)+1
		const guard = 1234.5
		out := make([]float32, n*k+8)
		for i := range out {
			out[i] = guard
		}
		err := parseProbabilities(out[:n*k], data, n, k)
		for i, v := range out[n*k:] {
			if v != guard {
				t.Fatalf("value %d past the %d×%d answer overwritten with %v (error %v)", n*k+i, n, k, v, err)
			}
		}
		if err != nil {
			return
		}
		var m [][]float64
		if jerr := json.Unmarshal(data, &m); jerr != nil || len(m) != n || slices.ContainsFunc(m, func(r []float64) bool { return len(r) != k }) {
			t.Fatalf("accepted %q as %d×%d; encoding/json reads %v (%v)", data, n, k, m, jerr)
		}
		if flat, ferr := serve.ParseFloats(nil, data); ferr != nil || !slices.Equal(flat, out[:n*k]) {
			t.Fatalf("parsed %q as %v; serve.ParseFloats reads %v (%v)", data, out[:n*k], flat, ferr)
		}
	})
}
