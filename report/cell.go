package report

import (
	"math"
	"strconv"
	"strings"
)

type cellKind uint8

const (
	kindEmpty cellKind = iota
	kindText
	kindFloat
	kindInt
)

// Cell is one table value: text, a number with a display format, or empty.
// The zero Cell is empty (blank in text formats, an empty CSV field, null in
// JSON), so short rows and unset cells need no special handling. Build cells
// with [Text], [Float], [Fmt] and [Int].
type Cell struct {
	kind cellKind
	text string
	num  float64
	i    int64
	verb byte
	prec int
}

// Text returns a text cell.
func Text(s string) Cell { return Cell{kind: kindText, text: s} }

// Float returns a number cell shown in fixed-point notation with prec
// decimals (prec < 0: the shortest representation that round-trips).
func Float(v float64, prec int) Cell { return Fmt(v, 'f', prec) }

// Measured returns Float(v, prec), or an empty cell when v is NaN (a
// statistic that was not measured).
func Measured(v float64, prec int) Cell {
	if math.IsNaN(v) {
		return Cell{}
	}
	return Float(v, prec)
}

// Fmt returns a number cell shown with strconv.FormatFloat(v, verb, prec, 64);
// verb is 'f', 'e' or 'g'. It panics on any other verb (a programmer error).
func Fmt(v float64, verb byte, prec int) Cell {
	switch verb {
	case 'f', 'e', 'g':
	default:
		panic("report: Fmt verb must be 'f', 'e' or 'g', got " + strconv.QuoteRune(rune(verb)))
	}
	return Cell{kind: kindFloat, num: v, verb: verb, prec: prec}
}

// Int returns an integer number cell.
func Int(v int64) Cell { return Cell{kind: kindInt, i: v} }

// IsEmpty reports whether c is the empty cell.
func (c Cell) IsEmpty() bool { return c.kind == kindEmpty }

// IsNumber reports whether c holds a number ([Float], [Fmt] or [Int]).
func (c Cell) IsNumber() bool { return c.kind == kindFloat || c.kind == kindInt }

// Number returns c's numeric value and true, or 0 and false for text and
// empty cells.
func (c Cell) Number() (float64, bool) {
	switch c.kind {
	case kindFloat:
		return c.num, true
	case kindInt:
		return float64(c.i), true
	}
	return 0, false
}

// String returns c as shown in the table and markdown formats: text as is,
// numbers with their display format (NaN, +Inf, -Inf spelled so), empty as "".
// A number that rounds to zero is shown without a minus sign.
func (c Cell) String() string {
	switch c.kind {
	case kindText:
		return c.text
	case kindInt:
		return strconv.FormatInt(c.i, 10)
	case kindFloat:
		s := strconv.FormatFloat(c.num, c.verb, c.prec, 64)
		if strings.HasPrefix(s, "-") && allZero(s[1:]) {
			s = s[1:]
		}
		return s
	}
	return ""
}

// full returns c as written to CSV: numbers in full (round-trip) precision.
func (c Cell) full() string {
	if c.kind == kindFloat {
		return strconv.FormatFloat(c.num, 'g', -1, 64)
	}
	return c.String()
}

// appendJSON appends c as a JSON value: numbers in full precision, NaN/Inf
// and empty cells as null, text as a string.
func (c Cell) appendJSON(b []byte) []byte {
	switch c.kind {
	case kindText:
		return appendJSONString(b, c.text)
	case kindInt:
		return strconv.AppendInt(b, c.i, 10)
	case kindFloat:
		if math.IsNaN(c.num) || math.IsInf(c.num, 0) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, c.num, 'g', -1, 64)
	}
	return append(b, "null"...)
}

// allZero reports whether the mantissa of a formatted number has only zero
// digits (so "-0.000" and "-0e+00" lose their sign).
func allZero(s string) bool {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	for _, r := range s {
		if r != '0' && r != '.' {
			return false
		}
	}
	return s != ""
}
