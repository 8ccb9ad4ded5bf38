package remote

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func float32FromBits(b uint32) float32 { return math.Float32frombits(b) }

func TestParseRef(t *testing.T) {
	tests := []struct {
		ref  string
		want string // kind and fields, or "error: substring"
	}{
		{"student.lnm", "file student.lnm"},
		{"file:///tmp/a.safetensors", "file /tmp/a.safetensors"},
		{"http://h:8080/v2/models/digits", "http http://h:8080/v2/models/digits digits  "},
		{"HTTP://h:8080/v2/models/digits", "http http://h:8080/v2/models/digits digits  "},
		{"https://u:p@h/api/v2/models/m/versions/3/?x=1", "http https://h/api/v2/models/m/versions/3 m 3 u"},
		{"http://h:8080/", "error: /v2/models/NAME"},
		{"http://h/v2/models/m/infer", "error: /v2/models/NAME"},
		{"ftp://h/x", "error: unsupported scheme"},
		{`exec:/usr/bin/python3 "my model.py" --k 'a b' x\ y`, "exec [/usr/bin/python3 my model.py --k a b x y]"},
		// A path that is not UTF-8 is the file's: it was read rune by
		// rune, each such byte turned into U+FFFD ("cannot open …dir�/m.sh").
		{"exec:/bin/sh /d\xff/m.sh 'caf\xe9' \xc3\xa9t\xc3\xa9", "exec [/bin/sh /d\xff/m.sh caf\xe9 \xc3\xa9t\xc3\xa9]"},
		{"exec:", "error: no command"},
		{`exec:python "unterminated`, "error: unterminated"},
		{"", "error: empty"},
	}
	for _, tt := range tests {
		r, err := ParseRef(tt.ref)
		var got string
		switch {
		case err != nil:
			got = "error: " + err.Error()
			if strings.Contains(got, strings.TrimPrefix(tt.want, "error: ")) && strings.HasPrefix(tt.want, "error: ") {
				continue
			}
		case r.Kind == RefFile:
			got = "file " + r.Path
		case r.Kind == RefHTTP:
			got = fmt.Sprintf("http %s %s %s %s", r.Base, r.Model, r.Version, r.User)
		case r.Kind == RefExec:
			got = fmt.Sprintf("exec %v", r.Argv)
		}
		if got != tt.want {
			t.Errorf("ParseRef(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

func TestStripCredentials(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://user:pass@h:1/v2/models/m", "http://h:1/v2/models/m"},
		{"https://h/v2/models/m?api_key=abc&x=1", "https://h/v2/models/m?api_key=REDACTED&x=1"},
		{"model.lnm", "model.lnm"},
		{"exec:python m.py", "exec:python m.py"},
	}
	for _, tt := range tests {
		if got := StripCredentials(tt.in); got != tt.want {
			t.Errorf("StripCredentials(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func ExampleParseRef() {
	for _, ref := range []string{"teacher.lnm", "https://bob:hunter2@api.example/v2/models/clf", "exec:python3 model.py --fast"} {
		r, _ := ParseRef(ref)
		fmt.Println(r.Kind, StripCredentials(ref), r.Argv)
	}
	// Output:
	// file teacher.lnm []
	// http https://api.example/v2/models/clf []
	// exec exec:python3 model.py --fast [python3 model.py --fast]
}
