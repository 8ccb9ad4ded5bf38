package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/serve"
	"gonum.org/v1/gonum/blas/blas32"
)

// twoOutputServer serves m with two probability outputs: "uniform" (listed
// first, every label alike) and "calibrated" (m's own answers), and
// answers the one a request names.
func twoOutputServer(t *testing.T) *httptest.Server {
	t.Helper()
	m := testMLP()
	info := m.Info()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply := func(v any) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		}
		switch r.URL.Path {
		case "/v2":
			reply(map[string]any{"name": "two", "extensions": []string{}})
		case "/v2/models/m":
			outs := []map[string]any{
				{"name": "uniform", "datatype": "FP32", "shape": []int{-1, len(info.Labels)}},
				{"name": "calibrated", "datatype": "FP32", "shape": []int{-1, len(info.Labels)}},
			}
			reply(map[string]any{"name": "m", "inputs": []map[string]any{{"name": "x", "datatype": "FP32", "shape": []int{-1, info.InputSize}}}, "outputs": outs})
		case "/v2/models/m/infer":
			body, _ := io.ReadAll(r.Body)
			var req serve.InferenceRequest
			if err := json.Unmarshal(body, &req); err != nil || len(req.Inputs) != 1 || len(req.Outputs) != 1 {
				w.WriteHeader(http.StatusBadRequest)
				reply(map[string]string{"error": "want one input and one named output"})
				return
			}
			xs, _ := req.Inputs[0].Float32s()
			n := int(req.Inputs[0].Shape[0])
			p, err := m.Predict(r.Context(), blas32.General{Rows: n, Cols: info.InputSize, Stride: info.InputSize, Data: xs})
			if err != nil {
				t.Error(err)
				return
			}
			if req.Outputs[0].Name == "uniform" {
				for i := range p.Data {
					p.Data[i] = 1 / float32(p.Cols)
				}
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(serve.EncodeResponse(nil, "m", req.ID, p))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestChooseOutput checks which output a model with several probability
// outputs is read from: the first listed by default (reported with the
// others, so that callers can say so), the one Options.Output names, and
// a refusal naming the outputs for a name the model does not list.
func TestChooseOutput(t *testing.T) {
	ts := twoOutputServer(t)
	x := randomBatch(3, 6, 5)
	own, err := testMLP().Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		output, read string
		others       []string
		own          bool // answers are the model's own, not uniform
		err          string
	}{
		{"", "uniform", []string{"calibrated"}, false, ""},
		{"calibrated", "calibrated", []string{"uniform"}, true, ""},
		{"probabilities", "", nil, false, `output "probabilities": the model lists no such output (it lists "uniform", "calibrated")`},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			opts := fastOpts()
			opts.Output = tt.output
			rm, err := Open(context.Background(), ts.URL+"/v2/models/m", opts)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Open: got error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer rm.Close()
			read, others := rm.(*HTTPModel).ReadableOutputs()
			if read != tt.read || !slices.Equal(others, tt.others) {
				t.Errorf("ReadableOutputs: got %q, %q; want %q, %q", read, others, tt.read, tt.others)
			}
			got, err := rm.Predict(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			if same := slices.Equal(got.Data[:got.Rows*got.Cols], own.Data[:own.Rows*own.Cols]); same != tt.own {
				t.Errorf("answers are the model's own: got %v, want %v", same, tt.own)
			}
		})
	}
}

// TestChooseOutputManyOutputs checks that the error for an unknown
// Options.Output stays one short line when the model lists the most
// outputs allowed, with the longest names: it listed them all, 256 KB.
func TestChooseOutputManyOutputs(t *testing.T) {
	outs := make([]serve.MetadataTensor, MaxOutputs)
	for i := range outs {
		outs[i] = serve.MetadataTensor{Name: fmt.Sprintf("out%03d-", i) + strings.Repeat("é", MaxNameBytes/2-4), Datatype: serve.FP32}
	}
	c := &HTTPModel{opts: Options{Output: "nosuch"}}
	_, err := c.chooseOutput(outs)
	if err == nil {
		t.Fatal("chooseOutput: no error for an output the model does not list")
	}
	msg := err.Error()
	if len(msg) > 1200 || strings.Contains(msg, "\n") {
		t.Errorf("the error is %d bytes (at most 1200 wanted, on one line): %.300s…", len(msg), msg)
	}
	for _, want := range []string{`output "nosuch": the model lists no such output (it lists "out000-é`, `"out009-`, "\"… and 246 more)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("got %.300s…, want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "out010-") || !utf8.ValidString(msg) {
		t.Errorf("got %q, want the first 10 names alone, valid UTF-8", msg)
	}
}
