package main

import (
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
)

// TestOutputsNote checks that the note on a stored remote fingerprint read
// otherwise than this run reads it names every difference: its label map
// as well as its logits and output.
func TestOutputsNote(t *testing.T) {
	lm, err := model.ParseLabelMap("zero=0,one=1")
	if err != nil {
		t.Fatal(err)
	}
	const ref = "http://example.invalid/v2/models/m"
	mapped := func(meta map[string]string) *fingerprint.Fingerprint {
		fp := &fingerprint.Fingerprint{Model: model.Info{Labels: []string{"zero", "one"}}, Meta: map[string]string{fingerprint.MetaLabelMap: "zero=0,one=1"}}
		for k, v := range meta {
			fp.Meta[k] = v
		}
		return fp
	}
	for _, tt := range []struct {
		name string
		fp   *fingerprint.Fingerprint
		rd   reading
		want string
	}{
		{"same", mapped(nil), reading{labels: lm}, ""},
		{"map only", mapped(nil), reading{}, ", its labels read by the label map zero=0,one=1"},
		{"map and logits", mapped(map[string]string{metaOutputs: metaLogits}), reading{}, ", its labels read by the label map zero=0,one=1, its answers read as logits (--logits)"},
		{"map and probabilities", mapped(nil), reading{logits: true}, ", its labels read by the label map zero=0,one=1, its answers read as probabilities (without --logits)"},
		{"no map and logits", &fingerprint.Fingerprint{Meta: map[string]string{metaOutputs: metaLogits}}, reading{labels: lm}, ", its labels read by their names (without --label-map), its answers read as logits (--logits)"},
		{"map and output", mapped(map[string]string{metaOutput: "probs", metaOutputChosen: "1"}), reading{}, ", its labels read by the label map zero=0,one=1, from output \"probs\" (--output)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := outputsNote(tt.fp, ref, tt.rd); got != tt.want {
				t.Errorf("outputsNote = %q\nwant           %q", got, tt.want)
			}
		})
	}
}
