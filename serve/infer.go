package serve

// This file holds the inference handler and the helpers that write its
// answers and errors.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/model"
)

func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if ok, wait := s.limiter.Allow(); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		writeError(w, http.StatusTooManyRequests, "rate limit exceeded")
		return
	}
	if enc := strings.TrimSpace(r.Header.Get("Content-Encoding")); enc != "" && !strings.EqualFold(enc, "identity") {
		// Triton's clients can compress requests (gzip, deflate); read
		// as JSON, such a body failed with "invalid character '\x1f'".
		writeError(w, http.StatusUnsupportedMediaType, fmt.Sprintf("request Content-Encoding %q is not supported: send the body uncompressed", oneLineHeader(enc)))
		return
	}
	if r.ContentLength > s.opts.MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body of %d bytes exceeds the limit of %d", r.ContentLength, s.opts.MaxBodyBytes))
		return
	}
	// A request holds its body, a copy of its data and the parsed values
	// until it is answered: without a bound on the bytes in flight, a
	// few dozen clients sending bodies just under the limit made the
	// server run out of memory and crash. The bytes are charged as they
	// arrive (a connection that only announces a length holds nothing).
	mb := &meteredBody{r: r.Body, sem: s.inFlight, announced: min(r.ContentLength, s.budget), chunk: min(meterChunk, s.budget)}
	if r.Context().Value(servedKey{}) != nil {
		// Served by Serve, whose connections have the read deadlines
		// of s.opts: pace the body (a handler mounted elsewhere leaves
		// its server's deadlines alone).
		mb.setDeadline = http.NewResponseController(w).SetReadDeadline
		if rt := s.opts.ReadTimeout; rt > 0 {
			// The handler starts after the headers, so this is a
			// little later than the server's own deadline; it is
			// what the connection gets back once the body is read
			// (see unpace).
			mb.window, mb.limit = rt, start.Add(rt)
		} else {
			mb.window = time.Duration(float64(max(mb.announced, 0)) / float64(minBodyRate) * float64(time.Second))
		}
	}
	defer mb.release()
	r.Body = io.NopCloser(mb)
	body, err := readBody(w, r, s.opts.MaxBodyBytes)
	if err == nil {
		mb.unpace()
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds the limit of %d bytes", s.opts.MaxBodyBytes))
			return
		case errors.Is(err, errBusy):
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		writeError(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return
	}
	headerLen := -1
	if h := r.Header.Get(HeaderLength); h != "" {
		headerLen, err = strconv.Atoi(h)
		if err != nil || headerLen < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("malformed request: %s %q is not a length", HeaderLength, h))
			return
		}
	}
	req, err := parseRequest(body, headerLen, s.info.InputSize, s.opts.MaxBatch)
	if tooMany := (*BatchTooLargeError)(nil); errors.As(err, &tooMany) {
		setBatch(w, int(min(tooMany.Rows, math.MaxInt32)))
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	x := req.X
	setBatch(w, x.Rows)
	p, err := s.m.Predict(r.Context(), x)
	if errors.Is(err, model.ErrNotFinite) {
		// The weights overflow on these inputs: say so rather than
		// answer NaN, which JSON cannot carry (it went out as null).
		writeError(w, http.StatusInternalServerError, "prediction failed: the model's output is NaN (its activations overflow float32)")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "prediction failed")
		return
	}
	if req.BinaryOutput {
		out, n := encodeBinaryResponse(make([]byte, 0, 256+4*p.Rows*p.Cols), s.name, req.ID, p, req.Single)
		w.Header().Set("Content-Type", BinaryContentType)
		w.Header().Set(HeaderLength, strconv.Itoa(n))
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(http.StatusOK)
		w.Write(out)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(encodeResponse(nil, s.name, req.ID, p, req.Single))
}

// oneLineHeader is a header value for an error message: at most 40
// bytes, printable ASCII.
func oneLineHeader(v string) string {
	b := []byte(v)
	for i, c := range b {
		if c < ' ' || c > '~' {
			b[i] = '?'
		}
	}
	return truncate(b, 40)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ErrorResponse{Error: msg})
}
