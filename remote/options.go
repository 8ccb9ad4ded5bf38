package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lineage-audit/lineage/model"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultBatchSize        = 64
	DefaultConcurrency      = 4
	DefaultTimeout          = 30 * time.Second
	DefaultStartTimeout     = 60 * time.Second
	DefaultMaxRetries       = 6
	DefaultBackoff          = 100 * time.Millisecond
	DefaultMaxBackoff       = 10 * time.Second
	DefaultMaxRetryAfter    = 60 * time.Second
	DefaultMaxResponseBytes = 64 << 20
)

// MaxConcurrency bounds Options.Concurrency (each slot is a goroutine and a
// connection; a hundred million of them took the machine's memory) and
// MaxBatchSize bounds Options.BatchSize (a request's inputs are held in
// memory, and a journaled batch is BatchSize × Concurrency rows).
const (
	MaxConcurrency = 1024
	MaxBatchSize   = 1 << 16
)

// Options configures remote models. The zero Options uses the defaults
// above, no API key, no client-side rate limit and strict validation.
// OpenHTTP and OpenExec refuse Options that fail Validate.
type Options struct {
	// APIKey, when non-empty, is sent as "Authorization: Bearer KEY". It
	// never appears in errors or logs (server messages echoing it are
	// redacted).
	APIKey string
	// BatchSize is the number of inputs per request; 0 means
	// DefaultBatchSize.
	BatchSize int
	// Concurrency bounds the requests in flight to one HTTP model, across
	// all its Predict calls (exec models serialise); 0 means
	// DefaultConcurrency.
	Concurrency int
	// QPS limits requests per second across all Predict calls of the model
	// (token bucket); 0 means unlimited.
	QPS float64
	// Timeout bounds each request (one attempt); 0 means DefaultTimeout.
	Timeout time.Duration
	// StartTimeout bounds the wait for an exec program's hello line; 0
	// means DefaultStartTimeout.
	StartTimeout time.Duration
	// MaxRetries is how many times a failed request (429, 5xx, connection
	// error, timeout, malformed JSON or gzip data) is retried; 0 means
	// DefaultMaxRetries, negative means never.
	MaxRetries int
	// Backoff is the base of the exponential backoff with full jitter (the
	// n-th retry waits a uniform random time in [0, min(MaxBackoff,
	// Backoff·2ⁿ)), or longer when the server sends Retry-After, up to
	// MaxRetryAfter); zeros mean the defaults.
	Backoff, MaxBackoff, MaxRetryAfter time.Duration
	// MaxResponseBytes caps one response (and one exec output line); 0
	// means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Lenient makes answers whose rows have small negative entries or do
	// not sum to 1 (within 1e-3) be clamped and renormalised, counting a
	// warning, instead of failing. Non-finite values always fail.
	Lenient bool
	// Logits says the model answers with logits or log-probabilities, as
	// many served classifiers do, rather than probabilities: each answer
	// row is replaced by its softmax (model.Softmax) before it is checked,
	// so Lenient has nothing left to repair but a row holding NaN, which
	// still fails. Like the other options it does not apply to a model
	// file, whose outputs are probabilities already.
	Logits bool
	// Client is the HTTP client; nil means a new client with default
	// transport settings.
	Client *http.Client
	// Log receives retries (debug) and warnings (warn); nil means none.
	Log *slog.Logger
	// JSONOnly makes HTTP models send and receive plain JSON even when
	// the server lists the binary tensor data extension (GET /v2), which
	// they otherwise use: it spares both sides formatting and parsing
	// decimal numbers. Values are bit-identical either way.
	JSONOnly bool
	// Output names the output of an Open Inference Protocol model to read;
	// "" means the one called "probabilities", else the first the model's
	// metadata lists in a datatype lineage reads (see
	// HTTPModel.ReadableOutputs). A model without that output is refused
	// at Open. exec: models and files have one answer and ignore it.
	Output string
	// Seed seeds the backoff jitter.
	Seed uint64
}

// Validate reports options no remote model accepts: negative sizes,
// counts or durations, and a negative, NaN or infinite QPS. (Zero means
// the default everywhere, and negative MaxRetries means none.)
func (o Options) Validate() error {
	switch {
	case o.BatchSize < 0 || o.BatchSize > MaxBatchSize:
		return fmt.Errorf("remote: batch size %d: want 1 to %d (0: %d)", o.BatchSize, MaxBatchSize, DefaultBatchSize)
	case o.Concurrency < 0 || o.Concurrency > MaxConcurrency:
		return fmt.Errorf("remote: concurrency %d: want 1 to %d (0: %d)", o.Concurrency, MaxConcurrency, DefaultConcurrency)
	case !(o.QPS >= 0) || math.IsInf(o.QPS, 0):
		return fmt.Errorf("remote: qps %v: want a finite number ≥ 0 (0: unlimited)", o.QPS)
	case o.MaxResponseBytes < 0:
		return fmt.Errorf("remote: max response bytes %d: want at least 1 (0: %d)", o.MaxResponseBytes, DefaultMaxResponseBytes)
	}
	if err := CheckAPIKey(o.APIKey); err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"timeout", o.Timeout}, {"start timeout", o.StartTimeout}, {"backoff", o.Backoff},
		{"max backoff", o.MaxBackoff}, {"max retry-after", o.MaxRetryAfter},
	} {
		if d.v < 0 {
			return fmt.Errorf("remote: %s %v: want a positive duration (0: the default)", d.name, d.v)
		}
	}
	return nil
}

// CheckAPIKey reports whether key can be sent in an HTTP header: a line
// break or another control character but a tab cannot (net/http refused
// such a key as a connection error, retried like one). Its error never
// holds the key.
func CheckAPIKey(key string) error {
	if !validHeaderValue(key) {
		return errors.New("the API key holds a line break or another control character, which an HTTP header cannot carry")
	}
	return nil
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	def(&o.Timeout, DefaultTimeout)
	def(&o.StartTimeout, DefaultStartTimeout)
	def(&o.Backoff, DefaultBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	def(&o.MaxRetryAfter, DefaultMaxRetryAfter)
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = DefaultMaxRetries
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// redact removes the API key from a message that may come from a server.
func (o *Options) redact(s string) string {
	if o.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, o.APIKey, "[REDACTED]")
}

// Stats counts a remote model's traffic since it was opened.
type Stats struct {
	Requests      int64 // requests sent, retries included
	Retries       int64 // requests that were retries of a failed one
	Failures      int64 // requests that failed (each retry cause, and final failures)
	Warnings      int64 // answers repaired under Options.Lenient
	BytesSent     int64
	BytesReceived int64
}

// counters is the atomic form of Stats.
type counters struct {
	requests, retries, failures, warnings, sent, received atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Requests: c.requests.Load(), Retries: c.retries.Load(), Failures: c.failures.Load(),
		Warnings: c.warnings.Load(), BytesSent: c.sent.Load(), BytesReceived: c.received.Load(),
	}
}

// Model is a model.Model reached through a network or a child process,
// with traffic statistics and resources to release.
type Model interface {
	model.Model
	// Stats returns the traffic so far.
	Stats() Stats
	// Close releases the model (stops an exec child); Predict fails after.
	Close() error
}

// ErrClosed is returned by Predict after Close.
var ErrClosed = errors.New("remote: model closed")

// Open opens the model named by ref (see ParseRef): an OIP endpoint URL
// (OpenHTTP), an "exec:" program (OpenExec, whose lifetime ctx bounds) or
// a model file (model.Open, with zero Stats and a no-op Close).
func Open(ctx context.Context, ref string, opts Options) (Model, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	switch r.Kind {
	case RefHTTP:
		return OpenHTTP(ctx, ref, opts)
	case RefExec:
		return OpenExec(ctx, ref, opts)
	}
	m, err := model.Open(r.Path)
	if err != nil {
		return nil, err
	}
	return local{m}, nil
}

// local adapts a model.Model to Model.
type local struct{ model.Model }

func (local) Stats() Stats { return Stats{} }
func (local) Close() error { return nil }

// DefaultedMetadata forwards model.MLP.DefaultedMetadata: the lineage
// metadata keys a safetensors file lacked (nil for other models).
func (l local) DefaultedMetadata() []string {
	if d, ok := l.Model.(interface{ DefaultedMetadata() []string }); ok {
		return d.DefaultedMetadata()
	}
	return nil
}

// Error is a request that failed for good: after its retries, or with a
// status that is not worth retrying. URL never carries credentials.
type Error struct {
	URL      string
	Attempts int
	Status   int   // last HTTP status, 0 if none
	Err      error // the last failure
}

// Error names the URL, the number of attempts when there was more than
// one, and the last failure.
func (e *Error) Error() string {
	if e.Attempts > 1 {
		return fmt.Sprintf("remote %s: giving up after %d attempts: %v", e.URL, e.Attempts, e.Err)
	}
	return fmt.Sprintf("remote %s: %v", e.URL, e.Err)
}

// Unwrap returns e.Err, the last failure.
func (e *Error) Unwrap() error { return e.Err }
