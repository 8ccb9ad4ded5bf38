package distill

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// FieldError is the error of one Config field out of range or not
// understood, for a command to name the flag it came from. It wraps
// ErrConfig (and Err, when the field's parser refused it).
type FieldError struct {
	Field   string // the Config field, named as Change.Field names it: "epochs", "lr", "transfer", ...
	Value   any    // the value refused
	Problem string // what is wrong, as "want 0 or more"
	Err     error  // the parser's error, or nil
}

// Error names the setting, its value and the problem:
// "invalid training configuration: epochs -1: want 0 or more".
func (e *FieldError) Error() string {
	return fmt.Sprintf("%v: %s %s: %s", ErrConfig, fieldNames[e.Field], abbrev(fmt.Sprint(e.Value)), e.Problem)
}

// abbrev shortens a value over 60 bytes to its first 57 and "…" (a list
// of thousands of layer sizes is not worth printing whole).
func abbrev(v string) string {
	if len(v) <= 60 {
		return v
	}
	i := 57
	for i > 0 && !utf8.RuneStart(v[i]) {
		i--
	}
	return v[:i] + "…"
}

// Unwrap returns ErrConfig and the parser's error.
func (e *FieldError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrConfig}
	}
	return []error{ErrConfig, e.Err}
}

// fieldNames are the names FieldError.Error gives the Config fields.
var fieldNames = map[string]string{
	"hidden": "hidden layer sizes", "activation": "activation", "init": "initialisation",
	"temperature": "temperature", "alpha": "alpha", "loss": "loss", "reveal": "reveal",
	"transfer": "transfer", "jitter_scale": "jitter scale", "queries": "queries",
	"epochs": "epochs", "batch_size": "batch size", "query_batch": "query batch",
	"patience": "patience", "warmup": "warm-up", "optimizer": "optimizer",
	"momentum": "momentum", "weight_decay": "weight decay", "lr": "learning rate",
	"clip_norm": "clip norm", "schedule": "schedule",
}

// fieldErr is the *FieldError of field, holding value v, with the problem
// format and args make.
func fieldErr(field string, v any, format string, args ...any) error {
	return &FieldError{Field: field, Value: v, Problem: fmt.Sprintf(format, args...)}
}

// parseErr is the *FieldError of field, holding the text s that a parser
// refused with err: the problem is err's text without the parser's
// leading `name "s": ` and a trailing sentinel's text, which the error
// names already.
func parseErr(field, s string, err error, sentinels ...error) error {
	p := err.Error()
	if i := strings.Index(p, fmt.Sprintf("%q: ", s)); i >= 0 && !strings.Contains(p[:i], ":") {
		p = p[i+len(fmt.Sprintf("%q: ", s)):]
	}
	for _, se := range sentinels {
		p = strings.TrimSuffix(p, ": "+se.Error())
	}
	return &FieldError{Field: field, Value: s, Problem: p, Err: err}
}
