package bench

// This file holds the serve benchmark's options and their defaults
// (serve.go).

import (
	"errors"
	"time"
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
