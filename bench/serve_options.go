package bench

// This file holds the serve benchmark's options and their defaults
// (serve.go).

import (
	"errors"
	"fmt"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
)

// Serve benchmark defaults, used when the corresponding ServeOptions field
// is zero.
const (
	DefaultServeDuration = 2 * time.Second
	DefaultServeBatch    = 64
	DefaultServeRepeats  = 5
)

// DefaultServeConcurrency are the concurrencies ServeThroughput measures
// when ServeOptions.Concurrency is empty.
var DefaultServeConcurrency = []int{1, 4, 16}

// DefaultServeHidden is the hidden layer of the served MLP when
// ServeOptions.Hidden is empty.
var DefaultServeHidden = []int{64}

// ErrServeOptions is wrapped by ServeThroughput's errors about invalid
// options.
var ErrServeOptions = errors.New("invalid serve bench options")

// ServeOptions configures ServeThroughput. The zero value measures
// concurrencies 1, 4 and 16 with batches of 64 rows, 2 s per measurement,
// five times each, against a 64-64-10 MLP, without wrk.
type ServeOptions struct {
	// Duration is the length of one measurement; 0 means
	// DefaultServeDuration. wrk runs for whole seconds (at least 1).
	Duration time.Duration
	// Batch is the number of rows per request; 0 means DefaultServeBatch.
	Batch int
	// Concurrency lists the concurrencies (requests in flight); empty
	// means DefaultServeConcurrency.
	Concurrency []int
	// Hidden are the served MLP's hidden layers; empty means
	// DefaultServeHidden.
	Hidden []int
	// Repeats is the number of runs of every measurement; 0 means
	// DefaultServeRepeats.
	Repeats int
	// WrkPath, when non-empty, is the wrk executable to run as a second
	// ceiling; empty means no wrk column.
	WrkPath string
	// Wires lists the wire formats to measure, "binary" and/or "json";
	// empty means DefaultServeWires.
	Wires []string
}

// The wire formats ServeThroughput measures.
const (
	WireBinary = "binary"
	WireJSON   = "json"
)

// DefaultServeWires are the wire formats ServeThroughput measures when
// ServeOptions.Wires is empty.
var DefaultServeWires = []string{WireBinary, WireJSON}

// withDefaults returns o with its zero fields set to the defaults.
func (o ServeOptions) withDefaults() ServeOptions {
	if o.Duration == 0 {
		o.Duration = DefaultServeDuration
	}
	if o.Batch == 0 {
		o.Batch = DefaultServeBatch
	}
	if len(o.Concurrency) == 0 {
		o.Concurrency = DefaultServeConcurrency
	}
	if len(o.Hidden) == 0 {
		o.Hidden = DefaultServeHidden
	}
	if o.Repeats == 0 {
		o.Repeats = DefaultServeRepeats
	}
	if len(o.Wires) == 0 {
		o.Wires = DefaultServeWires
	}
	return o
}

// Check reports options out of range, wrapping ErrServeOptions: a negative
// duration or repeat count, a batch above remote.MaxBatchSize, a
// concurrency outside 1 to remote.MaxConcurrency, a hidden layer size
// below 1, hidden layers making a model of more than model.MaxLayers layers
// or model.MaxParams parameters, or an unknown wire format (zero fields
// mean the defaults).
// ServeThroughput calls it first.
func (o ServeOptions) Check() error {
	for _, w := range o.Wires {
		if w != WireBinary && w != WireJSON {
			return fmt.Errorf("serve bench: wire %q: want %s or %s: %w", w, WireBinary, WireJSON, ErrServeOptions)
		}
	}
	switch {
	case o.Duration < 0:
		return fmt.Errorf("serve bench: duration must be > 0, got %v: %w", o.Duration, ErrServeOptions)
	case o.Batch < 0 || o.Batch > remote.MaxBatchSize:
		return fmt.Errorf("serve bench: batch must be 1 to %d, got %d: %w", remote.MaxBatchSize, o.Batch, ErrServeOptions)
	case o.Repeats < 0:
		return fmt.Errorf("serve bench: repeats must be ≥ 1, got %d: %w", o.Repeats, ErrServeOptions)
	}
	for _, c := range o.Concurrency {
		if c < 1 || c > remote.MaxConcurrency {
			return fmt.Errorf("serve bench: concurrency must be 1 to %d, got %d: %w", remote.MaxConcurrency, c, ErrServeOptions)
		}
	}
	for _, h := range o.Hidden {
		if h < 1 {
			return fmt.Errorf("serve bench: hidden layer sizes must be ≥ 1, got %d: %w", h, ErrServeOptions)
		}
	}
	if n := len(o.Hidden) + 1; n > model.MaxLayers {
		return fmt.Errorf("serve bench: %d hidden layers make a model of %d layers, more than the %d lineage serves: %w", len(o.Hidden), n, model.MaxLayers, ErrServeOptions)
	}
	if p := model.NumParams(o.sizes()); p < 0 || p > model.MaxParams {
		return fmt.Errorf("serve bench: hidden layers %v make a model of more than %d parameters: %w", o.Hidden, model.MaxParams, ErrServeOptions)
	}
	return nil
}

// The served MLP's input and output sizes.
const serveIn, serveOut = 64, 10

// sizes returns the layer sizes of the served MLP.
func (o ServeOptions) sizes() []int {
	hidden := o.Hidden
	if len(hidden) == 0 {
		hidden = DefaultServeHidden
	}
	return append(append([]int{serveIn}, hidden...), serveOut)
}
