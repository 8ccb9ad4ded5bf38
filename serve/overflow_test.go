package serve

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
)

// TestInferNaNOutput checks that a model whose output overflows to NaN is
// answered 500 saying so: its NaN probabilities went out as JSON nulls
// with status 200.
func TestInferNaNOutput(t *testing.T) {
	m := testModel()
	m.Act = model.ActReLU
	// The hidden units go to +Inf, and the logits sum +Inf and −Inf.
	for i := range m.W(0).Data {
		m.W(0).Data[i] = 3e38
	}
	for i := range m.W(1).Data {
		m.W(1).Data[i] = 3e38 * float32(1-2*(i%2))
	}
	s, err := New(m, Options{Log: new(strings.Builder)})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	code, _, body := do(t, "POST", ts.URL+"/v2/models/tiny/infer", "", inferBody([][]float32{{1, 2, 3, 4}}, "FP32"))
	if want := "the model's output is NaN"; code != 500 || !strings.Contains(string(body), want) {
		t.Errorf("status %d, body %s; want 500 and a body containing %q", code, body, want)
	}
}
