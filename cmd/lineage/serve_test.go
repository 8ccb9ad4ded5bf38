package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
)

// syncBuffer is a goroutine-safe bytes.Buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestServeCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.lnm")
	m := model.NewMLP([]int{3, 2}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	if err := model.Save(path, m); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_SERVE_KEY", "k-123")
	pr, pw := io.Pipe()
	var stderr syncBuffer
	cmd := newServeCommand()
	cmd.SetArgs([]string{path, "--addr", "127.0.0.1:0", "--require-key-env", "TEST_SERVE_KEY", "--reveal", "label"})
	cmd.SetOut(pw)
	cmd.SetErr(&stderr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the first line: %v (stderr %s)", err, stderr.String())
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || strings.HasSuffix(base, ":0") {
		t.Fatalf("first line %q, want \"listening on http://127.0.0.1:PORT\"", line)
	}
	body := `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,3],"data":[1,2,3]}]}`
	for _, tt := range []struct {
		key  string
		want int
	}{{"", 401}, {"k-123", 200}} {
		req, _ := http.NewRequest("POST", base+"/v2/models/tiny/infer", strings.NewReader(body))
		if tt.key != "" {
			req.Header.Set("Authorization", "Bearer "+tt.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("key %q: status %d, want %d", tt.key, resp.StatusCode, tt.want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v after cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop after cancel")
	}
	if log := stderr.String(); !strings.Contains(log, `"status":401`) || strings.Contains(log, "k-123") {
		t.Errorf("stderr should log the 401 and never the key:\n%s", log)
	}
}

func TestServeCommandErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{}, "serve: want MODEL, got 0 arguments (see serve --help)", exitUsage},
		{[]string{"x.lnm", "--require-key-env", "SURELY_UNSET_VAR_123"}, "SURELY_UNSET_VAR_123", exitUsage},
		{[]string{"x.lnm", "--reveal", "some"}, "--reveal", exitUsage},
		{[]string{"x.lnm", "--temperature", "0"}, "--temperature", exitUsage},
		{[]string{"x.lnm", "--temperature", "-1"}, "--temperature -1: want a finite number of at least 0.001", exitUsage},
		{[]string{"x.lnm", "--temperature", "Inf"}, "--temperature +Inf: want a finite number of at least 0.001", exitUsage},
		// 1e-320 was accepted and every answer one-hot.
		{[]string{"x.lnm", "--temperature", "1e-320"}, "--temperature 1e-320: want a finite number of at least 0.001", exitUsage},
		{[]string{"x.lnm", "--max-batch", "0"}, "--max-batch 0: want at least 1", exitUsage},
		{[]string{"x.lnm", "--rate-limit", "-5"}, "--rate-limit -5: want a finite number of requests per second ≥ 0 (0: unlimited)", exitUsage},
		{[]string{"x.lnm", "--rate-limit", "NaN"}, "--rate-limit NaN: want a finite number of requests per second ≥ 0 (0: unlimited)", exitUsage},
		{[]string{"x.lnm", "--rate-limit", "Inf"}, "--rate-limit +Inf: want a finite number of requests per second ≥ 0 (0: unlimited)", exitUsage},
		{[]string{"missing.lnm", "--addr", "127.0.0.1:0"}, "missing.lnm", exitError},
		{[]string{"x.lnm", "--addr", "127.0.0.1:99999"}, `--addr "127.0.0.1:99999": port 99999 is not in 0–65535`, exitUsage},
		{[]string{"x.lnm", "--addr", "localhost"}, `--addr "localhost": want host:port`, exitUsage},
		{[]string{"x.lnm", "--addr", "127.0.0.1:-1"}, `--addr "127.0.0.1:-1": port -1 is not in 0–65535`, exitUsage},
		{[]string{"http://user:pw@host:8080/v2/models/m"}, `serve needs the model's weights: "http://host:8080/v2/models/m" is an HTTP endpoint, not a model file; pass its .lnm or .safetensors file`, exitError},
		{[]string{"exec:python3 m.py"}, `serve needs the model's weights: "exec:python3 m.py" is an exec: program, not a model file`, exitError},
		{[]string{"x.lnm", "--name", "a/b"}, `--name: model name "a/b": want ASCII letters, digits, '_', '.' or '-'`, exitUsage},
		// Accepted, and no request reached the model: clients send
		// /v2/models/../infer as /v2/infer.
		{[]string{"x.lnm", "--name", ".."}, `--name: model name "..": a URL reads it as a step of the path (clients send /v2/models/../infer as /v2/infer)`, exitUsage},
		{[]string{"x.lnm", "--name", "."}, `--name: model name ".": a URL reads it as a step of the path (clients send /v2/models/./infer as /v2/models/infer)`, exitUsage},
		{[]string{"missing.lnm", "--name", "../x"}, `--name: model name "../x"`, exitUsage},
		{[]string{"x.lnm", "--watermark", "maybe"}, "--watermark", exitUsage},
		{[]string{"x.lnm", "--reveal", "label", "--watermark-epsilon", "-1"}, "--watermark-epsilon -1: want a positive number", exitUsage},
		{[]string{"x.lnm", "--reveal", "label", "--watermark-key-env", "SURELY_UNSET_VAR_123"}, "SURELY_UNSET_VAR_123", exitUsage},
		{[]string{"x.lnm", "--reveal", "label", "--watermark-key-env", "LINEAGE_TEST_BAD_MARK_KEY"}, "bad watermark key", exitUsage},
		// Accepted and ignored: the server marked no label.
		{[]string{"x.lnm", "--watermark-epsilon", "2"}, "--watermark-epsilon has no effect with --reveal full: the watermark marks labels only (--reveal label)", exitUsage},
		{[]string{"x.lnm", "--reveal", "topk:2", "--watermark-key-env", "LINEAGE_TEST_MARK_KEY"}, "--watermark-key-env has no effect with --reveal topk:2", exitUsage},
		{[]string{"x.lnm", "--reveal", "label", "--watermark", "off", "--watermark-epsilon", "0.5"}, "--watermark-epsilon has no effect with --watermark off", exitUsage},
		// --watermark itself was accepted and ignored without label reveal.
		{[]string{"x.lnm", "--watermark", "off"}, "--watermark has no effect with --reveal full: the watermark marks labels only (--reveal label)", exitUsage},
		{[]string{"x.lnm", "--reveal", "topk:2", "--watermark", "auto"}, "--watermark has no effect with --reveal topk:2", exitUsage},
		// Named first: it said the variable was not set, and once it was,
		// that it had no effect.
		{[]string{"x.lnm", "--reveal", "label", "--watermark", "off", "--watermark-key-env", "SURELY_UNSET_VAR_123"}, "--watermark-key-env has no effect with --watermark off", exitUsage},
		// Every request was refused (401): no client can send such a key.
		{[]string{"x.lnm", "--require-key-env", "LINEAGE_TEST_SPACED_KEY"}, "--require-key-env LINEAGE_TEST_SPACED_KEY: the API key starts or ends with white space, which HTTP drops from a header's value", exitUsage},
	}
	t.Setenv("LINEAGE_TEST_BAD_MARK_KEY", "not-hex-and-secret")
	t.Setenv("LINEAGE_TEST_MARK_KEY", strings.Repeat("ab", 32))
	t.Setenv("LINEAGE_TEST_SPACED_KEY", "not-hex-and-secret ")
	for _, tt := range tests {
		cmd := newServeCommand()
		cmd.SetArgs(tt.args)
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve %v: error %v, want one mentioning %q", tt.args, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "not-hex-and-secret") {
			t.Errorf("serve %v: error %q shows the key", tt.args, err)
		}
		if got := codeOf(err); got != tt.code {
			t.Errorf("serve %v: exit status %d, want %d", tt.args, got, tt.code)
		}
	}
}

// TestServeRevealAll: --reveal topk:K with K at least the model's number
// of labels reveals every probability; it was accepted silently.
func TestServeRevealAll(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.lnm")
	if err := model.Save(p, model.NewMLP([]int{4, 3, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"topk:3", "topk:20"} {
		cmd := newServeCommand()
		cmd.SetArgs([]string{p, "--reveal", k, "--addr", "127.0.0.1:0"})
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.Execute()
		if want := "--reveal " + k + " keeps every one of the model's 3 labels"; err == nil || !strings.Contains(err.Error(), want) || codeOf(err) != exitUsage {
			t.Errorf("serve --reveal %s: %v (exit %d), want a usage error containing %q", k, err, codeOf(err), want)
		}
	}
}
