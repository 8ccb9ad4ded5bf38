package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in   string
		want Format
		ok   bool
	}{
		{"table", FormatTable, true},
		{" Markdown ", FormatMarkdown, true},
		{"md", FormatMarkdown, true},
		{"CSV", FormatCSV, true},
		{"json", FormatJSON, true},
		{"", "", false},
		{"yaml", "", false},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("ParseFormat(%q) error %v does not wrap ErrUnknownFormat", tt.in, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "table, markdown, csv, json") {
				t.Errorf("ParseFormat(%q) error %q does not list the valid formats", tt.in, msg)
			}
		}
	}
	var f Format
	if err := f.Set("json"); err != nil || f != FormatJSON || f.Type() != "format" {
		t.Errorf("Set(json): f=%q err=%v", f, err)
	}
	if err := Render(&bytes.Buffer{}, Table{}, Format("xml")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Render with bad format: err = %v, want ErrUnknownFormat", err)
	}
}

func TestParseImageFormat(t *testing.T) {
	for in, want := range map[string]ImageFormat{"png": ImagePNG, ".SVG": ImageSVG, "pdf": "", "": ""} {
		got, err := ParseImageFormat(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ParseImageFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
