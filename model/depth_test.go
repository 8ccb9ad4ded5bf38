package model

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// deepModel returns a relu MLP of the given number of layers: 3 inputs,
// hidden layers of one unit, 2 outputs, every parameter 0.5.
func deepModel(layers int) *MLP {
	sizes := []int{3}
	for range layers - 1 {
		sizes = append(sizes, 1)
	}
	sizes = append(sizes, 2)
	m := &MLP{Sizes: sizes, Act: ActReLU, Labels: DefaultLabels(2), Theta: make([]float32, NumParams(sizes))}
	for i := range m.Theta {
		m.Theta[i] = 0.5
	}
	return m
}

// lnmBytes encodes m as Encode does, without Validate.
func lnmBytes(t *testing.T, m *MLP) []byte {
	t.Helper()
	hdr, err := json.Marshal(lnmHeader{Name: m.Name, Sizes: m.Sizes, Activation: m.Act, Labels: m.Labels, Params: len(m.Theta)})
	if err != nil {
		t.Fatal(err)
	}
	out := []byte(Magic)
	out = binary.LittleEndian.AppendUint32(out, FormatVersion)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(hdr)))
	out = append(out, hdr...)
	for _, v := range m.Theta {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	sum := sha256.Sum256(out)
	return append(out, sum[:]...)
}

// stDeepBytes encodes m's tensors as safetensors F32, without metadata.
func stDeepBytes(m *MLP) []byte {
	var h strings.Builder
	var data []byte
	h.WriteByte('{')
	for l := range m.NumLayers() {
		in, out := m.Sizes[l], m.Sizes[l+1]
		for _, tn := range []struct {
			name  string
			shape []int
			vals  []float32
		}{{"weight", []int{out, in}, m.W(l).Data}, {"bias", []int{out}, m.B(l)}} {
			if h.Len() > 1 {
				h.WriteByte(',')
			}
			shape, _ := json.Marshal(tn.shape)
			fmt.Fprintf(&h, `"layers.%d.%s":{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, l, tn.name, shape, len(data), len(data)+4*len(tn.vals))
			for _, v := range tn.vals {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
		}
	}
	h.WriteByte('}')
	return stFile(h.String(), data)
}

// TestMaxLayers checks that a model of MaxLayers layers is read and run,
// and one of a layer more refused by Validate, Predict and both decoders
// with an error that gives the count, not the list of sizes.
func TestMaxLayers(t *testing.T) {
	ok, deep := deepModel(MaxLayers), deepModel(MaxLayers+1)
	for _, tc := range []struct {
		name   string
		decode func(*MLP) (*MLP, error)
	}{
		{"lnm", func(m *MLP) (*MLP, error) { return Decode(bytes.NewReader(lnmBytes(t, m))) }},
		{"safetensors", func(m *MLP) (*MLP, error) { return DecodeSafetensors(stDeepBytes(m)) }},
	} {
		m, err := tc.decode(ok)
		if err != nil {
			t.Fatalf("%s: decode a model of %d layers: %v", tc.name, MaxLayers, err)
		}
		if got := m.NumLayers(); got != MaxLayers {
			t.Errorf("%s: decoded %d layers, want %d", tc.name, got, MaxLayers)
		}
		_, err = tc.decode(deep)
		if !errors.Is(err, ErrHeader) || !strings.Contains(err.Error(), fmt.Sprint(MaxLayers)) || len(err.Error()) > 200 {
			t.Errorf("%s: decode a model of %d layers: error %v, want ErrHeader saying at most %d, on one short line", tc.name, MaxLayers+1, err, MaxLayers)
		}
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate of %d layers: %v", MaxLayers, err)
	}
	if err := deep.Validate(); !errors.Is(err, ErrShape) {
		t.Errorf("Validate of %d layers: %v, want ErrShape", MaxLayers+1, err)
	}
	x := blas32.General{Rows: 1, Cols: 3, Stride: 3, Data: []float32{1, 2, 3}}
	if _, err := deep.Predict(context.Background(), x); !errors.Is(err, ErrShape) {
		t.Errorf("Predict of %d layers: %v, want ErrShape", MaxLayers+1, err)
	}
	p, err := ok.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	// Every layer of one unit gives 0.5·z + 0.5 of the one before; the
	// two outputs are equal.
	if p.Data[0] != 0.5 || p.Data[1] != 0.5 {
		t.Errorf("Predict = %v, want [0.5 0.5]", p.Data)
	}
}

// BenchmarkPredictDeep runs a model of MaxLayers layers of one unit on a
// batch of 300 rows: each layer's weights were found by summing the
// sizes of the layers before it, so a forward pass took time quadratic
// in the depth.
func BenchmarkPredictDeep(b *testing.B) {
	m := deepModel(MaxLayers)
	x := blas32.General{Rows: 300, Cols: 3, Stride: 3, Data: make([]float32, 900)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Predict(context.Background(), x); err != nil {
			b.Fatal(err)
		}
	}
}
