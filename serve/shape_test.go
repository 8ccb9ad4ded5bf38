package serve

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestSingleInputShape checks that one input sent without a batch
// dimension (shape [inputSize]) is answered with shape [labels], in JSON
// and binary; it was answered [1, labels], which a client that sent
// [inputSize] (Triton's models without batching do) did not expect.
func TestSingleInputShape(t *testing.T) {
	ts, _ := newTestServer(t, Options{})
	tests := []struct {
		name, body string
		want       string
	}{
		{"batched", `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}]}`, "[1 3]"},
		{"single", `{"inputs":[{"name":"input","datatype":"FP32","shape":[4],"data":[1,2,3,4]}]}`, "[3]"},
		{"single, binary output", `{"inputs":[{"name":"input","datatype":"FP32","shape":[4],"data":[1,2,3,4]}],"outputs":[{"name":"probabilities","parameters":{"binary_data":true}}]}`, "[3]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, body := do(t, "POST", ts.URL+"/v2/models/tiny/infer", "", tt.body)
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
			head := body
			if n, err := strconv.Atoi(h.Get(HeaderLength)); err == nil {
				head = body[:n]
				if got := len(body) - n; got != 4*3 {
					t.Errorf("binary part of %d bytes, want 12", got)
				}
			}
			var resp InferenceResponse
			if err := json.Unmarshal(head, &resp); err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(resp.Outputs[0].Shape); got != tt.want {
				t.Errorf("output shape: got %s, want %s", got, tt.want)
			}
		})
	}
}

// TestClassificationRefused checks that a request for the classification
// extension's top classes is refused, naming the parameter: it was
// answered with the probabilities, which such a client misreads.
func TestClassificationRefused(t *testing.T) {
	ts, _ := newTestServer(t, Options{})
	body := `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":[1,2,3,4]}],"outputs":[{"name":"probabilities","parameters":{"classification":2}}]}`
	code, _, b := do(t, "POST", ts.URL+"/v2/models/tiny/infer", "", body)
	var e ErrorResponse
	if code != 400 || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Error, `output "probabilities": parameter "classification" is not supported`) {
		t.Errorf("classification request: status %d, body %s; want 400 naming the parameter", code, b)
	}
}
