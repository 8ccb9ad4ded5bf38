package remote

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"gonum.org/v1/gonum/blas/blas32"
)

// HTTPModel is a model served over the Open Inference Protocol v2 REST
// API. It is safe for concurrent use.
type HTTPModel struct {
	ref        Ref
	opts       Options
	info       model.Info
	inputName  string
	outputName string
	// otherOutputs are the outputs of readable datatypes not read.
	otherOutputs []string
	client       *http.Client
	limiter      *serve.Limiter
	stats        counters
	nextID       atomic.Int64
	// echo says whether the server echoes a request's id in its answer
	// (echoUnknown, echoYes, echoNo). Until it has, every request goes
	// on a connection of its own: on a kept-alive connection an answer
	// the server sent unasked (a duplicate, a late one) would be read as
	// the next request's, and without the id nothing would tell.
	echo atomic.Int32
	// unsolicited is set once the server has sent another request's
	// answer: from then on no request goes on an idle connection, which
	// may still receive one (see direct.get).
	unsolicited atomic.Bool
	// unknownMu serialises net/http inference requests while echo is
	// echoUnknown (see attempt).
	unknownMu sync.Mutex
	closed    atomic.Bool
	binary    bool     // speak the binary tensor data extension
	inputFP64 bool     // send inputs as FP64, which the metadata declares
	workers   *workers // run Predict's batches
	direct    *direct  // plain-http requests without net/http; nil for none
	auth      string   // the Authorization header: bearer key, basic credentials or ""

	rngMu sync.Mutex
	rng   *rand.Rand
}

// OpenHTTP connects to the OIP endpoint ref (http(s)://HOST/v2/models/NAME)
// and reads its metadata: the input size from the first input's last
// dimension, the labels from the "labels" parameter (a JSON array, or a
// string holding one or comma-separated names) or else "0".."K-1" from the
// output's last dimension.
func OpenHTTP(ctx context.Context, ref string, opts Options) (*HTTPModel, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if r.Kind != RefHTTP {
		return nil, fmt.Errorf("%w %q: not an http(s) URL", ErrBadRef, StripCredentials(ref))
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	c := &HTTPModel{
		ref: r, opts: opts, client: opts.Client,
		limiter: serve.NewLimiter(opts.QPS, 0),
		rng:     rand.New(rand.NewPCG(opts.Seed, 0x5eed)),
	}
	c.workers = newWorkers(opts.Concurrency, c.predictRange)
	switch {
	case opts.APIKey != "":
		c.auth = "Bearer " + opts.APIKey
	case r.User != "":
		c.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(r.User+":"+r.Password))
	}
	if validHeaderValue(opts.APIKey) { // always, after Validate; never write a header line the key would break
		c.direct = newDirect(r.Base, opts)
	}
	if c.client == nil {
		c.client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
		},
			// As the direct client: probes go to the URL given and no
			// other (a redirected POST would turn into a GET, or carry an
			// API key elsewhere); a redirect is an error naming it.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	ok := false
	defer func() {
		if !ok {
			c.release()
		}
	}()
	var meta serve.ModelMetadata
	err = c.call(ctx, http.MethodGet, r.Base, nil, func(_ http.Header, body []byte) error {
		if err := json.Unmarshal(body, &meta); err != nil {
			return malformed(fmt.Errorf("model metadata: %w", err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := c.setInfo(&meta); err != nil {
		return nil, &Error{URL: r.Base, Attempts: 1, Err: err}
	}
	if !opts.JSONOnly {
		c.binary = c.speaksBinary(ctx)
	}
	ok = true
	return c, nil
}

// release closes the model's idle connections, the net/http client's and
// the direct client's.
func (c *HTTPModel) release() {
	c.client.CloseIdleConnections()
	if c.direct != nil {
		c.direct.close()
	}
}

// speaksBinary asks the server's metadata (GET /v2) whether it lists the
// binary tensor data extension. Any failure means no: the client then
// speaks plain JSON, which every server understands.
func (c *HTTPModel) speaksBinary(ctx context.Context) bool {
	root, _, ok := strings.Cut(c.ref.Base, "/v2/models/")
	if !ok {
		return false
	}
	var meta serve.ServerMetadata
	err := c.call(ctx, http.MethodGet, root+"/v2", nil, func(_ http.Header, body []byte) error {
		if err := json.Unmarshal(body, &meta); err != nil {
			return malformed(fmt.Errorf("server metadata: %w", err))
		}
		return nil
	})
	return err == nil && slices.Contains(meta.Extensions, serve.BinaryExtension)
}

// Binary reports whether the client sends and receives tensors with the
// binary tensor data extension (the server lists it and
// Options.JSONOnly is false).
func (c *HTTPModel) Binary() bool { return c.binary }

func (c *HTTPModel) setInfo(meta *serve.ModelMetadata) error {
	if len(meta.Inputs) == 0 || len(meta.Outputs) == 0 {
		var none []string
		if len(meta.Inputs) == 0 {
			none = append(none, "inputs")
		}
		if len(meta.Outputs) == 0 {
			none = append(none, "outputs")
		}
		// MLServer lists none unless model-settings.json declares them.
		return fmt.Errorf("model metadata lists no %s: lineage reads the input size and the label count from them", strings.Join(none, " and no "))
	}
	if len(meta.Outputs) > MaxOutputs {
		return fmt.Errorf("model metadata lists %d outputs, at most %d allowed", len(meta.Outputs), MaxOutputs)
	}
	long := func(what string, name string) error {
		return fmt.Errorf("model metadata: %s's name is %d bytes long, at most %d allowed", what, len(name), MaxNameBytes)
	}
	for i, o := range meta.Outputs {
		if len(o.Name) > MaxNameBytes {
			return long(fmt.Sprintf("output %d", i), o.Name)
		}
	}
	if n := meta.Inputs[0].Name; len(n) > MaxNameBytes {
		return long("input 0", n)
	}
	in := meta.Inputs[0]
	out, err := c.chooseOutput(meta.Outputs)
	if err != nil {
		return err
	}
	last := func(s []int64) int64 {
		if len(s) == 0 {
			return -1
		}
		return s[len(s)-1]
	}
	d, k := last(in.Shape), last(out.Shape)
	if d <= 0 {
		return fmt.Errorf("input %q has shape %v: cannot tell the input size", in.Name, in.Shape)
	}
	if len(in.Shape) > 2 && slices.ContainsFunc(in.Shape[1:len(in.Shape)-1], func(n int64) bool { return n != 1 }) {
		// An image-shaped input ([-1 8 8]): lineage sends rows of
		// features, [batch, features], and the input's last dimension is
		// not its size.
		return fmt.Errorf("input %q has shape %v: lineage sends inputs of shape [batch, features] and reads no other input shape", in.Name, in.Shape)
	}
	if d > MaxInputSize {
		return fmt.Errorf("input %q has shape %v: %d inputs, at most %d allowed", in.Name, in.Shape, d, MaxInputSize)
	}
	labels := labelsParam(meta.Parameters["labels"])
	switch {
	case k > MaxLabels:
		return fmt.Errorf("output %q has shape %v: %d labels, at most %d allowed", out.Name, out.Shape, k, MaxLabels)
	case labels != nil && k > 0 && int64(len(labels)) != k:
		return fmt.Errorf("metadata lists %d labels but output %q has shape %v", len(labels), out.Name, out.Shape)
	case labels == nil && k <= 0:
		return fmt.Errorf("output %q has shape %v and no labels parameter: cannot tell the label count", out.Name, out.Shape)
	case labels == nil:
		labels = model.DefaultLabels(int(k))
	}
	name := meta.Name
	if name == "" {
		name = c.ref.Model
	}
	if err := checkDescription(name, labels); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	c.inputName, c.outputName = in.Name, out.Name
	c.inputFP64 = in.Datatype == serve.FP64
	c.info = model.Info{
		Name: name, Kind: model.Classifier, InputSize: int(d), Labels: labels,
		Source: StripCredentials(c.ref.Base),
	}
	return nil
}

// chooseOutput picks the output to read among outs: Options.Output when
// set (an error naming the outputs when outs has none of that name), else
// readableOutput's. It records the other outputs lineage could have read
// (see ReadableOutputs).
func (c *HTTPModel) chooseOutput(outs []serve.MetadataTensor) (serve.MetadataTensor, error) {
	out := readableOutput(outs)
	if want := c.opts.Output; want != "" {
		i := slices.IndexFunc(outs, func(o serve.MetadataTensor) bool { return o.Name == want })
		if i < 0 {
			return out, fmt.Errorf("output %q: the model lists no such output (it lists %s)", want, outputNames(outs))
		}
		out = outs[i]
	}
	c.otherOutputs = nil
	for _, o := range outs {
		if o.Name != out.Name && readsDatatype(o.Datatype) {
			c.otherOutputs = append(c.otherOutputs, o.Name)
		}
	}
	return out, nil
}

// Bounds on the outputs a message lists: a model may list MaxOutputs
// outputs with names of MaxNameBytes, 256 KB on one line.
const (
	listedOutputs    = 10 // names listed, then "and N more"
	listedOutputName = 64 // bytes of a name listed, then "…"
)

// outputNames lists the names of outs for a message, quoted: the first
// listedOutputs, each cut to listedOutputName bytes (marked by "…" after
// its quote), then how many more.
func outputNames(outs []serve.MetadataTensor) string {
	names := make([]string, 0, min(len(outs), listedOutputs))
	for _, o := range outs[:min(len(outs), listedOutputs)] {
		n := o.Name
		if len(n) > listedOutputName {
			n = strconv.Quote(strings.ToValidUTF8(n[:listedOutputName], "")) + "…"
		} else {
			n = strconv.Quote(n)
		}
		names = append(names, n)
	}
	list := strings.Join(names, ", ")
	if more := len(outs) - len(names); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}

// ReadableOutputs returns the output the model is read from and the other
// outputs its metadata lists in a datatype lineage reads: when there are
// such others, which output holds the distribution was a choice (see
// Options.Output), and callers should say which was read.
func (c *HTTPModel) ReadableOutputs() (read string, others []string) {
	return c.outputName, slices.Clone(c.otherOutputs)
}

// readsDatatype reports whether lineage reads an output of datatype dt
// (FP32, FP64 or FP16, or none given).
func readsDatatype(dt string) bool {
	return dt == serve.FP32 || dt == serve.FP64 || dt == fp16 || dt == ""
}

// readableOutput picks the output lineage reads among a model's outputs:
// the one named serve.OutputName, else the first whose datatype lineage
// reads (FP32, FP64 or FP16, or none given), else the first. Classifiers often
// list a label output first (scikit-learn's ONNX export: output_label,
// INT64, then output_probability), which holds no distribution.
func readableOutput(outs []serve.MetadataTensor) serve.MetadataTensor {
	for _, o := range outs {
		if o.Name == serve.OutputName {
			return o
		}
	}
	for _, o := range outs {
		if readsDatatype(o.Datatype) {
			return o
		}
	}
	return outs[0]
}

// labelsParam reads a labels parameter: a JSON array of strings, or a
// string holding such an array or comma-separated names.
func labelsParam(v any) []string {
	switch v := v.(type) {
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				s = fmt.Sprint(e)
			}
			out[i] = s
		}
		return out
	case string:
		var out []string
		if json.Unmarshal([]byte(v), &out) == nil {
			return out
		}
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	return nil
}

// Info returns the model's metadata; Source is the endpoint URL without
// credentials, Hash and Params are unknown (zero).
func (c *HTTPModel) Info() model.Info {
	info := c.info
	info.Labels = append([]string(nil), info.Labels...)
	return info
}

// Stats returns the traffic so far.
func (c *HTTPModel) Stats() Stats { return c.stats.snapshot() }

// Close makes later Predict calls fail, stops the model's workers once
// their batches are done and releases idle connections.
func (c *HTTPModel) Close() error {
	c.closed.Store(true)
	c.workers.close()
	c.release()
	return nil
}

// Predict sends x in batches of Options.BatchSize, in order, up to
// Options.Concurrency at a time (across all Predict calls of the model),
// and returns the validated distributions. A batch the server rejects as too large (413) is split
// in two and retried.
func (c *HTTPModel) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	if c.closed.Load() {
		return blas32.General{}, ErrClosed
	}
	d, k := c.info.InputSize, len(c.info.Labels)
	if x.Cols != d {
		return blas32.General{}, fmt.Errorf("remote %s: input has %d features, want %d", c.info.Source, x.Cols, d)
	}
	out := blas32.General{Rows: x.Rows, Cols: k, Stride: k, Data: make([]float32, x.Rows*k)}
	if err := c.workers.do(ctx, x, out, c.opts.BatchSize); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			var re *Error
			if !errors.As(err, &re) { // ctx done between batches: name the endpoint
				err = &Error{URL: c.info.Source, Err: err}
			}
		}
		return blas32.General{}, err
	}
	return out, nil
}

// answerLimit caps the body of an answer of rows distributions over k
// labels: 1 MiB for the envelope (or an error page) and 64 bytes a value,
// more than any JSON a server writes for one float, nested or indented.
// The cap on a whole response, Options.MaxResponseBytes, bounds a bad
// answer; this one bounds it by what was asked, so that a server sending
// huge answers cannot make each of up to MaxConcurrency workers hold
// 64 MiB.
func answerLimit(rows, k int) int64 {
	return 1<<20 + 64*int64(rows)*int64(k)
}

// errTooLarge marks a 413 answer.
var errTooLarge = errors.New("request too large")

// predictRange fills out rows [start, end) from x rows [start, end).
func (c *HTTPModel) predictRange(ctx context.Context, x, out blas32.General, start, end int) error {
	d, k := x.Cols, out.Cols
	n := end - start
	id := strconv.FormatInt(c.nextID.Add(1), 10)
	rows := blas32.General{Rows: n, Cols: d, Stride: x.Stride, Data: x.Data[start*x.Stride:]}
	body, tail, headerLen := c.requestBody(id, rows)
	dst := out.Data[start*k : end*k]
	err := c.callWire(ctx, http.MethodPost, c.ref.Base+"/infer", body, tail, headerLen, answerLimit(n, k), func(h http.Header, resp []byte) error {
		return c.decodeAnswer(h, resp, id, dst, n, k)
	})
	if errors.Is(err, errTooLarge) && n > 1 {
		mid := start + n/2
		if err := c.predictRange(ctx, x, out, start, mid); err != nil {
			return err
		}
		return c.predictRange(ctx, x, out, mid, end)
	}
	if err != nil {
		return err
	}
	if c.opts.Logits {
		if err := softmaxRows(dst, n, k, start); err != nil {
			return &Error{URL: c.info.Source, Attempts: 1, Err: err}
		}
	}
	w, err := checkRows(dst, n, k, start, c.opts.Lenient)
	if w > 0 {
		c.stats.warnings.Add(int64(w))
		c.opts.Log.Warn("renormalised answers", "url", c.info.Source, "rows", w, "first_probe", start)
	}
	if err != nil {
		return &Error{URL: c.info.Source, Attempts: 1, Err: err}
	}
	return nil
}
