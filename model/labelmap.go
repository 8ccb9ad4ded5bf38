package model

// This file reads a model's labels under other names, as an auditor states.

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// LabelMap is a correspondence an auditor states between a model's labels
// and the labels of a suite or dataset: the model's label From stands for
// To. Its pairs keep the order they were given in; no From and no To
// appears twice, so a LabelMap is one-to-one. It renames labels only: it
// is never fitted to a model's answers (a correspondence chosen to make a
// suspect agree with a teacher would make its p-value meaningless).
type LabelMap struct {
	pairs []labelPair
}

type labelPair struct{ from, to string }

// ErrLabelMap is wrapped by the errors of ParseLabelMap and
// LabelMap.Rename.
var ErrLabelMap = errors.New("label map")

// ErrLabelNames is matched (errors.Is) by the errors saying that a model
// lists as many labels as the suite or dataset it is read against, but
// not the same ones (fingerprint.MismatchError, eval.LabelsError): they
// may be the same classes under other names, which a LabelMap states.
// Commands add that advice once, to the whole error.
var ErrLabelNames = errors.New("labels differ by name")

// ParseLabelMap parses "FROM=TO" pairs separated by commas or line
// breaks, each name trimmed of surrounding spaces; blank lines, empty
// pairs ("a=0,,b=1") and lines starting with '#' are skipped. It refuses an empty map, a pair without
// exactly one '=' or with an empty name, and a From or To named twice
// (the map must be one-to-one), naming the pair; the error wraps
// ErrLabelMap.
func ParseLabelMap(s string) (LabelMap, error) {
	var lm LabelMap
	from := map[string]int{}
	to := map[string]int{}
	n := 0
	for line := range strings.Lines(s) {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		for field := range strings.SplitSeq(strings.TrimRight(line, "\r\n"), ",") {
			if strings.TrimSpace(field) == "" {
				continue // "a=0,\nb=1": a comma at the end of a line
			}
			n++
			f, t, ok := strings.Cut(field, "=")
			f, t = strings.TrimSpace(f), strings.TrimSpace(t)
			switch {
			case !ok || strings.Contains(t, "="):
				return LabelMap{}, fmt.Errorf("%w: pair %d %q: want MODEL_LABEL=TEACHER_LABEL", ErrLabelMap, n, shortPair(field))
			case f == "" || t == "":
				return LabelMap{}, fmt.Errorf("%w: pair %d %q: a label is empty", ErrLabelMap, n, shortPair(field))
			case len(f) > MaxNameBytes || len(t) > MaxNameBytes:
				return LabelMap{}, fmt.Errorf("%w: pair %d: a label is longer than %d bytes", ErrLabelMap, n, MaxNameBytes)
			}
			if k, dup := from[f]; dup {
				return LabelMap{}, fmt.Errorf("%w: model label %q is mapped twice (pairs %d and %d): the map must be one-to-one", ErrLabelMap, shortPair(f), k, n)
			}
			if k, dup := to[t]; dup {
				return LabelMap{}, fmt.Errorf("%w: label %q is the image of two model labels (pairs %d and %d): the map must be one-to-one", ErrLabelMap, shortPair(t), k, n)
			}
			from[f], to[t] = n, n
			lm.pairs = append(lm.pairs, labelPair{f, t})
		}
	}
	if len(lm.pairs) == 0 {
		return LabelMap{}, fmt.Errorf("%w: no MODEL_LABEL=TEACHER_LABEL pairs", ErrLabelMap)
	}
	return lm, nil
}

// shortPair cuts s for an error message of one line.
func shortPair(s string) string { return ShortLabels([]string{s})[0] }

// IsZero reports whether lm holds no pairs (no map was stated).
func (lm LabelMap) IsZero() bool { return len(lm.pairs) == 0 }

// Len returns the number of pairs.
func (lm LabelMap) Len() int { return len(lm.pairs) }

// Rename returns labels with each renamed to what lm maps it to. It
// refuses (an error wrapping ErrLabelMap, naming the label) a label lm
// does not map, and a pair whose model label labels lacks: the map states
// what every one of the model's labels stands for, and nothing else.
func (lm LabelMap) Rename(labels []string) ([]string, error) {
	to := make(map[string]string, len(lm.pairs))
	for _, p := range lm.pairs {
		to[p.from] = p.to
	}
	out := make([]string, len(labels))
	have := make(map[string]bool, len(labels))
	for i, l := range labels {
		t, ok := to[l]
		if !ok {
			return nil, fmt.Errorf("%w: it does not say which label the model's label %q stands for", ErrLabelMap, shortPair(l))
		}
		out[i] = t
		have[l] = true
	}
	for _, p := range lm.pairs {
		if !have[p.from] {
			return nil, fmt.Errorf("%w: it maps %q, which the model does not list", ErrLabelMap, shortPair(p.from))
		}
	}
	return out, nil
}

// Format returns lm as ParseLabelMap reads it, "FROM=TO,FROM=TO", with
// the pairs in the order of labels when each of them is mapped (a
// model's own order, for the record of how its answers were read), else
// in the order given.
func (lm LabelMap) Format(labels []string) string {
	ordered := lm.pairs
	if _, err := lm.Rename(labels); err == nil {
		at := make(map[string]int, len(lm.pairs))
		for i, p := range lm.pairs {
			at[p.from] = i
		}
		ordered = make([]labelPair, len(labels))
		for i, l := range labels {
			ordered[i] = lm.pairs[at[l]]
		}
	}
	var b strings.Builder
	for i, p := range ordered {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.from + "=" + p.to)
	}
	return b.String()
}

// Relabel returns a Model answering as m does whose Info lists m's labels
// renamed by lm (LabelMap.Rename's error when lm does not name each of
// them, and them alone): for reading a model whose labels are a
// dataset's classes under other names, before aligning it to the
// dataset's order (InLabelOrder). The columns of its answers are m's.
func Relabel(m Model, lm LabelMap) (Model, error) {
	labels, err := lm.Rename(m.Info().Labels)
	if err != nil {
		return nil, err
	}
	return &relabelled{Model: m, labels: labels}, nil
}

// relabelled is Relabel's model.
type relabelled struct {
	Model
	labels []string
}

func (r *relabelled) Info() Info {
	info := r.Model.Info()
	info.Labels = slices.Clone(r.labels)
	return info
}

// Unwrap returns the wrapped model.
func (r *relabelled) Unwrap() Model { return r.Model }
