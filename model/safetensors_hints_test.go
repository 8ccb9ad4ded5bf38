package model

import (
	"slices"
	"strings"
	"testing"
)

// torchFile is a hand-built safetensors file as a PyTorch export writes
// it: a 2-2-1 network whose tensors are named by prefix ("layers." for
// lineage's naming, "0."/"2." style for an nn.Sequential's state_dict)
// and whose __metadata__ entries are meta (raw JSON members).
func torchFile(meta string, names [4]string) []byte {
	h := "{"
	if meta != "" {
		h += `"__metadata__":{` + meta + "},"
	}
	h += `"` + names[0] + `":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},` +
		`"` + names[1] + `":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},` +
		`"` + names[2] + `":{"dtype":"F32","shape":[1,2],"data_offsets":[24,32]},` +
		`"` + names[3] + `":{"dtype":"F32","shape":[1],"data_offsets":[32,36]}}`
	return stFile(h, make([]byte, 36))
}

var lineageNames = [4]string{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"}

// TestSafetensorsPyTorchHints checks that the mistakes of a hand-written
// PyTorch export are refused with a line saying what to do, where they
// were refused without one or, worse, read silently as another model.
func TestSafetensorsPyTorchHints(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"sequential state_dict", torchFile("", [4]string{"0.weight", "0.bias", "2.weight", "2.bias"}),
			"the file has 2-D tensors 0.weight, 2.weight: a PyTorch state_dict? save each nn.Linear in order as layers.0, layers.1"},
		{"prefixed state_dict", torchFile("", [4]string{"net.0.weight", "net.0.bias", "net.10.weight", "net.10.bias"}),
			"2-D tensors net.0.weight, net.10.weight: a PyTorch state_dict?"},
		{"labels not a string", torchFile(`"labels":["a"]`, lineageNames),
			`__metadata__ value of "labels" is not a string: safetensors metadata holds strings only`},
		// These were read silently as a model taking raw inputs.
		{"British spelling", torchFile(`"normalisation":"{\"mean\":[1,2],\"std\":[3,4]}"`, lineageNames),
			`key "normalisation" is not read: lineage reads "normalization"`},
		{"capitalised key", torchFile(`"Labels":"[\"a\"]"`, lineageNames), `key "Labels" is not read: lineage reads "labels"`},
		{"torchvision-style scale", torchFile(`"normalization":"{\"scale\":0.0625}"`, lineageNames), `unknown field "scale"`},
		{"scalar normalisation", torchFile(`"normalization":"{\"mean\":0,\"std\":16}"`, lineageNames),
			`normalization: want {"mean":[…],"std":[…]}, one number per input each`},
		{"transposed weight", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},"layers.0.bias":{"dtype":"F32","shape":[3],"data_offsets":[24,36]},`+
			`"layers.1.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[36,44]},"layers.1.bias":{"dtype":"F32","shape":[1],"data_offsets":[44,48]}}`, make([]byte, 48)),
			"want [out, in] and [out] (saved transposed? nn.Linear's weight is [out, in]: save weight, not weight.T)"},
		{"transposed chain", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},"layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},`+
			`"layers.1.weight":{"dtype":"F32","shape":[3,3],"data_offsets":[32,68]},"layers.1.bias":{"dtype":"F32","shape":[3],"data_offsets":[68,80]}}`, make([]byte, 80)),
			"layer 1 takes 3 inputs but layer 0 has 2 outputs (saved transposed?"},
		{"batch norm", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"layers.0.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},`+
			`"bn.running_mean":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"bn.running_var":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}`, make([]byte, 16)),
			"tensor bn.running_mean is a batch norm's: lineage reads nn.Linear layers and activations only, so fold the batch norm"},
		{"no bias", stFile(`{"layers.0.weight":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]}}`, make([]byte, 4)),
			"tensor layers.0.bias is missing (an nn.Linear(bias=False)? write a bias of zeros)"},
		{"zero deviation", torchFile(`"normalization":"{\"mean\":[1,2],\"std\":[3,0]}"`, lineageNames),
			"normalisation deviation 1 is 0, want a positive number (a feature constant in the training data"},
	}
	for _, tt := range tests {
		_, err := DecodeSafetensors(tt.file)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", tt.name, err)
		}
	}
}

// TestSafetensorsDefaultedMetadata checks which keys DefaultedMetadata
// reports, and that PyTorch's module names for activations are read.
func TestSafetensorsDefaultedMetadata(t *testing.T) {
	tests := []struct {
		meta string
		want []string
		act  Activation
	}{
		{"", []string{"activation", "labels", "normalization"}, ActReLU},
		{`"format":"pt"`, []string{"activation", "labels", "normalization"}, ActReLU},
		{`"activation":"Tanh","labels":"[\"a\"]"`, []string{"normalization"}, ActTanh},
		{`"activation":"GELU","labels":"[\"a\"]","normalization":"{}"`, nil, ActGELU},
	}
	for _, tt := range tests {
		m, err := DecodeSafetensors(torchFile(tt.meta, lineageNames))
		if err != nil {
			t.Fatalf("%s: %v", tt.meta, err)
		}
		if got := m.DefaultedMetadata(); !slices.Equal(got, tt.want) || m.Act != tt.act {
			t.Errorf("%s: defaulted %q, activation %s; want %q, %s", tt.meta, got, m.Act, tt.want, tt.act)
		}
	}
	m, _ := DecodeSafetensors(torchFile("", lineageNames))
	m.Labels = []string{"a"}
	data, err := EncodeSafetensors(m)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := DecodeSafetensors(data); err != nil || back.DefaultedMetadata() != nil {
		t.Errorf("lineage's own export: defaulted %v (err %v), want none", back.DefaultedMetadata(), err)
	}
}
