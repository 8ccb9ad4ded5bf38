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
// pairs ("a=0,,b=1") and lines starting with '#' are skipped. A backslash
// makes the character after it part of a name when that is ',', '=', '#'
// or a backslash ("a\,b=x\=y" maps "a,b" to "x=y"; "\#a=0" maps "#a",
// not a comment); before any other character, or ending the text, it is a
// backslash. It refuses an empty map, a pair without exactly one '=' (not
// counting escaped ones) or with an empty name, and a From or To named
// twice (the map must be one-to-one), naming the pair and, for text of
// several lines, its line; the error wraps ErrLabelMap.
func ParseLabelMap(s string) (LabelMap, error) {
	return parseLabelMap(s, strings.Count(strings.TrimRight(s, "\r\n"), "\n") > 0)
}

// ParseLabelMapFile is ParseLabelMap for the text of a file: its errors
// name the line, even of a file of one line.
func ParseLabelMapFile(text string) (LabelMap, error) { return parseLabelMap(text, true) }

// parseLabelMap is ParseLabelMap, its errors naming the line when lines
// is set.
func parseLabelMap(s string, lines bool) (LabelMap, error) {
	var lm LabelMap
	from := map[string]int{}
	to := map[string]int{}
	n, ln := 0, 0
	where := func() string {
		if lines {
			return fmt.Sprintf("line %d: pair %d", ln, n)
		}
		return fmt.Sprintf("pair %d", n)
	}
	for line := range strings.Lines(s) {
		ln++
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		for _, field := range splitUnescaped(strings.TrimRight(line, "\r\n"), ',') {
			if strings.TrimSpace(field) == "" {
				continue // "a=0,\nb=1": a comma at the end of a line
			}
			n++
			parts := splitUnescaped(field, '=')
			if len(parts) != 2 {
				return LabelMap{}, fmt.Errorf("%w: %s %q: want MODEL_LABEL=TEACHER_LABEL (a ',', '=' or leading '#' within a label is written with a backslash before it)", ErrLabelMap, where(), shortPair(field))
			}
			f, t := unescapeLabel(strings.TrimSpace(parts[0])), unescapeLabel(strings.TrimSpace(parts[1]))
			switch {
			case f == "" || t == "":
				return LabelMap{}, fmt.Errorf("%w: %s %q: a label is empty", ErrLabelMap, where(), shortPair(field))
			case len(f) > MaxNameBytes || len(t) > MaxNameBytes:
				return LabelMap{}, fmt.Errorf("%w: %s: a label is longer than %d bytes", ErrLabelMap, where(), MaxNameBytes)
			}
			if k, dup := from[f]; dup {
				return LabelMap{}, fmt.Errorf("%w: model label %q is mapped twice (pairs %d and %d%s): the map must be one-to-one", ErrLabelMap, shortPair(f), k, n, onLine(lines, ln))
			}
			if k, dup := to[t]; dup {
				return LabelMap{}, fmt.Errorf("%w: label %q is the image of two model labels (pairs %d and %d%s): the map must be one-to-one", ErrLabelMap, shortPair(t), k, n, onLine(lines, ln))
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

// onLine is ", the second on line ln" for the errors of a map of several
// lines, else "".
func onLine(lines bool, ln int) string {
	if !lines {
		return ""
	}
	return fmt.Sprintf(", the second on line %d", ln)
}

// labelEscaped lists the characters a backslash escapes in a label map.
const labelEscaped = ",=#\\"

// splitUnescaped splits s at each sep not escaped by a backslash (see
// ParseLabelMap), leaving the escapes in the parts.
func splitUnescaped(s string, sep byte) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && strings.IndexByte(labelEscaped, s[i+1]) >= 0:
			i++ // the escaped character
		case s[i] == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unescapeLabel removes the backslashes that escape a character of
// labelEscaped in s.
func unescapeLabel(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(labelEscaped, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeLabel writes label l for ParseLabelMap: a backslash before each
// ',' and '=', before a '#' starting the map (first), and before a
// backslash that ParseLabelMap would otherwise read as an escape (one
// before a character of labelEscaped or ending l, which a separator
// follows). A label with none of these is written as it is, so a map of
// such labels is written as lineage always wrote it.
func escapeLabel(b *strings.Builder, l string, first bool) {
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c == ',' || c == '=' || c == '#' && first && i == 0:
			b.WriteByte('\\')
		case c == '\\' && (i+1 == len(l) || strings.IndexByte(labelEscaped, l[i+1]) >= 0):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
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
// in the order given. A label holding ',' or '=' is written with
// backslashes (see escapeLabel); any other as it is, as lineage wrote
// every map before labels could hold them (the fingerprint's hash covers
// the map recorded).
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
		escapeLabel(&b, p.from, i == 0)
		b.WriteByte('=')
		escapeLabel(&b, p.to, false)
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
