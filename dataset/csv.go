package dataset

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/blas/blas32"
)

// HeaderMode says whether a CSV file starts with a header row.
type HeaderMode int

// The header modes. The zero value, HeaderAuto, treats the first row as a
// header when one of its feature cells is not a number at all (NaN,
// infinities and out-of-range numbers are numbers, and rejected as data),
// or when the label column is given by name.
const (
	HeaderAuto HeaderMode = iota
	HeaderPresent
	HeaderAbsent
)

// CSVOptions configures ReadCSV. The zero value reads comma-separated rows,
// auto-detects a header, takes the last column as the label and infers the
// classes from the label values.
type CSVOptions struct {
	// Name names the dataset and the file in errors; "" means "csv".
	Name string
	// Header says whether the first row is a header; zero means HeaderAuto.
	Header HeaderMode
	// Label selects the label column by header name or by 0-based index
	// (negative indexes count from the end, "-1" is the last column); a
	// header name takes precedence over an index. "" means the last column.
	Label string
	// NoLabel reads every column as a feature and leaves Y nil.
	NoLabel bool
	// Labels, when non-nil, fixes the classes: a label cell must equal one
	// of these names (spaces around it ignored) or be an integer index
	// into it. Nil means infer the classes: when every label cell is an
	// integer the classes are the distinct integers in numeric order
	// (written in canonical decimal, so "0".."9" map to classes 0..9),
	// otherwise the distinct strings in byte order.
	Labels []string
	// Comma is the field separator; zero means ','.
	Comma rune
}

// ParseError reports a malformed CSV input. Line and Column are 1-based;
// Column is the field number and is zero when the problem concerns a whole
// row, Line is zero when it concerns the whole input.
type ParseError struct {
	File   string
	Line   int
	Column int
	Msg    string
	Err    error // the underlying cause, possibly nil
}

// Error returns, for example, `data.csv: line 12, column 3: "abc" is not a number`.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *ParseError) Unwrap() error { return e.Err }

// Sentinel errors wrapped by ParseError.
var (
	// ErrEmpty means the input holds no data rows.
	ErrEmpty = errors.New("no data rows")
	// ErrFieldCount means a row has a different number of fields than the first.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrNotNumber means a feature cell is not a finite number.
	ErrNotNumber = errors.New("not a number")
	// ErrUnknownLabel means a label cell names none of CSVOptions.Labels.
	ErrUnknownLabel = errors.New("unknown label")
	// ErrNotText means the file is not UTF-8 text: UTF-16, or binary.
	ErrNotText = errors.New("not UTF-8 text")
	// ErrTooLong means a row (a record, with any line breaks inside
	// quotes) holds more bytes than lineage reads.
	ErrTooLong = errors.New("row too long")
	// ErrNoLabel means a label cell is empty while the labels are
	// inferred from the file.
	ErrNoLabel = errors.New("empty label")
)

// ReadCSV reads a dataset from CSV: one example per row, one feature per
// column plus an optional label column (see CSVOptions). Feature cells are
// parsed as float32 after trimming spaces; NaN and infinities are rejected.
// Errors are *ParseError values naming the line and column.
func ReadCSV(r io.Reader, opts CSVOptions) (*Dataset, error) {
	name := opts.Name
	if name == "" {
		name = "csv"
	}
	perr := func(line, col int, err error, format string, args ...any) error {
		return &ParseError{File: name, Line: line, Column: col, Msg: fmt.Sprintf(format, args...), Err: err}
	}
	lim := &recordLimiter{r: r, max: maxCSVRecord}
	cr := csv.NewReader(lim)
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	nextLine := 1 // where the next record starts, for a record too long to read
	read := func() ([]string, error) {
		rec, err := cr.Read()
		if errors.Is(err, errRecordTooLong) {
			return nil, perr(nextLine, 0, ErrTooLong, "a row longer than %d MiB: not a dataset lineage reads", maxCSVRecord>>20)
		}
		if err == nil {
			lim.n = 0
			l, _ := cr.FieldPos(len(rec) - 1)
			nextLine = l + 1
		}
		if err != nil && err != io.EOF {
			var ce *csv.ParseError
			if errors.As(err, &ce) {
				return nil, perr(ce.Line, 0, ce.Err, "%v", ce.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return rec, err
	}

	rec, err := read()
	if err == io.EOF {
		return nil, perr(0, 0, ErrEmpty, "empty file")
	}
	if err != nil {
		return nil, err
	}
	rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
	if strings.HasPrefix(rec[0], "\xff\xfe") || strings.HasPrefix(rec[0], "\xfe\xff") {
		// Excel's "Unicode text": its cells read as words, the first row
		// as a header, and the error came on line 2 in escapes.
		return nil, perr(1, 0, ErrNotText, "UTF-16 text (it starts with a UTF-16 byte-order mark): lineage reads UTF-8 CSV; convert it, e.g. with iconv -f UTF-16 -t UTF-8")
	}
	if slices.ContainsFunc(rec, func(c string) bool { return strings.ContainsRune(c, 0) }) {
		return nil, perr(1, 0, ErrNotText, "a NUL byte: binary data, not CSV text")
	}
	ncol := len(rec)

	// Resolve the label column, first without a header.
	labelCol := -1
	byName := false
	if !opts.NoLabel {
		switch {
		case opts.Label == "":
			labelCol = ncol - 1
		default:
			if i, err := strconv.Atoi(strings.TrimSpace(opts.Label)); err == nil {
				if i < 0 {
					i += ncol
				}
				if i < 0 || i >= ncol {
					return nil, perr(0, 0, nil, "label column %s out of range for %d columns", opts.Label, ncol)
				}
				labelCol = i
			} else {
				byName = true
			}
		}
	}
	header := opts.Header == HeaderPresent || (opts.Header == HeaderAuto && byName)
	if opts.Header == HeaderAuto && !header {
		for j, cell := range rec {
			if j == labelCol {
				continue
			}
			if isWord(cell) {
				header = true
				break
			}
		}
	}
	if header && !opts.NoLabel && opts.Label != "" {
		if j := slices.Index(rec, opts.Label); j >= 0 {
			labelCol = j
		} else if byName {
			return nil, perr(0, 0, nil, "no column named %q in the header", opts.Label)
		}
	} else if byName {
		return nil, perr(0, 0, nil, "label column %q named but the file has no header", opts.Label)
	}

	dim := ncol
	if labelCol >= 0 {
		dim--
	}
	if dim < 1 {
		hint := ""
		if (opts.Comma == 0 || opts.Comma == ',') && strings.ContainsAny(rec[0], "\t;") {
			hint = "; its cells are separated by commas, not tabs or semicolons"
		}
		return nil, perr(0, 0, nil, "no feature columns (the only column is the label%s)", hint)
	}
	var classIdx map[string]int // fixed labels: name -> class
	if opts.Labels != nil {
		classIdx = make(map[string]int, len(opts.Labels))
		for i, l := range opts.Labels {
			if _, dup := classIdx[l]; !dup {
				classIdx[l] = i
			}
		}
	}
	distinct := map[string]int{} // inferred labels: value -> first-seen id
	var (
		data []float32
		y    []int
		rows int
	)
	if header {
		rec, err = read()
	}
	for ; err == nil; rec, err = read() {
		line, _ := cr.FieldPos(0)
		if len(rec) != ncol {
			return nil, perr(line, 0, ErrFieldCount, "%d fields, want %d", len(rec), ncol)
		}
		if len(data)+dim > maxCSVValues {
			return nil, perr(line, 0, nil, "more than %d feature values (%d rows of %d): larger than lineage reads", maxCSVValues, rows+1, dim)
		}
		for j, cell := range rec {
			if j == labelCol {
				continue
			}
			v, problem := parseCell(cell)
			if problem != "" {
				l, _ := cr.FieldPos(j)
				return nil, perr(l, j+1, ErrNotNumber, "%q %s", cell, problem)
			}
			data = append(data, v)
		}
		if labelCol >= 0 {
			cell := rec[labelCol]
			if classIdx != nil {
				c, ok := lookupLabel(classIdx, opts.Labels, cell)
				if !ok {
					l, _ := cr.FieldPos(labelCol)
					return nil, perr(l, labelCol+1, ErrUnknownLabel, "label %q is not one of the %d classes", cell, len(opts.Labels))
				}
				y = append(y, c)
			} else {
				cell = strings.TrimSpace(cell)
				if cell == "" {
					// A class "" of the rows that lack a label would
					// add an output to the model.
					l, _ := cr.FieldPos(labelCol)
					return nil, perr(l, labelCol+1, ErrNoLabel, "the label is empty (every row needs one)")
				}
				id, ok := distinct[cell]
				if !ok {
					id = len(distinct)
					distinct[strings.Clone(cell)] = id
				}
				y = append(y, id)
			}
		}
		rows++
	}
	if err != io.EOF {
		return nil, err
	}
	if rows == 0 {
		return nil, perr(0, 0, ErrEmpty, "no data rows")
	}

	labels := opts.Labels
	if labelCol >= 0 && classIdx == nil {
		var remap []int
		labels, remap = inferClasses(distinct)
		for i, id := range y {
			y[i] = remap[id]
		}
	}
	if labelCol < 0 {
		y = nil
	}
	x := blas32.General{Rows: rows, Cols: dim, Stride: dim, Data: data}
	d, err := New(opts.Name, x, y, labels)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	lo, hi := FeatureRanges(d)
	for j := range lo {
		if float64(hi[j])-float64(lo[j]) <= math.MaxFloat32 {
			continue
		}
		col := j + 1
		if labelCol >= 0 && labelCol <= j {
			col++
		}
		return nil, perr(0, 0, ErrNotNumber, "column %d spans %g to %g, more than float32's range (3.4e38) apart: lineage computes in float32, so its probes and differences would overflow; scale the column down", col, lo[j], hi[j])
	}
	return d, nil
}

// parseCell parses a feature cell as a finite float32. When it is not
// one, it returns what is wrong, worded to follow the quoted cell.
func parseCell(cell string) (float32, string) {
	v, err := strconv.ParseFloat(strings.TrimSpace(cell), 32)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, "is outside float32's range (magnitudes up to 3.4e38)"
	case err != nil:
		return 0, "is not a number"
	case math.IsNaN(v):
		return 0, "is NaN, want a finite number"
	case math.IsInf(v, 0):
		return 0, "is infinite, want a finite number"
	}
	return float32(v), ""
}

// isWord reports whether a cell is not a number at all (a syntax error, as
// in a header), rather than NaN, an infinity or out of range.
func isWord(cell string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(cell), 32)
	return errors.Is(err, strconv.ErrSyntax)
}

// lookupLabel maps a label cell to a fixed class: exact name, trimmed name,
// then integer index.
func lookupLabel(idx map[string]int, labels []string, cell string) (int, bool) {
	if c, ok := idx[cell]; ok {
		return c, true
	}
	t := strings.TrimSpace(cell)
	if c, ok := idx[t]; ok {
		return c, true
	}
	if c, err := strconv.Atoi(t); err == nil && c >= 0 && c < len(labels) {
		return c, true
	}
	return 0, false
}

// inferClasses orders the distinct label values (numerically when all are
// integers, else bytewise) and returns the class names and a map from
// first-seen id to class index.
func inferClasses(distinct map[string]int) (labels []string, remap []int) {
	type class struct {
		name string
		num  int
		id   int
	}
	cs := make([]class, 0, len(distinct))
	numeric := true
	for s, id := range distinct {
		n, err := strconv.Atoi(s)
		if err != nil {
			numeric = false
		}
		cs = append(cs, class{s, n, id})
	}
	if numeric {
		slices.SortFunc(cs, func(a, b class) int { return cmp.Compare(a.num, b.num) })
		// "07" and "7" are the same class once numeric.
		merged := cs[:0]
		remap = make([]int, len(cs))
		for _, c := range cs {
			if len(merged) == 0 || merged[len(merged)-1].num != c.num {
				merged = append(merged, c)
			}
			remap[c.id] = len(merged) - 1
		}
		labels = make([]string, len(merged))
		for i, c := range merged {
			labels[i] = strconv.Itoa(c.num)
		}
		return labels, remap
	}
	slices.SortFunc(cs, func(a, b class) int { return strings.Compare(a.name, b.name) })
	labels = make([]string, len(cs))
	remap = make([]int, len(cs))
	for i, c := range cs {
		labels[i] = c.name
		remap[c.id] = i
	}
	return labels, remap
}

// WriteCSV writes d as CSV that ReadCSV reads back: a header "f1,...,fD"
// followed by ",label" when d is labelled, then one row per example with
// features in the shortest form that round-trips float32 and the label as
// its class name. Read it back with CSVOptions{Labels: d.Labels,
// Header: HeaderPresent} to get the same classes (and Hash).
func WriteCSV(w io.Writer, d *Dataset) error {
	cw := csv.NewWriter(w)
	n := d.Dim()
	if d.Y != nil {
		n++
	}
	rec := make([]string, n)
	for j := 0; j < d.Dim(); j++ {
		rec[j] = "f" + strconv.Itoa(j+1)
	}
	if d.Y != nil {
		rec[n-1] = "label"
	}
	if err := cw.Write(rec); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for i := 0; i < d.Len(); i++ {
		for j, v := range d.Row(i) {
			rec[j] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		if d.Y != nil {
			rec[n-1] = d.Labels[d.Y[i]]
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// maxCSVValues is MaxValues, lowered by tests.
var maxCSVValues = MaxValues

// maxCSVRecord bounds the bytes of one CSV record, lowered by tests.
// encoding/csv holds a whole record in memory before lineage can count
// its values: a 300 MB file of one line took 1.5 GB, and a small gzipped
// file can hold a line of any length. 64 MiB is thousands of times
// Fashion-MNIST's rows.
var maxCSVRecord int64 = 64 << 20

// errRecordTooLong is recordLimiter's error once a record passes its bound.
var errRecordTooLong = errors.New("csv record too long")

// recordLimiter reads from r and fails with errRecordTooLong once more
// than max bytes were read since n was last set to 0 (after each record;
// the csv reader's read-ahead, a few KiB, counts towards the next one).
type recordLimiter struct {
	r      io.Reader
	n, max int64
}

func (l *recordLimiter) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, errRecordTooLong
	}
	if rem := l.max + 1 - l.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	k, err := l.r.Read(p)
	l.n += int64(k)
	return k, err
}
