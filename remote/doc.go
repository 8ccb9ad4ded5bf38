// Package remote implements model.Model for models lineage can only
// query: Open Inference Protocol v2 REST endpoints and local programs
// speaking the exec protocol. Open dispatches on the reference (ParseRef):
//
//	http://host:8080/v2/models/NAME   an OIP endpoint (HTTPModel)
//	exec:python3 model.py --flag      a program over stdin/stdout (ExecModel)
//	student.lnm                       a model file (model.Open)
//
// # HTTP
//
// HTTPModel reads the model metadata once, and the server metadata (GET
// /v2) to learn whether the server lists the binary tensor data
// extension; it then sends Predict batches of Options.BatchSize as FP32
// tensors (FP64 when the metadata declares an FP64 input), as raw
// little-endian bytes after a JSON header when the server
// speaks the extension (and Options.JSONOnly is false), else as JSON, up to Options.Concurrency at a time
// and at most Options.QPS per second. Each request names the output it
// reads: Options.Output, else the one called "probabilities", else the
// metadata's first FP32, FP64 or FP16 output (HTTPModel.ReadableOutputs
// tells which, and what else it could have read); its values may come in
// any of these datatypes. Each request has its own timeout;
// 429 and 5xx answers, connection errors, timeouts and malformed answers
// (JSON, or gzip data that does not decode) are retried up to
// Options.MaxRetries times with exponential backoff and full jitter,
// honouring Retry-After. Every answer is validated: right shape,
// finite, non-negative, rows summing to 1 within SumTolerance (or, with
// Options.Lenient, repaired and counted in Stats.Warnings). The API key is
// sent as a bearer token and never appears in errors or logs; URLs in
// errors have their credentials stripped (StripCredentials).
//
// For plain http:// endpoints reached without a proxy (and with no
// Options.Client), requests go through a small HTTP/1.1 client of the
// package's own: one write per request on a kept-alive connection that
// the sending goroutine holds until the answer is read, answers parsed by
// net/http's http.ReadResponse. It spares net/http's per-connection
// goroutines, which cost more CPU than the requests themselves on a small
// machine (lineage bench serve). HTTPS, proxies and a caller's client go
// through net/http.
//
// # The exec protocol
//
// An exec program reads requests on stdin and writes answers on stdout,
// one JSON object per line (UTF-8, "\n"-terminated; blank lines are
// ignored). Anything it writes to stderr is kept (the last 20 lines) for
// error messages. First, unprompted, it writes a hello line:
//
//	{"lineage_exec":1,"name":"digits-logreg","input_size":64,"labels":["0","1",…,"9"]}
//
// Then, for every request line, in order,
//
//	{"id":7,"inputs":[[0,0,5,13,…],[…]]}
//
// (a batch of raw input rows, each input_size numbers) it writes exactly
// one answer line carrying the same id, either the distributions over the
// labels, one row per input,
//
//	{"id":7,"probabilities":[[0.01,0.9,…],[…]]}
//
// (exactly as many rows as inputs, each of exactly one value per label;
// an answer of another shape, a flat array included, fails that Predict
// call),
// or an error, which fails that Predict call but keeps the program:
//
//	{"id":7,"error":"input 3 has 63 values"}
//
// Requests are sent one at a time. When stdin reaches EOF the program
// should exit; it is killed 2 s after Close, on a timeout, or when the
// context given to Open is done. It runs in a process group of its own
// (on Unix): a kill takes everything it started with it, and on Linux so
// does its own exit, so a wrapper script's model is never left running;
// it does not receive the terminal's Ctrl-C (lineage stops it), and a
// program that reads the terminal is stopped by it. See examples/exec for
// programs in Python.
package remote
