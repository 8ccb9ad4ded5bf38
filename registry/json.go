package registry

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/internal/jsonnum"
)

// WriteJSON writes s to w as lineage report --format json prints it: the
// indented JSON that jsonnum.MarshalIndent makes of s (NaN and ±Inf as
// null) and a line feed. The similarity matrices are written a row at a
// time: a registry's n×n values are not held a second time as text (at
// n = 3,000, 9 million values, 220 MB of JSON).
func (s *Summary) WriteJSON(w io.Writer) error {
	shell := *s
	shell.Matrices = nil
	b, err := jsonnum.MarshalIndent(&shell)
	if err != nil {
		return err
	}
	// Only the summary's own keys are indented by two spaces: the nested
	// ones are indented further, and a string holds no line feed.
	at, cut, err := splice(b, "\n  \"similarity\": ", "null")
	if err != nil {
		return err
	}
	bw := &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}
	bw.write(b[:at])
	switch {
	case s.Matrices == nil:
		bw.str("null")
	case len(s.Matrices) == 0:
		bw.str("[]")
	default:
		bw.str("[")
		for i := range s.Matrices {
			if i > 0 {
				bw.str(",")
			}
			bw.str("\n    ")
			if err := s.Matrices[i].writeJSON(bw, "    "); err != nil {
				return err
			}
		}
		bw.str("\n  ]")
	}
	bw.write(b[cut:])
	bw.str("\n")
	if bw.err != nil {
		return bw.err
	}
	return bw.w.Flush()
}

// splice returns where in b the value after key starts, and where it
// ends when it is want; an error when b has no such key and value.
func splice(b []byte, key, want string) (at, cut int, err error) {
	i := bytes.Index(b, []byte(key+want))
	if i < 0 {
		return 0, 0, fmt.Errorf("registry: JSON of the summary: no %s%s", strings.TrimSpace(key), want)
	}
	return i + len(key), i + len(key) + len(want), nil
}

// writeJSON writes m as an element of the summary's "similarity" array,
// indent being the element's own: the JSON of its other fields, then its
// values a row at a time.
func (m *Matrix) writeJSON(bw *jsonWriter, indent string) error {
	shell := *m
	shell.Values, shell.fps, shell.keep = nil, nil, nil
	b, err := jsonnum.MarshalIndent(shell)
	if err != nil {
		return err
	}
	b = bytes.ReplaceAll(b, []byte("\n"), []byte("\n"+indent))
	at, cut, err := splice(b, "\n"+indent+"  \"values\": ", "null")
	if err != nil {
		return err
	}
	bw.write(b[:at])
	switch {
	case m.Values == nil:
		bw.str("null")
	case len(m.Values) == 0:
		bw.str("[]")
	default:
		rowAt, valAt := "\n"+indent+"    ", "\n"+indent+"      "
		bw.str("[")
		for i, row := range m.Values {
			if i > 0 {
				bw.str(",")
			}
			bw.str(rowAt)
			switch {
			case row == nil:
				bw.str("null")
			case len(row) == 0:
				bw.str("[]")
			default:
				bw.str("[")
				for j, v := range row {
					if j > 0 {
						bw.str(",")
					}
					bw.str(valAt)
					bw.buf = appendJSONFloat(bw.buf[:0], v)
					bw.write(bw.buf)
				}
				bw.str(rowAt + "]")
			}
		}
		bw.str("\n" + indent + "  ]")
	}
	bw.write(b[cut:])
	return nil
}

// jsonWriter remembers the first write error, so that WriteJSON writes
// freely and reports it once.
type jsonWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (j *jsonWriter) write(b []byte) {
	if j.err == nil {
		_, j.err = j.w.Write(b)
	}
}

func (j *jsonWriter) str(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

// appendJSONFloat appends v as encoding/json writes a float64, or null for
// NaN and ±Inf (as jsonnum.MarshalIndent writes them): the shortest
// representation, in exponent form below 1e-6 and from 1e21 on in
// magnitude, its exponent without a leading zero.
func appendJSONFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
