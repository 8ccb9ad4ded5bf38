package model

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// OpenFunc opens the model named by ref.
type OpenFunc func(ref string) (Model, error)

// ErrUnknownRef is wrapped by the error Open returns for a reference it
// does not know how to open.
var ErrUnknownRef = errors.New("unknown model reference")

// Resolver opens model references. A reference "scheme://rest" whose
// scheme is a key of Schemes is opened by that function (for example
// package remote registers "oip" and "exec" this way); any other reference
// is a file path opened by its extension: ".lnm" (Load), ".safetensors"
// (LoadSafetensors), or a key of Formats (extension with the dot, lower
// case), which takes precedence. A "file://" prefix is stripped. The zero
// Resolver opens .lnm and .safetensors files.
type Resolver struct {
	Schemes map[string]OpenFunc
	Formats map[string]OpenFunc
}

// Open opens the model named by ref (see Resolver).
func (r Resolver) Open(ref string) (Model, error) {
	if scheme, _, ok := strings.Cut(ref, "://"); ok && scheme != "file" && !strings.ContainsAny(scheme, `/\.`) {
		if f := r.Schemes[scheme]; f != nil {
			return f(ref)
		}
		return nil, fmt.Errorf("open model %q: no opener for scheme %q: %w", ref, scheme, ErrUnknownRef)
	}
	path := strings.TrimPrefix(ref, "file://")
	ext := strings.ToLower(filepath.Ext(path))
	if f := r.Formats[ext]; f != nil {
		return f(path)
	}
	switch ext {
	case ".lnm":
		return Load(path)
	case ".safetensors":
		return LoadSafetensors(path)
	}
	return nil, fmt.Errorf("open model %q: unknown format %q (want a .lnm or .safetensors file): %w", ref, ext, ErrUnknownRef)
}

// Open opens a model file by its extension: ".lnm" or ".safetensors". It
// is Resolver{}.Open; use a Resolver with Schemes to open remote models.
func Open(ref string) (Model, error) { return Resolver{}.Open(ref) }
