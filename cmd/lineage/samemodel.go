package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
)

// reading is how a run reads a remote model's answers: as logits
// (--logits) or not, and from the output --output names ("" for the
// default choice); and how it reads any model's labels (--label-map, zero
// for by their names).
type reading struct {
	logits bool
	output string
	labels model.LabelMap
}

// reading returns how the flags read a model's answers.
func (o *remoteOptions) reading() reading { return reading{o.logits, o.output, o.labelMap} }

// takenFrom reports whether fp was taken from the model ref (opened with
// info; the zero Info serves for a remote model, known by its source) on
// suite, at top-k topK, and for a remote model read as rd says (logits or
// not, from the output --output named, or by the default choice): whether
// a command may use it instead of asking the model again.
func takenFrom(fp *fingerprint.Fingerprint, suite, ref string, info model.Info, topK int, rd reading) bool {
	if fp.Suite != suite || !sameModel(fp, ref, info) || fp.TopK != topK || !sameLabelMap(fp, rd.labels) {
		return false
	}
	return isPlainPath(ref) || (fp.Meta[metaOutputs] == metaLogits) == rd.logits && sameOutput(fp, rd.output)
}

// sameLabelMap reports whether the labels of fp's model were read by the
// label map lm (by their names, for lm zero).
func sameLabelMap(fp *fingerprint.Fingerprint, lm model.LabelMap) bool {
	if lm.IsZero() {
		return fp.LabelMap() == ""
	}
	return fp.LabelMap() == lm.Format(fp.Model.Labels)
}

// labelsReadAs says how the labels of fp's model were read: by the label
// map recorded, or by their names.
func labelsReadAs(fp *fingerprint.Fingerprint) string {
	if lm := fp.LabelMap(); lm != "" {
		return "by the label map " + lm
	}
	return "by their names"
}

// sameOutput reports whether the remote fingerprint fp was read from the
// output --output names now (want), or for want "" by the default choice.
func sameOutput(fp *fingerprint.Fingerprint, want string) bool {
	if want == "" {
		return fp.Meta[metaOutputChosen] == ""
	}
	return fp.Meta[metaOutput] == want
}

// outputsNote says, for an error about the stored fingerprint fp of the
// remote model ref, how its answers were read when that is not how this
// run (rd) reads them; "" otherwise.
func outputsNote(fp *fingerprint.Fingerprint, ref string, rd reading) string {
	note := ""
	if !sameLabelMap(fp, rd.labels) {
		if lm := fp.LabelMap(); lm != "" {
			note = fmt.Sprintf(", its labels read by the label map %s", lm)
		} else {
			note = ", its labels read by their names (without --label-map)"
		}
	}
	if isPlainPath(ref) {
		return note
	}
	switch stored := fp.Meta[metaOutputs] == metaLogits; {
	case stored == rd.logits:
	case stored:
		note += ", its answers read as logits (--logits)"
	default:
		note += ", its answers read as probabilities (without --logits)"
	}
	if !sameOutput(fp, rd.output) {
		if out := fp.Meta[metaOutput]; fp.Meta[metaOutputChosen] != "" {
			note += fmt.Sprintf(", from output %q (--output)", out)
		} else if out != "" {
			note += fmt.Sprintf(", from output %q (without --output)", out)
		} else {
			note += ", without --output"
		}
	}
	return note
}

// sameModel reports whether fp was taken from the model ref, opened with
// info: for a model file, by the model's hash; for a remote model, by its
// source (remote.SameSource: the endpoint, or the exec: program and the
// files among its arguments).
func sameModel(fp *fingerprint.Fingerprint, ref string, info model.Info) bool {
	if r, err := remote.ParseRef(ref); err == nil && r.Kind == remote.RefFile {
		return fp.Model.Hash != "" && fp.Model.Hash == info.Hash
	}
	return remote.SameSource(fp.Model.Source, ref)
}

// sameInfo reports whether two fingerprints' models are one: by the
// model's hash when both have one (a model file however its path was
// spelled), else by their source.
func sameInfo(a, b model.Info) bool {
	if a.Hash != "" && b.Hash != "" {
		return a.Hash == b.Hash
	}
	return a.Hash == b.Hash && a.Source == b.Source
}

// fileBesideFingerprint is the error for ref, the ID of the stored
// fingerprint fp, when it is also the path of a model file of another
// model: the stored fingerprint was taken, and the file, which the user
// may well have meant, silently not audited (`audit s.lnm` gave the
// verdict of the fingerprint named s.lnm, another model's). A file that
// is no model, or the model fp was taken from, is no error.
func fileBesideFingerprint(ref string, fp *fingerprint.Fingerprint) error {
	if !isPlainPath(ref) {
		return nil
	}
	if st, err := os.Stat(ref); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	m, err := model.Open(ref)
	if err != nil {
		return nil
	}
	info := m.Info()
	if sameModel(fp, ref, info) {
		return nil
	}
	here := "./" + ref
	if filepath.IsAbs(ref) {
		here = filepath.Clean(ref)
	}
	return fmt.Errorf("%q names both a stored fingerprint (of model %q) and a model file here (model %q, another model): give the file as %s, or run the command where no file of that name is to use the fingerprint", ref, fp.Model.Name, info.Name, shellword.Arg(here))
}
