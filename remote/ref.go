package remote

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// RefKind says what a model reference names.
type RefKind int

// The kinds of reference ParseRef recognises.
const (
	RefFile RefKind = iota // a model file (.lnm, .safetensors)
	RefHTTP                // an Open Inference Protocol endpoint http(s)://HOST/v2/models/NAME
	RefExec                // a program speaking the exec protocol: "exec:COMMAND ARGS…"
)

// String returns "file", "http" or "exec".
func (k RefKind) String() string {
	switch k {
	case RefFile:
		return "file"
	case RefHTTP:
		return "http"
	case RefExec:
		return "exec"
	}
	return fmt.Sprintf("RefKind(%d)", int(k))
}

// ErrBadRef is wrapped by ParseRef's errors.
var ErrBadRef = errors.New("bad model reference")

// Ref is a parsed model reference.
type Ref struct {
	Kind RefKind
	// Path is the file path (RefFile).
	Path string
	// Base is the model's endpoint URL without user info, query or trailing
	// slash, e.g. "http://host:8080/v2/models/NAME" (RefHTTP); Model is
	// NAME and Version the version segment, if any.
	Base, Model, Version string
	// User and Password come from the URL's user info (RefHTTP); they are
	// sent as HTTP basic authentication when no API key is given.
	User, Password string
	// Argv is the program and its arguments (RefExec).
	Argv []string
}

// ParseRef decides what ref names: "exec:COMMAND ARGS…" (arguments split
// on blanks, single or double quotes group), an http:// or https:// URL of
// the form …/v2/models/NAME[/versions/V], or else a file path (a file://
// prefix is stripped).
func ParseRef(ref string) (Ref, error) {
	switch {
	case strings.HasPrefix(ref, "exec:"):
		argv, err := splitArgs(strings.TrimPrefix(ref, "exec:"))
		if err != nil {
			return Ref{}, fmt.Errorf("%w %q: %w", ErrBadRef, ref, err)
		}
		if len(argv) == 0 {
			return Ref{}, fmt.Errorf("%w %q: no command after the exec: prefix", ErrBadRef, ref)
		}
		return Ref{Kind: RefExec, Argv: argv}, nil
	case hasPrefixFold(ref, "http://") || hasPrefixFold(ref, "https://"):
		// Schemes are case-insensitive (RFC 3986); url.Parse lowers them.
		return parseHTTP(ref)
	case strings.Contains(ref, "://") && !strings.HasPrefix(ref, "file://"):
		scheme, _, _ := strings.Cut(ref, "://")
		return Ref{}, fmt.Errorf("%w %q: unsupported scheme %q (want http, https, exec: or a file)", ErrBadRef, StripCredentials(ref), scheme)
	}
	path := strings.TrimPrefix(ref, "file://")
	if path == "" {
		return Ref{}, fmt.Errorf("%w: empty reference", ErrBadRef)
	}
	return Ref{Kind: RefFile, Path: path}, nil
}

// hasPrefixFold reports whether s starts with prefix, ignoring case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func parseHTTP(ref string) (Ref, error) {
	u, err := url.Parse(ref)
	if err != nil {
		return Ref{}, fmt.Errorf("%w %q: not a URL", ErrBadRef, StripCredentials(ref))
	}
	r := Ref{Kind: RefHTTP}
	if u.User != nil {
		r.User = u.User.Username()
		r.Password, _ = u.User.Password()
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	path := strings.TrimSuffix(u.Path, "/")
	before, rest, ok := strings.Cut(path, "/v2/models/")
	_ = before
	if !ok || rest == "" {
		return Ref{}, fmt.Errorf("%w %q: want a URL ending in /v2/models/NAME", ErrBadRef, u.String())
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 1:
	case len(parts) == 3 && parts[1] == "versions" && parts[2] != "":
		r.Version = parts[2]
	default:
		return Ref{}, fmt.Errorf("%w %q: want a URL ending in /v2/models/NAME[/versions/V]", ErrBadRef, u.String())
	}
	r.Model = parts[0]
	u.Path, u.RawPath = path, ""
	r.Base = u.String()
	return r, nil
}

// StripCredentials returns s with any user info (user:password@) removed
// from URLs in it and query parameters that look like credentials (key,
// token, api_key, …) blanked; other strings are returned unchanged.
func StripCredentials(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		// Not a parsable URL: drop anything between "://" and an "@".
		if scheme, rest, ok := strings.Cut(s, "://"); ok {
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				if slash := strings.IndexByte(rest, '/'); slash < 0 || at < slash {
					return scheme + "://" + rest[at+1:]
				}
			}
		}
		return s
	}
	u.User = nil
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			switch strings.ToLower(k) {
			case "key", "apikey", "api_key", "api-key", "token", "access_token", "password", "secret", "sig", "signature":
				q.Set(k, "REDACTED")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// splitArgs splits s on blanks; single or double quotes group words and a
// backslash escapes the next character outside single quotes.
func splitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inWord := false
	var quote byte
	escaped := false
	// Byte by byte: every byte the syntax reads is ASCII, which no byte of
	// a multi-byte UTF-8 character is, and a path that is not UTF-8 (a
	// file name is any bytes) passes through as it is; ranging over runes
	// turned such a byte into U+FFFD, naming another file.
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			cur.WriteByte(c)
			escaped = false
		case c == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if escaped {
		return nil, errors.New("trailing backslash")
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args, nil
}
