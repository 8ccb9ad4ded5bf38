package visible

import (
	"fmt"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		in          string
		keepNewline bool
		want        string
	}{
		{"plain é 漢字", false, "plain é 漢字"},
		{"a\nb", false, `a\nb`},
		{"a\nb", true, "a\nb"},
		{"red\x1b[31m\ttab", true, `red\x1b[31m\ttab`},
		{"rtl\u202eevil", false, `rtl\u202eevil`},
		{"zero\u200bwidth\u2028line", true, `zero\u200bwidth\u2028line`},
		{"/d\xff/m.sh", false, `/d\xff/m.sh`},
		{"caf\xe9 \xc3\xa9t\xc3\xa9\n\xf0\x9f", true, "caf\\xe9 été\n\\xf0\\x9f"},
		{"\ufffd real", false, "\ufffd real"},
		{"\ufffd real\x1b", false, "\ufffd real\\x1b"},
		{"para\u2029graph", false, `para\u2029graph`},
		{"del\x7f csi\u009b", false, `del\x7f csi\u009b`},
	}
	for _, tt := range tests {
		if got := String(tt.in, tt.keepNewline); got != tt.want {
			t.Errorf("String(%q, %v) = %q, want %q", tt.in, tt.keepNewline, got, tt.want)
		}
	}
}

func ExampleString() {
	fmt.Println(String("model\x1b[2K\nlineage: fake", false))
	// Output: model\x1b[2K\nlineage: fake
}
