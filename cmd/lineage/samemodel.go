package main

import (
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
)

// takenFrom reports whether fp was taken from the model ref (opened with
// info; the zero Info serves for a remote model, known by its source) on
// suite, at top-k topK, and for a remote model read as logits or not as
// logits says: whether a command may use it instead of asking the model
// again.
func takenFrom(fp *fingerprint.Fingerprint, suite, ref string, info model.Info, topK int, logits bool) bool {
	if fp.Suite != suite || !sameModel(fp, ref, info) || fp.TopK != topK {
		return false
	}
	return isPlainPath(ref) || (fp.Meta[metaOutputs] == metaLogits) == logits
}

// outputsNote says, for an error about the stored fingerprint fp of the
// remote model ref, how its answers were read when that is not how this
// run (logits) reads them; "" otherwise.
func outputsNote(fp *fingerprint.Fingerprint, ref string, logits bool) string {
	stored := fp.Meta[metaOutputs] == metaLogits
	switch {
	case isPlainPath(ref) || stored == logits:
		return ""
	case stored:
		return ", its answers read as logits (--logits)"
	}
	return ", its answers read as probabilities (without --logits)"
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
