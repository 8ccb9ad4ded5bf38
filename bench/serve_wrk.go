package bench

// This file runs wrk for the serve benchmark (serve.go).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// wrkRunner runs wrk against one URL with a Lua script posting a body.
type wrkRunner struct {
	path, url, dir, script, version string
}

const wrkScript = `local f = assert(io.open(%q, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
`

func newWrkRunner(ctx context.Context, path, url string, body []byte, headers map[string]string) (*wrkRunner, error) {
	dir, err := os.MkdirTemp("", "lineage-bench-wrk-")
	if err != nil {
		return nil, fmt.Errorf("wrk: %w", err)
	}
	w := &wrkRunner{path: path, url: url, dir: dir, script: filepath.Join(dir, "post.lua")}
	bodyPath := filepath.Join(dir, "body.json")
	if err := os.WriteFile(bodyPath, body, 0o600); err != nil {
		w.close()
		return nil, fmt.Errorf("wrk: %w", err)
	}
	script := fmt.Appendf(nil, wrkScript, bodyPath)
	keys := slices.Sorted(maps.Keys(headers))
	for _, k := range keys {
		script = fmt.Appendf(script, "wrk.headers[%q] = %q\n", k, headers[k])
	}
	if err := os.WriteFile(w.script, script, 0o600); err != nil {
		w.close()
		return nil, fmt.Errorf("wrk: %w", err)
	}
	// wrk -v prints its version and exits with status 1.
	v, _ := exec.CommandContext(ctx, path, "-v").CombinedOutput()
	w.version, _, _ = strings.Cut(strings.TrimSpace(string(v)), "\n")
	if !strings.HasPrefix(w.version, "wrk") {
		w.close()
		return nil, fmt.Errorf("wrk: %s -v printed %q, not a wrk version", path, w.version)
	}
	return w, nil
}

func (w *wrkRunner) close() { os.RemoveAll(w.dir) }

// run runs wrk with one thread and c connections for d rounded up to whole
// seconds and returns its requests per second. Non-2xx answers or socket
// errors are an error.
func (w *wrkRunner) run(ctx context.Context, c int, d time.Duration) (float64, error) {
	secs := max(1, int(math.Ceil(d.Seconds())))
	out, err := exec.CommandContext(ctx, w.path, "-t1", "-c"+strconv.Itoa(c), "-d"+strconv.Itoa(secs)+"s",
		"-s", w.script, w.url).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
	}
	return parseWrk(out)
}

// parseWrk reads "Requests/sec: N" from wrk's output, failing when wrk
// reports non-2xx answers or socket errors.
func parseWrk(out []byte) (float64, error) {
	rate := -1.0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "Non-2xx"), strings.HasPrefix(line, "Socket errors"):
			return 0, fmt.Errorf("wrk reported %q", line)
		case strings.HasPrefix(line, "Requests/sec:"):
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, "Requests/sec:")), 64)
			if err != nil {
				return 0, fmt.Errorf("wrk output %q: %w", line, err)
			}
			rate = v
		}
	}
	if rate < 0 {
		return 0, fmt.Errorf("no Requests/sec line in wrk output %q", out)
	}
	return rate, nil
}
