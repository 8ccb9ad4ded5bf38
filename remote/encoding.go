package remote

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// decodeContent makes resp's body its content, undoing a gzip
// Content-Encoding. net/http undoes the gzip it asks for itself; the
// direct client asks for none, which HTTP reads as any being acceptable,
// and a server that compressed its answer then failed with "invalid
// character '\x1f'", retried. The decoded body is capped by readBody's
// limit like any other. Another encoding is an *encodingError; a body
// that is not gzip wraps gzip.ErrHeader; gzip data that arrived but does
// not decode (cut short, corrupt), here or when the body is read, is a
// *malformedError; a failed read of the body as it arrives (the
// connection's) is returned as it is.
func decodeContent(resp *http.Response) error {
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return nil
	case "gzip", "x-gzip":
		raw := &readFailure{r: resp.Body}
		zr, err := gzip.NewReader(raw)
		switch {
		case errors.Is(err, gzip.ErrHeader):
			return fmt.Errorf("response with Content-Encoding %s is not gzip data: %w", enc, err)
		case err != nil && raw.err == nil:
			return badGzip(enc, err)
		case err != nil:
			return err
		}
		resp.Body = struct {
			io.Reader
			io.Closer
		}{&gzipBody{zr: zr, raw: raw, enc: enc}, resp.Body}
		resp.ContentLength = -1
		resp.Header.Del("Content-Encoding")
		return nil
	default:
		return &encodingError{enc}
	}
}

// readFailure reads r, recording the first error other than io.EOF that
// r returns: a failure of the connection, where a decoder's error would
// otherwise not tell it from data that arrived and does not decode.
type readFailure struct {
	r   io.Reader
	err error
}

func (f *readFailure) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && err != io.EOF && f.err == nil {
		f.err = err
	}
	return n, err
}

// gzipBody is the decoded body of a gzip answer: an error decoding what
// arrived is the server's, a *malformedError (badGzip); one reading the
// raw body is returned as it is.
type gzipBody struct {
	zr  *gzip.Reader
	raw *readFailure
	enc string
}

func (b *gzipBody) Read(p []byte) (int, error) {
	n, err := b.zr.Read(p)
	if err != nil && err != io.EOF && b.raw.err == nil {
		err = badGzip(b.enc, err)
	}
	return n, err
}

// badGzip is the *malformedError of an answer whose gzip data (Content-
// Encoding enc) arrived but does not decode: err, the decoder's error,
// says how ("unexpected EOF" as the gzip data ending early).
func badGzip(enc string, err error) error {
	switch {
	case err == io.EOF: // gzip.NewReader's for no data at all
		err = errors.New("the gzip data is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = errors.New("the gzip data ends early")
	}
	return malformed(fmt.Errorf("invalid gzip body (Content-Encoding %s): %w", enc, err))
}

// encodingError is an answer in a Content-Encoding lineage cannot decode;
// it is not retried.
type encodingError struct{ enc string }

func (e *encodingError) Error() string {
	return fmt.Sprintf("response has Content-Encoding %q, which lineage cannot decode (it reads identity or gzip)", oneLine(e.enc, maxMessage))
}
