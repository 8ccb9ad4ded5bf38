package main

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
)

// servedAs finds the URL in serve's "serving FILE as URL" line.
var servedAs = regexp.MustCompile(`serving .* as (http://\S+)`)

// TestServeDotFileName: a model file named "..lnm" was served as
// /v2/models/. by default, a name clients resolve away (GET
// /v2/models/. is /v2/models/), so no request reached it; it is served
// under the model's own name instead.
func TestServeDotFileName(t *testing.T) {
	for _, file := range []string{"..lnm", "...lnm"} {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), file)
			m := model.NewMLP([]int{3, 2}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
			if err := model.Save(path, m); err != nil {
				t.Fatal(err)
			}
			pr, pw := io.Pipe()
			var stderr syncBuffer
			cmd := newServeCommand()
			cmd.SetArgs([]string{path, "--addr", "127.0.0.1:0"})
			cmd.SetOut(pw)
			cmd.SetErr(&stderr)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- cmd.ExecuteContext(ctx); pw.Close() }()
			defer func() {
				cancel()
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					t.Error("serve did not stop after cancel")
				}
			}()
			if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
				t.Fatalf("reading the first line: %v (stderr %s)", err, stderr.String())
			}
			var url string
			for deadline := time.Now().Add(5 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				if m := servedAs.FindStringSubmatch(stderr.String()); m != nil {
					url = m[1]
				}
			}
			if url == "" {
				t.Fatalf("no \"serving ... as URL\" line on stderr:\n%s", stderr.String())
			}
			if strings.HasSuffix(url, "/.") || strings.HasSuffix(url, "/..") {
				t.Errorf("served as %s: a name clients resolve away", url)
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s: status %d, want 200 (stderr %s)", url, resp.StatusCode, stderr.String())
			}
		})
	}
}
