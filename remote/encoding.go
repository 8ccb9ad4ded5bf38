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
// that is not gzip wraps gzip.ErrHeader; a failed read is returned as it
// is.
func decodeContent(resp *http.Response) error {
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if errors.Is(err, gzip.ErrHeader) {
			return fmt.Errorf("response with Content-Encoding %s is not gzip data: %w", enc, err)
		}
		if err != nil {
			return err
		}
		resp.Body = struct {
			io.Reader
			io.Closer
		}{zr, resp.Body}
		resp.ContentLength = -1
		resp.Header.Del("Content-Encoding")
		return nil
	default:
		return &encodingError{enc}
	}
}

// encodingError is an answer in a Content-Encoding lineage cannot decode;
// it is not retried.
type encodingError struct{ enc string }

func (e *encodingError) Error() string {
	return fmt.Sprintf("response has Content-Encoding %q, which lineage cannot decode (it reads identity or gzip)", oneLine(e.enc, maxMessage))
}
