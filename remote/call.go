package remote

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/serve"
)

// malformedError marks a response that could not be parsed; such answers
// are retried.
type malformedError struct{ err error }

func (e *malformedError) Error() string { return "malformed response: " + e.err.Error() }
func (e *malformedError) Unwrap() error { return e.err }

func malformed(err error) error { return &malformedError{err} }

// statusError is a non-2xx answer.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("HTTP %d %s", e.status, http.StatusText(e.status))
	}
	return fmt.Sprintf("HTTP %d %s: %s", e.status, http.StatusText(e.status), e.msg)
}

func (e *statusError) Is(target error) bool {
	return target == errTooLarge && e.status == http.StatusRequestEntityTooLarge
}

// maxMessage caps the bytes of a server's message quoted in an error.
const maxMessage = 200

// oneLine makes s, a message from a server or a program, fit in a one-line
// error: every run of white space and control characters becomes one
// space, the ends are trimmed, and beyond max bytes the message is cut at
// a character boundary and ends with "…".
func oneLine(s string, max int) string {
	var b strings.Builder
	gap := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			gap = b.Len() > 0
			continue
		}
		n := utf8.RuneLen(r) // 3 for the U+FFFD of invalid UTF-8
		if gap {
			n++
		}
		if b.Len()+n > max {
			b.WriteString("…")
			break
		}
		if gap {
			b.WriteByte(' ')
			gap = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// call performs one logical request with retries: it sends body (nil for
// GET) to url and hands a 200 answer to parse. Answers with status 429 or
// 5xx, connection errors, timeouts, parse errors of type *malformedError
// and gzip answers that arrived but do not decode (decodeContent) are
// retried with backoff; other failures are returned at once. Every error
// is an *Error.
func (c *HTTPModel) call(ctx context.Context, method, url string, body []byte, parse parser) error {
	return c.callWire(ctx, method, url, body, nil, -1, 0, parse)
}

// parser reads a 200 answer: its headers and body. It must not keep body
// (or slices of it) after it returns: the buffer is reused.
type parser func(h http.Header, body []byte) error

// callWire is call for the body body followed by tail (nil for none: the
// tail lets binary tensor data go out without being copied behind its
// header; see joinedBody), whose first headerLen bytes are a JSON header
// followed by binary tensor data (serve.HeaderLength); headerLen < 0
// means an all-JSON body. limit caps the answer's body (0:
// Options.MaxResponseBytes).
func (c *HTTPModel) callWire(ctx context.Context, method, url string, body, tail []byte, headerLen int, limit int64, parse parser) error {
	if limit <= 0 || limit > c.opts.MaxResponseBytes {
		limit = c.opts.MaxResponseBytes
	}
	var last error
	status := 0
	attempt := 0
	for ; attempt <= c.opts.MaxRetries; attempt++ {
		if attempt > 0 {
			c.stats.retries.Add(1)
		}
		if err := c.limiter.Wait(ctx); err != nil {
			return &Error{URL: url, Attempts: attempt, Status: status, Err: errors.Join(err, last)}
		}
		var retryAfter time.Duration
		var retry bool
		status, retryAfter, retry, last = c.attempt(ctx, method, url, body, tail, headerLen, limit, parse)
		if last == nil {
			return nil
		}
		c.stats.failures.Add(1)
		if ctx.Err() != nil {
			return &Error{URL: url, Attempts: attempt + 1, Status: status, Err: ctx.Err()}
		}
		if !retry || attempt == c.opts.MaxRetries {
			break
		}
		if retryAfter > c.opts.MaxRetryAfter {
			// Waiting the most lineage waits, silently, and asking again
			// would only meet the same answer: say so now.
			last = fmt.Errorf("%w; the server asks to retry after %v, longer than the %v lineage waits: try again later", last, retryAfter, c.opts.MaxRetryAfter)
			break
		}
		wait := c.backoff(attempt)
		if retryAfter > wait {
			wait = retryAfter
		}
		c.opts.Log.Debug("retrying", "url", url, "attempt", attempt+1, "error", last.Error(), "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &Error{URL: url, Attempts: attempt + 1, Status: status, Err: fmt.Errorf("%w (last failure: %w)", ctx.Err(), last)}
		case <-t.C:
		}
	}
	return &Error{URL: url, Attempts: min(attempt+1, c.opts.MaxRetries+1), Status: status, Err: last}
}

// backoff returns the full-jitter wait before retry number attempt+1: a
// uniform random time in [0, min(MaxBackoff, Backoff·2^attempt)]. The
// shift is taken only when it stays within MaxBackoff, so that it cannot
// overflow.
func (c *HTTPModel) backoff(attempt int) time.Duration {
	ceil := max(c.opts.MaxBackoff, 0)
	if b := c.opts.Backoff; b >= 0 && attempt >= 0 && attempt < 63 && b <= ceil>>attempt {
		ceil = b << attempt
	}
	c.rngMu.Lock()
	defer c.rngMu.Unlock()
	return time.Duration(c.rng.Uint64N(uint64(ceil) + 1))
}

// attempt sends one request. It reports the status, the server's
// Retry-After, whether a failure is worth retrying, and the failure.
func (c *HTTPModel) attempt(ctx context.Context, method, url string, body, tail []byte, headerLen int, limit int64, parse parser) (status int, retryAfter time.Duration, retry bool, err error) {
	rctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	headers := make([][2]string, 0, 4)
	headers = append(headers, [2]string{"Accept", "application/json"})
	switch {
	case body != nil && headerLen >= 0:
		headers = append(headers, [2]string{"Content-Type", serve.BinaryContentType},
			[2]string{serve.HeaderLength, strconv.Itoa(headerLen)})
	case body != nil:
		headers = append(headers, [2]string{"Content-Type", "application/json"})
	}
	if c.auth != "" {
		headers = append(headers, [2]string{"Authorization", c.auth})
	}
	c.stats.requests.Add(1)
	c.stats.sent.Add(int64(len(body) + len(tail)))
	// An inference request goes on a connection of its own until the
	// server has echoed a request's id (see HTTPModel.echo). net/http can
	// only do that by sending "Connection: close", on which a server that
	// refuses a request early may reset the connection before its answer
	// is read; so while the server is unknown, net/http requests go one
	// at a time on kept-alive connections instead, and the idle ones are
	// closed once an answer without the id shows the server does not
	// echo.
	closeConn := method == http.MethodPost && c.echo.Load() != echoYes
	if closeConn && c.direct == nil && c.echo.Load() == echoUnknown {
		c.unknownMu.Lock()
		defer c.unknownMu.Unlock()
		if closeConn = c.echo.Load() == echoNo; !closeConn {
			defer func() {
				if c.echo.Load() == echoNo {
					c.client.CloseIdleConnections()
				}
			}()
		}
	}
	resp, err := c.roundTrip(rctx, method, url, body, tail, headers, limit, closeConn)
	if err != nil {
		var be *buildError
		switch {
		case errors.As(err, &be):
			return 0, 0, false, be
		case errors.Is(err, errAnswerTooLarge):
			return 0, 0, false, fmt.Errorf("response headers exceed %d bytes", c.direct.maxHeader)
		}
		return 0, 0, !badCertificate(err), c.transportError(ctx, rctx, err)
	}
	defer resp.Body.Close()
	raw := resp.Body
	if resp.StatusCode == http.StatusOK {
		// An error answer is judged by its status, whatever its body's
		// encoding (a 503 page in brotli is still worth a retry).
		if err := decodeContent(resp); err != nil {
			var ue *encodingError
			var me *malformedError
			switch {
			case errors.As(err, &ue) || errors.Is(err, gzip.ErrHeader):
				return resp.StatusCode, 0, false, err
			case errors.As(err, &me):
				// The gzip data arrived and does not decode: the
				// server's fault, retried as any malformed answer.
				return resp.StatusCode, 0, true, err
			}
			// The connection failed in the gzip header, a timeout or Ctrl-C.
			return resp.StatusCode, 0, true, c.transportError(ctx, rctx, err)
		}
	}
	// An error answer's body is decoded for its message when it can be
	// (servers gzip error pages too, since lineage accepts gzip); one
	// that cannot is no message, and the status alone is reported.
	var data []byte
	if resp.StatusCode == http.StatusOK || decodeContent(resp) == nil {
		data, err = readBody(resp, limit+1)
		defer recycle(data)
		c.stats.received.Add(int64(len(data)))
	}
	if me := (*malformedError)(nil); err != nil && resp.StatusCode != http.StatusOK && errors.As(err, &me) {
		data, err = nil, nil // gzip data of an error page that does not decode
	}
	if err != nil {
		if errors.Is(err, errAnswerTooLarge) { // the direct client's cap on the raw body
			return resp.StatusCode, 0, false, fmt.Errorf("response exceeds %d bytes", limit)
		}
		if me := (*malformedError)(nil); errors.As(err, &me) {
			return resp.StatusCode, 0, true, err // gzip data that does not decode
		}
		return resp.StatusCode, 0, true, c.transportError(ctx, rctx, err)
	}
	if int64(len(data)) > limit {
		return resp.StatusCode, 0, false, fmt.Errorf("response exceeds %d bytes", limit)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		msg := ""
		if json.Unmarshal(data, &e) == nil {
			msg = e.Error
		} else {
			msg = string(data) // an HTML error page, say
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			// lineage posts its probes to the URL it was given and no
			// other: a redirect is reported, not followed.
			msg = "redirects are not followed"
			if loc := resp.Header.Get("Location"); loc != "" {
				msg += "; the server points to " + StripCredentials(loc)
			}
		}
		// Redacted before it is cut, so that no part of a key survives.
		serr := &statusError{status: resp.StatusCode, msg: oneLine(c.opts.redact(msg), maxMessage)}
		retryable := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After")), retryable, serr
	}
	if err := parse(resp.Header, data); err != nil {
		// A connection that carried a wrong answer (another request's id,
		// say: a server that sent an answer twice) may carry more of
		// them: the retry goes on another.
		if db, ok := raw.(*directBody); ok {
			db.keep = false
		}
		var m *malformedError
		return resp.StatusCode, 0, errors.As(err, &m), errors.New(c.opts.redact(err.Error()))
	}
	return resp.StatusCode, 0, false, nil
}

// buildError is a request that could not be built; it is not retried.
type buildError struct{ err error }

func (e *buildError) Error() string { return "building request: " + e.err.Error() }
func (e *buildError) Unwrap() error { return e.err }

// roundTrip sends one request, through the direct client when the model
// has one (see direct) and net/http otherwise, and returns the answer.
// With closeConn the connection carries this request alone (see
// HTTPModel.echo).
func (c *HTTPModel) roundTrip(ctx context.Context, method, rawURL string, body, tail []byte, headers [][2]string, limit int64, closeConn bool) (*http.Response, error) {
	if c.direct != nil {
		uri, ok := strings.CutPrefix(rawURL, c.direct.origin)
		if !ok || !strings.HasPrefix(uri, "/") {
			return nil, &buildError{fmt.Errorf("URL outside %s", c.direct.origin)}
		}
		return c.direct.do(ctx, &request{method: method, uri: uri, header: headers,
			body: body, tail: tail, maxBody: limit, close: closeConn, fresh: c.unsolicited.Load()})
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	if tail != nil {
		rd = &joinedBody{body, tail}
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return nil, &buildError{err}
	}
	if tail != nil {
		req.ContentLength = int64(len(body) + len(tail))
	}
	for _, h := range headers {
		req.Header.Set(h[0], h[1])
	}
	// net/http asks for gzip unless told otherwise and undoes it itself,
	// reporting gzip data that does not decode as a failed read (taken
	// for a connection error); asked for here, the answer comes as sent
	// and decodeContent undoes it, as for the direct client's.
	req.Header.Set("Accept-Encoding", "gzip")
	req.Close = closeConn
	return c.client.Do(req)
}

// readBody reads up to limit bytes of resp's body: into a recycled buffer
// when the server announced a length within the limit and within
// maxPooledBody, else into a buffer that grows only as bytes arrive. The
// caller hands the bytes back with recycle when done with them.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n < limit && n <= maxPooledBody {
		buf := bodyBuffer(int(n))
		_, err := io.ReadFull(resp.Body, buf)
		return buf, err
	}
	return io.ReadAll(io.LimitReader(resp.Body, limit))
}

// maxPooledBody is the largest response body readBody reads into a
// recycled buffer.
const maxPooledBody = 4 << 20

// bodyPool holds response buffers (*[]byte) for reuse: an inference
// answer is read, decoded into the caller's matrix and dropped, once per
// request, and allocating a fresh buffer each time costs measurable
// throughput in garbage collection (scratch t19: about 5 % on loopback).
var bodyPool sync.Pool

// bodyBuffer returns a buffer of n bytes, recycled when one large enough
// is at hand.
func bodyBuffer(n int) []byte {
	if p, ok := bodyPool.Get().(*[]byte); ok {
		if cap(*p) >= n {
			return (*p)[:n]
		}
		bodyPool.Put(p)
	}
	return make([]byte, n, max(n, 512))
}

// recycle hands a buffer from readBody back for reuse.
func recycle(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBody {
		return
	}
	bodyPool.Put(&b)
}

// transportError describes a failed round trip without the URL (which the
// enclosing *Error names) and without anything from the request headers.
func (c *HTTPModel) transportError(ctx, rctx context.Context, err error) error {
	if ctx.Err() == nil && rctx.Err() != nil {
		return fmt.Errorf("timeout after %v", c.opts.Timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // drop the "Post URL:" prefix
	}
	return fmt.Errorf("connection error: %s", c.opts.redact(err.Error()))
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	// Beyond 292 years a Duration overflows (to a negative wait, which
	// was taken for none): any such wait, however many digits, is longer
	// than lineage waits. ParseUint gives MaxUint64 on ErrRange.
	if s, err := strconv.ParseUint(h, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		return time.Duration(min(s, uint64(math.MaxInt64/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// joinedBody reads a then b as one stream. Unlike io.MultiReader, one Read
// fills p across the boundary, so net/http writes a header-plus-rows body
// in one syscall rather than one per part. (net/http also flushes the
// HTTP headers on their own before a body of any type but its known
// in-memory readers: two segments per request, as for a *bytes.Reader of
// the whole body once that spans the 4 KB write buffer.) Measured on
// loopback (scratch t18, 2 cores, 8 interleaved 1 s pairs, 3 processes
// each): lineage/ceiling 0.88–0.97 copying header and rows into one
// *bytes.Reader, 0.92–0.98 with joinedBody, which also saves the 16 KB
// copy per 64-row request; io.MultiReader was 0.82–0.89.
type joinedBody struct{ a, b []byte }

func (r *joinedBody) Read(p []byte) (int, error) {
	n := copy(p, r.a)
	r.a = r.a[n:]
	m := copy(p[n:], r.b)
	r.b = r.b[m:]
	if n+m == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n + m, nil
}

// badCertificate reports whether err is a TLS certificate that failed
// verification: asking again would fail the same way.
func badCertificate(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}
