package model

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// DefaultedMetadata returns the lineage metadata keys ("activation",
// "labels", "normalization") that the safetensors file m was read from
// lacked, so that their defaults were used (relu, "0".."K-1", inputs taken
// as they are), in that order; nil for a model read from a file that had
// them all, or not read from a safetensors file. A model exported from
// PyTorch without its "normalization" is read as taking raw inputs: if it
// was trained on scaled or standardised inputs, its answers are wrong
// without any error, so callers say so.
func (m *MLP) DefaultedMetadata() []string { return slices.Clone(m.defaulted) }

// stMisspelt maps metadata keys that a hand-written export may use for
// one of lineage's to the key lineage reads. Such a key is refused, not
// ignored: an ignored "normalisation" would feed the model raw inputs.
var stMisspelt = map[string]string{
	"normalisation": stNorm, "normalise": stNorm, "normalize": stNorm, "norm": stNorm,
	"input_normalization": stNorm, "input_normalisation": stNorm, "mean": stNorm, "std": stNorm,
	"act": stActivation, "activations": stActivation, "activation_fn": stActivation, "nonlinearity": stActivation,
	"label": stLabels, "classes": stLabels, "class_names": stLabels, "id2label": stLabels,
}

// checkMetaKeys refuses a metadata key that stands for one of lineage's
// under another spelling or case (see stMisspelt).
func checkMetaKeys(meta map[string]string) error {
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		want, ok := stMisspelt[strings.ToLower(k)]
		if !ok {
			switch lk := strings.ToLower(k); lk {
			case stActivation, stLabels, stNorm, stName:
				if lk != k {
					want, ok = lk, true
				}
			}
		}
		if ok {
			return fmt.Errorf("key %q is not read: lineage reads %q (see the README's safetensors section)", k, want)
		}
	}
	return nil
}

// decodeMeta decodes a safetensors __metadata__ object, which maps
// strings to strings; a value of another JSON type (an array of labels
// written as it is) is refused naming its key.
func decodeMeta(raw json.RawMessage) (map[string]string, error) {
	var vals map[string]json.RawMessage
	if err := json.Unmarshal(raw, &vals); err != nil {
		return nil, fmt.Errorf("invalid __metadata__ (want a JSON object of strings): %v", err)
	}
	meta := make(map[string]string, len(vals))
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var s string
		if err := json.Unmarshal(vals[k], &s); err != nil {
			return nil, fmt.Errorf("__metadata__ value of %q is not a string: safetensors metadata holds strings only, so write a list or object JSON-encoded inside a string (Python: json.dumps(value))", k)
		}
		meta[k] = s
	}
	return meta, nil
}

// seqWeight matches the weight of an nn.Sequential's module in a
// state_dict, at the top level ("0.weight") or under a prefix
// ("net.2.weight", "model.layers.0.weight").
var seqWeight = regexp.MustCompile(`^(?:(.*)\.)?(\d+)\.weight$`)

// missingLayersHint explains, for a header without layers.0.weight, what
// its 2-D weights look like and how to rename them: a PyTorch
// state_dict names them after its modules.
func missingLayersHint(raw map[string]json.RawMessage) string {
	var names []string
	prefixes := map[string]bool{}
	for name, r := range raw {
		var t struct {
			Shape []int `json:"shape"`
		}
		if name == "__metadata__" || json.Unmarshal(r, &t) != nil || len(t.Shape) != 2 {
			continue
		}
		names = append(names, name)
		if m := seqWeight.FindStringSubmatch(name); m != nil {
			prefixes[m[1]] = true
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.SortFunc(names, naturalCompare)
	shown := names
	if len(shown) > 4 {
		shown = append(slices.Clone(shown[:4]), "…")
	}
	hint := fmt.Sprintf("; the file has 2-D tensors %s", strings.Join(shown, ", "))
	if len(prefixes) == 1 {
		hint += ": a PyTorch state_dict? save each nn.Linear in order as layers.0, layers.1, … (weight and bias), skipping the activations' numbers"
	}
	return hint
}

// naturalCompare orders names with their numbers by value ("2.weight"
// before "10.weight").
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitsPrefix(a), digitsPrefix(b)
		if da != "" && db != "" {
			if len(da) != len(db) {
				return len(da) - len(db)
			}
			if c := strings.Compare(da, db); c != 0 {
				return c
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitsPrefix(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// transposedWeight is the hint for a weight saved as [in, out].
const transposedWeight = " (saved transposed? nn.Linear's weight is [out, in]: save weight, not weight.T)"

// transposedHint says, for layer weights in raw whose shapes do not chain
// as [out, in], whether they chain as [in, out]: weights saved transposed
// (numpy's x @ W convention, or weight.T) rather than as nn.Linear stores
// them.
func transposedHint(raw map[string]json.RawMessage) string {
	var prev []int
	for l := 0; ; l++ {
		r, ok := raw[fmt.Sprintf("layers.%d.weight", l)]
		var t struct {
			Shape []int `json:"shape"`
		}
		if !ok || json.Unmarshal(r, &t) != nil || len(t.Shape) != 2 {
			return ""
		}
		if prev != nil && t.Shape[0] != prev[1] {
			return ""
		}
		prev = t.Shape
		if _, ok := raw[fmt.Sprintf("layers.%d.weight", l+1)]; !ok {
			if l == 0 {
				return ""
			}
			return transposedWeight
		}
	}
}

// batchNormTensor returns the name of a batch norm's running statistics
// in raw, if it holds one (the smallest name): such a model has layers
// lineage cannot read, and reading its linear layers alone, as other
// tensors are ignored, would be another model.
func batchNormTensor(raw map[string]json.RawMessage) (string, bool) {
	var found string
	for name := range raw {
		if (strings.HasSuffix(name, ".running_mean") || strings.HasSuffix(name, ".running_var")) && (found == "" || name < found) {
			found = name
		}
	}
	return found, found != ""
}
