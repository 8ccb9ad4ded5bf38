package main

import (
	"fmt"
	"io"
	"strings"
)

// defaultedMeta is a model read from a safetensors file that may have
// lacked some of lineage's metadata (model.MLP.DefaultedMetadata).
type defaultedMeta interface{ DefaultedMetadata() []string }

// noteDefaultedMetadata writes one line to w when m was read from a
// safetensors file without some of lineage's metadata keys, naming them
// and the defaults read in their place: a PyTorch model exported without
// its "normalization" takes the data's raw inputs and answers wrongly
// without any error, which only this note shows.
func noteDefaultedMetadata(w io.Writer, ref string, m any) {
	keys := defaultedKeys(m)
	if len(keys) == 0 {
		return
	}
	what := map[string]string{
		"activation":    "relu between layers",
		"labels":        `labels "0", "1", …`,
		"normalization": "inputs used as they are, not normalised",
	}
	var quoted, read []string
	for _, k := range keys {
		quoted = append(quoted, fmt.Sprintf("%q", k))
		read = append(read, what[k])
	}
	fmt.Fprintf(w, "lineage: %s has no %s metadata, so it is read with %s: if it was trained otherwise (on scaled or standardised inputs, say), add the metadata (README: \"Models from PyTorch\"); an audit does not clear a suspect read so\n",
		ref, strings.Join(quoted, ", "), strings.Join(read, "; "))
}

// defaultedKeys returns the metadata keys the model file behind m lacked
// (model.MLP.DefaultedMetadata), nil for none or for a model of another
// kind; a journaled remote model is looked through.
func defaultedKeys(m any) []string {
	if j, ok := m.(journaled); ok {
		m = j.r
	}
	if d, ok := m.(defaultedMeta); ok {
		return d.DefaultedMetadata()
	}
	return nil
}
