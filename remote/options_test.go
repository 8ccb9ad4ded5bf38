package remote

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"zero", Options{}, ""},
		{"negative retries mean none", Options{MaxRetries: -1}, ""},
		{"batch", Options{BatchSize: -1}, "remote: batch size -1: want 1 to 65536 (0: 64)"},
		{"huge batch", Options{BatchSize: 1 << 20}, "remote: batch size 1048576: want 1 to 65536 (0: 64)"},
		{"concurrency", Options{Concurrency: -5}, "remote: concurrency -5: want 1 to 1024 (0: 4)"},
		{"huge concurrency", Options{Concurrency: 100000000}, "remote: concurrency 100000000: want 1 to 1024 (0: 4)"},
		{"qps negative", Options{QPS: -1}, "remote: qps -1: want a finite number ≥ 0 (0: unlimited)"},
		{"qps NaN", Options{QPS: math.NaN()}, "remote: qps NaN: want a finite number ≥ 0 (0: unlimited)"},
		{"qps Inf", Options{QPS: math.Inf(1)}, "remote: qps +Inf: want a finite number ≥ 0 (0: unlimited)"},
		{"timeout", Options{Timeout: -time.Second}, "remote: timeout -1s: want a positive duration (0: the default)"},
		{"start timeout", Options{StartTimeout: -time.Second}, "remote: start timeout -1s: want a positive duration (0: the default)"},
		{"response bytes", Options{MaxResponseBytes: -1}, "remote: max response bytes -1: want at least 1 (0: 67108864)"},
		{"key with a line break", Options{APIKey: "tk-1\r\nX-Evil: 1"}, "remote: the API key holds a line break or another control character, which an HTTP header cannot carry"},
		{"key with a tab", Options{APIKey: "tk-1\t"}, ""},
	}
	for _, tt := range tests {
		got := ""
		if err := tt.opts.Validate(); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
		if tt.want == "" {
			continue
		}
		// Both openers refuse them before contacting anything.
		for _, ref := range []string{"http://127.0.0.1:1/v2/models/m", "exec:/nonexistent/program"} {
			if _, err := Open(context.Background(), ref, tt.opts); err == nil || err.Error() != tt.want {
				t.Errorf("%s: Open(%s): got %v, want %q", tt.name, ref, err, tt.want)
			}
		}
	}
}
