package remote

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// direct is a minimal HTTP/1.1 client for a plain-http endpoint: each
// request is written with one writev on a kept-alive connection that the
// calling goroutine owns until the answer is read, and the answer is parsed
// with http.ReadResponse. net/http's client hands every request to a
// writer and a reader goroutine per connection and back; on a 2-core
// machine those switches are most of a client's cost. Measured on loopback
// against lineage serve (scratch t21, 64-row binary requests, medians of 5
// interleaved 1 s runs): net/http 0.95/0.85/0.85 of wrk's requests/s at
// concurrency 1/4/16, this client 1.18/1.09/1.14.
//
// HTTPModel uses it for http:// endpoints reached without a proxy when
// Options.Client is nil; HTTPS, proxies and caller-supplied clients go
// through net/http. It is safe for concurrent use. The zero value is not
// usable; see newDirect.
type direct struct {
	origin    string // scheme://host of every URL it serves
	addr      string // host:port to dial
	host      string // Host header
	maxHeader int64  // cap on one answer's status lines and headers, 1xx included
	dialer    net.Dialer

	mu     sync.Mutex
	idle   []*directConn
	closed bool
}

// directConn is one kept-alive connection and its reader.
type directConn struct {
	conn net.Conn
	lim  limitedReader // caps the bytes one answer may take
	br   *bufio.Reader
}

// errAnswerTooLarge is a connection's answer running past its cap.
var errAnswerTooLarge = errors.New("answer exceeds the response size limit")

// limitedReader reads at most n bytes, then fails with errAnswerTooLarge.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errAnswerTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// newDirect returns a direct client for base (an endpoint URL) when it
// can serve it: plain http, no proxy from the environment, and no client
// of the caller's. Otherwise it returns nil.
func newDirect(base string, opts Options) *direct {
	if opts.Client != nil {
		return nil
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil
	}
	if p, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err != nil || p != nil {
		return nil
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	return &direct{origin: u.Scheme + "://" + u.Host, addr: addr, host: u.Host, maxHeader: 1 << 20,
		dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}}
}

// get returns an idle connection (reused true) or dials a new one. An
// idle connection with anything to read — bytes a server sent past its
// last answer's end, which would be taken for the next answer, or the end
// of stream of a server that closed it — is closed instead of reused.
// Without reuse (the server has sent answers unasked) every idle
// connection is closed and a new one dialled: an idle one may still
// receive such an answer after the check.
func (d *direct) get(ctx context.Context, reuse bool) (c *directConn, reused bool, err error) {
	for {
		d.mu.Lock()
		n := len(d.idle)
		if n == 0 {
			d.mu.Unlock()
			break
		}
		c = d.idle[n-1]
		d.idle = d.idle[:n-1]
		d.mu.Unlock()
		if reuse && quiet(c.conn) {
			return c, true, nil
		}
		c.conn.Close()
	}
	conn, err := d.dialer.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, false, err
	}
	c = &directConn{conn: conn}
	c.lim.r = conn
	c.br = bufio.NewReaderSize(&c.lim, 16<<10)
	return c, false, nil
}

// put keeps c for the next request, or closes it after close.
func (d *direct) put(c *directConn) {
	d.mu.Lock()
	if !d.closed {
		d.idle = append(d.idle, c)
		c = nil
	}
	d.mu.Unlock()
	if c != nil {
		c.conn.Close()
	}
}

// close closes the idle connections; connections in use are closed when
// handed back.
func (d *direct) close() {
	d.mu.Lock()
	idle := d.idle
	d.idle, d.closed = nil, true
	d.mu.Unlock()
	for _, c := range idle {
		c.conn.Close()
	}
}

// request is what direct.do sends.
type request struct {
	method, uri string      // uri: the request target, e.g. /v2/models/m/infer
	header      [][2]string // extra headers, in order
	body, tail  []byte      // the body: body then tail (both may be nil)
	maxBody     int64       // the most body bytes the answer may have
	// close: close the connection after the answer, whatever the
	// server says. (No "Connection: close" header: a server told so may
	// close a connection at once when it refuses a request early, and
	// the reset can swallow its answer.)
	close bool
	// fresh: dial a new connection rather than take an idle one.
	fresh bool
}

// do sends req and returns the answer, whose Body must be read and closed
// (closing it hands the connection back when the answer was read to its
// end and the server keeps the connection alive). ctx cancels the request:
// the connection's deadline is moved to the past, failing its reads and
// writes. A kept-alive connection the server closed while it idled is
// replaced once, at no retry: the server never saw the request.
func (d *direct) do(ctx context.Context, req *request) (*http.Response, error) {
	for try := 0; ; try++ {
		c, reused, err := d.get(ctx, !req.fresh)
		if err != nil {
			return nil, err
		}
		resp, silent, err := d.roundTrip(ctx, c, req)
		if err == nil {
			return resp, nil
		}
		c.conn.Close()
		if !reused || try > 0 || ctx.Err() != nil || !silent || !staleConn(err) {
			return nil, err
		}
	}
}

// staleConn reports whether err is what a request on a connection the
// server has closed meets: end of stream (http.ReadResponse reports it as
// io.ErrUnexpectedEOF), a reset or a broken pipe.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// aLongTimeAgo is a deadline in the past: it fails a connection's pending
// reads and writes at once.
var aLongTimeAgo = time.Unix(1, 0)

// earlyAnswerWait bounds the wait for an answer once writing the request
// failed. A server may answer before it has read the whole request (413
// for a body over its limit) and close the connection, failing the rest
// of the write; its answer has then already arrived.
var earlyAnswerWait = time.Second

// roundTrip sends req on c and reads the answer's status line and
// headers. On failure, silent reports that not one byte of an answer
// arrived.
func (d *direct) roundTrip(ctx context.Context, c *directConn, req *request) (resp *http.Response, silent bool, err error) {
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(aLongTimeAgo) })
	hdr := d.appendHeader(make([]byte, 0, 512), req)
	bufs := net.Buffers{hdr}
	if len(req.body) > 0 {
		bufs = append(bufs, req.body)
	}
	if len(req.tail) > 0 {
		bufs = append(bufs, req.tail)
	}
	c.lim.n = d.maxHeader
	_, werr := bufs.WriteTo(c.conn)
	if werr != nil {
		c.conn.SetReadDeadline(time.Now().Add(earlyAnswerWait))
		if ctx.Err() != nil {
			// Cancelled before the deadline above replaced the
			// cancellation's: restore it.
			c.conn.SetReadDeadline(aLongTimeAgo)
		}
	}
	resp, err = d.readHeader(c)
	if err != nil {
		stop()
		silent = c.lim.n == d.maxHeader && c.br.Buffered() == 0
		switch {
		case ctx.Err() != nil:
			return nil, silent, ctx.Err()
		case werr != nil:
			return nil, silent, werr
		}
		return nil, silent, err
	}
	// The body's own cap, with room for chunk framing and trailers.
	c.lim.n = req.maxBody + min(d.maxHeader, math.MaxInt64-req.maxBody)
	if werr != nil {
		// An early answer: the request was cut short, so the connection
		// cannot carry another one, whatever the server says.
		resp.Close = true
	}
	resp.Body = &directBody{ReadCloser: resp.Body, d: d, c: c, stop: stop, keep: !resp.Close && !req.close}
	return resp, false, nil
}

// readHeader reads an answer's status line and headers, skipping interim
// 1xx answers (100 Continue, 103 Early Hints; not 101 Switching
// Protocols, which is final), all within d.maxHeader bytes.
func (d *direct) readHeader(c *directConn) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(c.br, nil)
		if err != nil {
			if c.lim.n <= 0 {
				// The cap cut a header line short, which ReadResponse
				// reports as malformed (an endless run of 100 Continue
				// read as `malformed HTTP response "H"`).
				return nil, errAnswerTooLarge
			}
			return nil, err
		}
		if resp.StatusCode < 100 || resp.StatusCode > 199 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
	}
}

// appendHeader appends req's request line and headers to dst.
func (d *direct) appendHeader(dst []byte, req *request) []byte {
	dst = append(dst, req.method...)
	dst = append(dst, ' ')
	dst = append(dst, req.uri...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, d.host...)
	dst = append(dst, "\r\nUser-Agent: lineage\r\n"...)
	for _, h := range req.header {
		dst = append(dst, h[0]...)
		dst = append(dst, ": "...)
		dst = append(dst, h[1]...)
		dst = append(dst, "\r\n"...)
	}
	if n := len(req.body) + len(req.tail); n > 0 || req.method == http.MethodPost {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(n), 10)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// directBody is an answer's body; closing it hands the connection back
// when the body was read to its end, the server keeps the connection
// alive and the request was not cancelled, and closes it otherwise.
type directBody struct {
	io.ReadCloser
	d    *direct
	c    *directConn
	stop func() bool
	keep bool
	eof  bool
	done bool
}

func (b *directBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *directBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	err := b.ReadCloser.Close()
	// stop is false when the cancellation already fired: the deadline is
	// in the past and the connection is of no further use.
	if b.stop() && b.keep && b.eof && err == nil && b.c.br.Buffered() == 0 {
		b.d.put(b.c)
		return nil
	}
	b.c.conn.Close()
	return err
}

// validHeaderValue reports whether v may be sent as an HTTP header value
// as it is (no control characters but tab), so that no value can smuggle
// in headers of its own.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
