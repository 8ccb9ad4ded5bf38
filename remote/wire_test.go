package remote

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
)

// TestDecodeAnswerValueErrors checks that a JSON answer holding a value
// that is no float32 names it by row and value, not by its place in the
// flattened data and its byte offset ("value 3 at offset 17"), and says
// what is wrong with it; a value out of range is not retried (the server
// answers it again), one that is not a number is a malformed answer.
func TestDecodeAnswerValueErrors(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		want      string
		malformed bool
	}{
		{"string, flat data", `[0.5,0.5,0.25,"0.75"]`, `output "probabilities": answer row 1, value 1: "0.75" is not a number`, true},
		{"beyond float32", `[[0.5,0.5],[1e308,0]]`, `output "probabilities": answer row 1, value 0: 1e308 is out of float32 range`, false},
		{"null", `[[0.5,null],[1,0]]`, `output "probabilities": answer row 0, value 1: null is not a number`, false},
		{"past the shape", `[0.5,0.5,0.25,0.75,"x"]`, `output "probabilities": value 4, past the 4 of shape [2 2]: "x" is not a number`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &HTTPModel{outputName: serve.OutputName, info: model.Info{Name: "m"}}
			body := fmt.Sprintf(`{"outputs":[{"name":"probabilities","datatype":"FP32","shape":[2,2],"data":%s}]}`, tt.data)
			err := c.decodeAnswer(http.Header{}, []byte(body), "7", make([]float32, 4), 2, 2)
			if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("got error %v, want one ending %q", err, tt.want)
			}
			var m *malformedError
			if got := errors.As(err, &m); got != tt.malformed {
				t.Errorf("got malformed (retried) %v, want %v", got, tt.malformed)
			}
		})
	}
}

// TestDecodeBinaryFP64 checks FP64 binary output data: read as doubles,
// a value beyond float32 named by row and value and not retried, a size
// that fits neither width malformed.
func TestDecodeBinaryFP64(t *testing.T) {
	vals := []float64{0.25, 0.75, 1, 0}
	var bin []byte
	for _, v := range vals {
		bin = binary.LittleEndian.AppendUint64(bin, math.Float64bits(v))
	}
	answer := func(size int, b []byte) (http.Header, []byte) {
		hdr := fmt.Sprintf(`{"id":"7","outputs":[{"name":"probabilities","datatype":"FP64","shape":[2,2],"parameters":{"binary_data_size":%d}}]}`, size)
		return http.Header{serve.HeaderLength: {fmt.Sprint(len(hdr))}}, append([]byte(hdr), b...)
	}
	c := &HTTPModel{outputName: serve.OutputName, info: model.Info{Name: "m"}}
	dst := make([]float32, 4)
	h, body := answer(32, bin)
	if err := c.decodeAnswer(h, body, "7", dst, 2, 2); err != nil || fmt.Sprint(dst) != "[0.25 0.75 1 0]" {
		t.Fatalf("got %v, %v; want [0.25 0.75 1 0]", dst, err)
	}
	big := slices.Clone(bin)
	binary.LittleEndian.PutUint64(big[16:], math.Float64bits(1e300))
	h, body = answer(32, big)
	err := c.decodeAnswer(h, body, "7", dst, 2, 2)
	var m *malformedError
	if err == nil || !strings.Contains(err.Error(), "answer row 1, value 0: 1e+300 is not a finite float32") || errors.As(err, &m) {
		t.Errorf("1e300: got %v, want a finite-float32 error for row 1 value 0, not retried", err)
	}
	h, body = answer(16, bin[:16])
	if err := c.decodeAnswer(h, body, "7", dst, 2, 2); !errors.As(err, &m) {
		t.Errorf("16 bytes of FP64 for 4 values: got %v, want a malformed answer", err)
	}
}
