package remote

import (
	"encoding/json"
	"testing"
)

// TestExplainNonFinite checks that an answer holding NaN or Infinity
// where a number goes, as Python's json module writes a model's
// non-finite outputs, is named as such; it was only "invalid character
// 'N' looking for beginning of value".
func TestExplainNonFinite(t *testing.T) {
	const why = ", which JSON cannot carry: the model's output is not a finite number"
	tests := []struct {
		name, answer, want string
	}{
		{"NaN", `{"id":1,"probabilities":[[NaN,0.5]]}`, "invalid character 'N' looking for beginning of value: the answer holds NaN" + why},
		{"Infinity", `{"id":1,"probabilities":[[Infinity,0]]}`, "invalid character 'I' looking for beginning of value: the answer holds Infinity" + why},
		{"-Infinity", `{"id":1,"probabilities":[[0.5,-Infinity]]}`, "invalid character 'I' in numeric literal: the answer holds Infinity" + why},
		{"other syntax error", `{"id":1,"probabilities":[[Nope]]}`, "invalid character 'N' looking for beginning of value"},
		{"truncated", `{"id":1,"probabilities":[[0.5`, "unexpected end of JSON input"},
	}
	for _, tt := range tests {
		var v ExecResponse
		err := json.Unmarshal([]byte(tt.answer), &v)
		if err == nil {
			t.Fatalf("%s: Unmarshal accepted %s", tt.name, tt.answer)
		}
		if got := explainNonFinite(err, []byte(tt.answer)).Error(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
