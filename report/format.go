package report

import (
	"errors"
	"fmt"
	"strings"
)

// Format names a text output format for [Render], [RenderAll] and [RenderKV].
// The zero value is not a valid format; use [ParseFormat] or the constants.
// *Format implements the pflag.Value interface (Set, String, Type), so a CLI
// can bind it directly to a flag.
type Format string

// The text formats. Every format writes numbers from [Cell] values; table and
// markdown use each cell's display precision, CSV and JSON full precision.
// Table and markdown, read by people, show control characters other than
// the line feed and invisible ones (bidirectional overrides, zero-width
// characters) as Go escapes (\x1b, \u202e); CSV and JSON keep text as it
// is (JSON escapes control characters).
const (
	// FormatTable is a plain-ASCII grid (tablewriter, never coloured) for
	// terminals: the title on its own line above, each note as a "- note"
	// line below, numeric columns right-aligned.
	FormatTable Format = "table"
	// FormatMarkdown is a GitHub pipe table with an alignment row, preceded
	// by the title as a "### " heading and followed by the notes as a list.
	// Markup characters in the title, the cells and the notes are escaped,
	// so a name such as a|b*c shows as itself.
	FormatMarkdown Format = "markdown"
	// FormatCSV is a header row ("Name (Unit)") and the data rows written by
	// encoding/csv; empty cells are empty fields, NaN and ±Inf are written
	// as NaN, +Inf, -Inf (strconv.ParseFloat reads them back).
	FormatCSV Format = "csv"
	// FormatJSON is an indented object {"title", "columns": [{"name",
	// "unit"}], "rows": [{name: value, ...}], "notes"} with row keys in
	// column order, numbers as JSON numbers, and empty, NaN and ±Inf cells
	// as null.
	FormatJSON Format = "json"
)

// ErrUnknownFormat is wrapped by the errors of [ParseFormat] and
// [ParseImageFormat] and returned (wrapped) when rendering with a format that
// is not one of the constants.
var ErrUnknownFormat = errors.New("unknown format")

// Formats returns the valid text formats in the order they are documented.
func Formats() []Format {
	return []Format{FormatTable, FormatMarkdown, FormatCSV, FormatJSON}
}

// ParseFormat returns the format named by s (case-insensitive, surrounding
// space ignored; "md" is accepted for markdown). The error for an unknown name
// lists the valid formats and wraps [ErrUnknownFormat].
func ParseFormat(s string) (Format, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if n == "md" {
		return FormatMarkdown, nil
	}
	for _, f := range Formats() {
		if n == string(f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w %q (want %s)", ErrUnknownFormat, s, joinNames(Formats()))
}

// String returns the format's name.
func (f Format) String() string { return string(f) }

// Set parses s into f (pflag.Value).
func (f *Format) Set(s string) error {
	v, err := ParseFormat(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Type returns "format" (pflag.Value).
func (f *Format) Type() string { return "format" }

func (f Format) valid() bool {
	switch f {
	case FormatTable, FormatMarkdown, FormatCSV, FormatJSON:
		return true
	}
	return false
}

func (f Format) check() error {
	if f.valid() {
		return nil
	}
	return fmt.Errorf("report: %w %q (valid: %s)", ErrUnknownFormat, string(f), joinNames(Formats()))
}

// ImageFormat names a figure file format for [WriteFigure].
type ImageFormat string

// The image formats.
const (
	ImagePNG ImageFormat = "png"
	ImageSVG ImageFormat = "svg"
)

// ImageFormats returns the valid image formats.
func ImageFormats() []ImageFormat { return []ImageFormat{ImagePNG, ImageSVG} }

// ParseImageFormat returns the image format named by s (case-insensitive, a
// leading dot allowed so a file extension can be passed). The error for an
// unknown name lists the valid ones and wraps [ErrUnknownFormat].
func ParseImageFormat(s string) (ImageFormat, error) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), ".")
	for _, f := range ImageFormats() {
		if n == string(f) {
			return f, nil
		}
	}
	return "", fmt.Errorf("report: %w %q for a figure (valid: %s)", ErrUnknownFormat, s, joinNames(ImageFormats()))
}

func joinNames[T ~string](names []T) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}
