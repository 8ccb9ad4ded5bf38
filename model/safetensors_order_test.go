package model

import (
	"fmt"
	"strings"
	"testing"
)

// TestSafetensorsErrorNamesFirstTensor: of several tensors without data
// offsets the error names the first by name, every time. It named
// whichever Go's map iteration met first, so the same file gave another
// error line from one run to the next.
func TestSafetensorsErrorNamesFirstTensor(t *testing.T) {
	header := `{"layers.0.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},` +
		`"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}`
	for i := 11; i >= 0; i-- {
		header += fmt.Sprintf(`,"t%02d.extra":{"dtype":"F32","shape":[1]}`, i)
	}
	file := stFile(header+"}", make([]byte, 16))
	const want = "tensor t00.extra has no data_offsets"
	for i := range 30 {
		_, err := DecodeSafetensors(file)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("decode %d: error %v, want one saying %q", i+1, err, want)
		}
	}
}
