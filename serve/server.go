package serve

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/watermark"
	"golang.org/x/sync/semaphore"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultMaxBatch          = 1024
	DefaultMaxBodyBytes      = 32 << 20
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultWriteTimeout      = 2 * time.Minute
	DefaultShutdownTimeout   = 10 * time.Second
)

// MinTemperature is the smallest Temperature (other than 0, "unchanged")
// a Server re-tempers with, the floor distill.MinTemperature sets for
// training too. The arithmetic stays finite for any T > 0, but p^(1/T)
// at T below 0.001 makes every answer one-hot but for near-ties (two
// probabilities 1% apart differ by a factor of 4e-5 at T = 0.001, and by
// far more below): a label reveal passed off as full distributions, which
// Reveal label does openly. T = 1e-320 used to be served that way.
const MinTemperature = 1e-3

// modelVersion is the one model version the server serves: the versioned
// endpoints (/v2/models/NAME/versions/VERSION/…) answer 404 for any other.
const modelVersion = "1"

// Platform is the platform string the server reports in model metadata.
const Platform = "lineage"

// Names of the one input and one output tensor the server exposes.
const (
	InputName  = "input"
	OutputName = "probabilities"
)

// Options configures a Server. The zero Options serves the full
// distribution to anyone, without rate limit, with the default limits and
// no access log.
type Options struct {
	// Name is the model name in URLs; empty means the model's Info().Name
	// when it is a valid name ([A-Za-z0-9_.-]+), else "model".
	Name string
	// Reveal is what the API reveals of each output distribution (applied
	// after Temperature, with model.Reveal.Apply's convention); the zero
	// Reveal reveals everything.
	Reveal model.Reveal
	// Temperature re-tempers outputs (p' ∝ p^(1/T)); 0 and 1 leave them.
	// Other values must lie in [MinTemperature, +Inf).
	Temperature float64
	// Watermark, when set and Reveal is label-only, makes the server
	// answer with the marked label (watermark.Serve) instead of the
	// argmax, so that students extracted through the API can be
	// recognised. It is not announced in the metadata.
	Watermark *watermark.Mark
	// WatermarkEpsilon is the mark's tilt; 0 means
	// watermark.DefaultEpsilon.
	WatermarkEpsilon float64
	// APIKey, when non-empty, is required as "Authorization: Bearer KEY"
	// on every endpoint except /v2/health/*; otherwise 401. It is never
	// logged.
	APIKey string
	// RateLimit is the number of inference requests per second allowed
	// (token bucket, burst max(1, ceil(RateLimit))); beyond it the server
	// answers 429 with Retry-After. 0 means unlimited.
	RateLimit float64
	// MaxBatch is the largest batch one request may carry (413 beyond); 0
	// means DefaultMaxBatch.
	MaxBatch int
	// MaxBodyBytes caps request bodies (413 beyond); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Log receives one JSON line (log/slog) per request: method, path,
	// status, duration, batch; nil means no access log.
	Log io.Writer
	// Version is reported by GET /v2; empty means "dev".
	Version string
	// ReadHeaderTimeout, ReadTimeout and WriteTimeout bound, for each
	// request Serve reads, the request's headers, the whole request
	// (headers and body) and the time from the end of its headers to the
	// end of the answer (see http.Server); ShutdownTimeout is the time
	// Serve gives requests in flight to finish once its ctx is done,
	// after which it closes their connections. Zeros mean the defaults
	// above, negative values no limit. Serve also paces a request body
	// that announced its length: it must keep within 10 s of an even
	// pace over ReadTimeout (or of 64 KiB/s when there is none), or the
	// request is answered 400.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, ShutdownTimeout time.Duration
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Server is an Open Inference Protocol v2 REST server for one model. It
// implements http.Handler; use Serve to run it on a listener.
type Server struct {
	m       model.Model // wrapped with temperature and reveal
	info    model.Info  // of the underlying model
	name    string
	opts    Options
	limiter *Limiter
	log     *slog.Logger
	mux     *http.ServeMux
	// inFlight bounds the request bodies being read, parsed and
	// answered at once: bodyBudget times MaxBodyBytes bytes.
	inFlight *semaphore.Weighted
	budget   int64
}

// New returns a Server for m configured by opts. It fails on an invalid
// name, reveal, temperature, rate limit (negative, NaN or infinite) or
// max batch (negative), or a model without labels or input size.
func New(m model.Model, opts Options) (*Server, error) {
	info := m.Info()
	if info.InputSize <= 0 || len(info.Labels) == 0 {
		return nil, fmt.Errorf("serve: model %q has input size %d and %d labels; need both", info.Name, info.InputSize, len(info.Labels))
	}
	name := opts.Name
	if name == "" {
		name = info.Name
		if CheckName(name) != nil {
			name = "model"
		}
	}
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if t := opts.Temperature; t != 0 && !(t >= MinTemperature) || math.IsInf(t, 0) {
		return nil, fmt.Errorf("serve: temperature %v: want a finite number of at least %g (0: unchanged)", t, MinTemperature)
	}
	if r := opts.Reveal; r.Mode < model.RevealFull || r.Mode > model.RevealLabel || (r.Mode == model.RevealTopK && r.K < 1) {
		return nil, fmt.Errorf("serve: invalid reveal %v", r)
	}
	if r := opts.RateLimit; !(r >= 0) || math.IsInf(r, 0) {
		return nil, fmt.Errorf("serve: rate limit %v: want a finite number ≥ 0 (0: unlimited)", r)
	}
	if opts.MaxBatch < 0 {
		return nil, fmt.Errorf("serve: max batch %d: want at least 1 (0: %d)", opts.MaxBatch, DefaultMaxBatch)
	}
	if err := CheckAPIKey(opts.APIKey); err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&opts.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{&opts.ReadTimeout, DefaultReadTimeout},
		{&opts.WriteTimeout, DefaultWriteTimeout},
		{&opts.ShutdownTimeout, DefaultShutdownTimeout},
	} {
		switch {
		case *d.v == 0:
			*d.v = d.def
		case *d.v < 0:
			*d.v = 0 // http.Server's and Serve's "none"
		}
	}
	wrapped := m
	if opts.Temperature != 0 && opts.Temperature != 1 {
		wrapped = model.WithTemperature(wrapped, opts.Temperature)
	}
	if opts.Watermark != nil && opts.Reveal.Mode == model.RevealLabel {
		if opts.Watermark.Inputs != info.InputSize || opts.Watermark.Classes != len(info.Labels) {
			return nil, fmt.Errorf("serve: watermark for %d inputs and %d classes, model has %d and %d", opts.Watermark.Inputs, opts.Watermark.Classes, info.InputSize, len(info.Labels))
		}
		eps := opts.WatermarkEpsilon
		if eps == 0 {
			eps = watermark.DefaultEpsilon
		}
		if !(eps > 0) || math.IsInf(eps, 0) {
			return nil, fmt.Errorf("serve: watermark epsilon %v: want a positive finite number", eps)
		}
		wrapped = watermark.Serve(wrapped, opts.Watermark, eps)
	}
	wrapped = model.WithReveal(wrapped, opts.Reveal)
	s := &Server{m: wrapped, info: info, name: name, opts: opts, limiter: NewLimiter(opts.RateLimit, 0),
		budget: min(opts.MaxBodyBytes, math.MaxInt64/bodyBudget) * bodyBudget}
	s.inFlight = semaphore.NewWeighted(s.budget)
	if opts.Log != nil {
		s.log = slog.New(slog.NewJSONHandler(opts.Log, nil))
	}
	s.routes()
	return s, nil
}

// CheckName returns an error unless name can be a served model's name in
// URLs: ASCII letters, digits, '_', '.' or '-', not empty, and neither "."
// nor "..", which clients resolve as steps of the path
// (/v2/models/../infer is /v2/infer), so that no request reached a model
// so named.
func CheckName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("model name %q: want ASCII letters, digits, '_', '.' or '-'", name)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("model name %q: a URL reads it as a step of the path (clients send /v2/models/%s/infer as %s), so no request would reach the model; choose another", name, name, path.Clean("/v2/models/"+name+"/infer"))
	}
	return nil
}

// Name returns the model name the server answers to.
func (s *Server) Name() string { return s.name }

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/health/live", s.health("live"))
	mux.HandleFunc("GET /v2/health/ready", s.health("ready"))
	mux.HandleFunc("GET /v2", s.auth(s.serverMetadata))
	mux.HandleFunc("GET /v2/models/{name}", s.auth(s.model(s.modelMetadata)))
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", s.auth(s.model(s.modelMetadata)))
	mux.HandleFunc("GET /v2/models/{name}/ready", s.auth(s.model(s.modelReady)))
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.auth(s.model(s.modelReady)))
	mux.HandleFunc("POST /v2/models/{name}/infer", s.auth(s.model(s.infer)))
	mux.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", s.auth(s.model(s.infer)))
	for _, p := range []string{"/v2/models/{name}/infer", "/v2/models/{name}/versions/{version}/infer"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, r.Method+" "+r.URL.Path+": inference takes POST")
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	s.mux = mux
}

// ServeHTTP implements http.Handler, logging each request when
// Options.Log is set.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.log == nil {
		s.mux.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", rec.status),
		slog.Duration("duration", time.Since(start)),
		slog.Int("batch", rec.batch),
		slog.String("remote", r.RemoteAddr),
	)
}

// Serve serves HTTP on ln until ctx is cancelled, then shuts down
// gracefully: requests in flight get up to Options.ShutdownTimeout to
// finish, after which their connections are closed. It returns nil after
// a shutdown caused by ctx in which every request finished.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		BaseContext: func(net.Listener) context.Context {
			return context.WithValue(context.WithoutCancel(ctx), servedKey{}, true)
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.Background(), context.CancelFunc(func() {})
	if s.opts.ShutdownTimeout > 0 {
		sctx, cancel = context.WithTimeout(sctx, s.opts.ShutdownTimeout)
	}
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close() // cut off the requests still in flight
		return fmt.Errorf("serve: shutdown: requests still in flight after %v, connections closed: %w", s.opts.ShutdownTimeout, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// servedKey marks the contexts of requests Serve reads.
type servedKey struct{}

// recorder captures the status and batch size of a response for the log.
type recorder struct {
	http.ResponseWriter
	status int
	batch  int
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func setBatch(w http.ResponseWriter, n int) {
	if r, ok := w.(*recorder); ok {
		r.batch = n
	}
}

func (s *Server) health(what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{what: true})
	}
}

// CheckAPIKey reports whether a client can present key in the header
// "Authorization: Bearer KEY" that auth accepts: a header cannot carry a
// line break or another control character but a tab, and HTTP drops the
// white space around a header's value, so with such a key every request
// was refused. Its error never holds the key.
func CheckAPIKey(key string) error {
	for i := 0; i < len(key); i++ {
		if c := key[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return errors.New("the API key holds a line break or another control character, which an HTTP header cannot carry: every request would be refused")
		}
	}
	if strings.Trim(key, " \t") != key {
		return errors.New("the API key starts or ends with white space, which HTTP drops from a header's value: every request would be refused")
	}
	return nil
}

// auth checks the bearer key in constant time.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	if s.opts.APIKey == "" {
		return h
	}
	want := []byte(s.opts.APIKey)
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="lineage"`)
			writeError(w, http.StatusUnauthorized, "missing or invalid API key")
			return
		}
		h(w, r)
	}
}

// model answers 404 for any name but the served one, and for any version
// but modelVersion.
func (s *Server) model(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if name := r.PathValue("name"); name != s.name {
			writeError(w, http.StatusNotFound, fmt.Sprintf("unknown model %q", name))
			return
		}
		if v := r.PathValue("version"); v != "" && v != modelVersion {
			writeError(w, http.StatusNotFound, fmt.Sprintf("unknown version %q of model %q", v, s.name))
			return
		}
		h(w, r)
	}
}

func (s *Server) serverMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, ServerMetadata{Name: "lineage", Version: s.opts.Version, Extensions: []string{BinaryExtension}})
}

// Metadata returns the model metadata the server publishes.
func (s *Server) Metadata() ModelMetadata {
	return ModelMetadata{
		Name:     s.name,
		Versions: []string{modelVersion},
		Platform: Platform,
		Inputs:   []MetadataTensor{{Name: InputName, Datatype: FP32, Shape: []int64{-1, int64(s.info.InputSize)}}},
		Outputs:  []MetadataTensor{{Name: OutputName, Datatype: FP32, Shape: []int64{-1, int64(len(s.info.Labels))}}},
		Parameters: map[string]any{
			"labels":    s.info.Labels,
			"kind":      string(model.Classifier),
			"reveal":    s.opts.Reveal.String(),
			"max_batch": s.opts.MaxBatch,
		},
	}
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Metadata())
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": s.name, "ready": true})
}
