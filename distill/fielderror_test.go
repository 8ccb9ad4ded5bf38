package distill

import (
	"errors"
	"fmt"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
)

// TestFieldError checks that a Config field out of range or not
// understood is refused with a *FieldError naming the field (as
// Change.Field does) and the value, which wraps ErrConfig and the
// parser's error, so that a command can name its flag.
func TestFieldError(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	good := fakeTeacher{64, dataset.DigitLabels}
	tests := []struct {
		name  string
		cfg   Config
		field string
		value any
		also  error // another error it wraps, or nil
	}{
		{"epochs", Config{Epochs: -1}, "epochs", -1, nil},
		{"batch size", Config{BatchSize: -2}, "batch_size", -2, nil},
		{"lr", Config{LR: -1}, "lr", -1.0, nil},
		{"clip", Config{ClipNorm: -1}, "clip_norm", -1.0, nil},
		{"momentum with adam", Config{Momentum: 0.5}, "momentum", 0.5, nil},
		{"optimizer", Config{Optimizer: "rmsprop"}, "optimizer", "rmsprop", nil},
		{"schedule", Config{Schedule: "linear"}, "schedule", "linear", nil},
		{"hidden", Config{Hidden: []int{0}}, "hidden", []int{0}, nil},
		{"loss", Config{Teacher: good, Loss: "hinge"}, "loss", "hinge", ErrUnknownLoss},
		{"transfer", Config{Teacher: good, Transfer: "data,foo"}, "transfer", "data,foo", ErrTransfer},
		{"jitter", Config{Teacher: good, JitterScale: -1}, "jitter_scale", -1.0, nil},
		{"reveal of every label", Config{Teacher: good, Reveal: "topk:10"}, "reveal", "topk:10", nil},
	}
	for _, tt := range tests {
		cfg := tt.cfg
		cfg.Train = sp.Train
		err := cfg.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: error %v, want a *FieldError", tt.name, err)
			continue
		}
		if fe.Field != tt.field || fmt.Sprint(fe.Value) != fmt.Sprint(tt.value) || fe.Problem == "" {
			t.Errorf("%s: field %q value %v problem %q; want field %q value %v and a problem", tt.name, fe.Field, fe.Value, fe.Problem, tt.field, tt.value)
		}
		if _, ok := fieldNames[fe.Field]; !ok {
			t.Errorf("%s: field %q has no name for Error", tt.name, fe.Field)
		}
		if !errors.Is(err, ErrConfig) || tt.also != nil && !errors.Is(err, tt.also) {
			t.Errorf("%s: error %v does not wrap ErrConfig and %v", tt.name, err, tt.also)
		}
	}
}
