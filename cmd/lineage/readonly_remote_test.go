package main

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestReadOnlyStoreRemote: a remote model (or distill's remote teacher)
// whose answers would be journalled in a store that cannot be written is
// asked nothing, not even its metadata (probe and distill read GET
// /v2/models/NAME and GET /v2 before they refused the store), and the command fails in one line saying the store
// is read-only. The file is seen as unwritable through openForWrite,
// which here fails as chattr +i does (EPERM), so that the test runs as
// root too, whom permissions do not stop.
func TestReadOnlyStoreRemote(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	before := fileSum(t, path)
	var (
		mu    sync.Mutex
		asked []string
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path)
		mu.Unlock()
		http.NotFound(w, r)
	}))
	defer ts.Close()
	saved := openForWrite
	openForWrite = func(name string) (*os.File, error) {
		if name == path {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EPERM}
		}
		return saved(name)
	}
	defer func() { openForWrite = saved }()
	ref := ts.URL + "/v2/models/m"
	want := `database "` + path + `": store is read-only: it cannot be opened for writing (operation not permitted)`
	for _, args := range [][]string{
		{"probe", ref, "--suite", "acme"},
		{"reference", "add", "indep", "--model", ref, "--for", "acme"},
		{"audit", ref, "--save"},
		{"distill", "--teacher", ref, "--data", "digits", "--hidden", "8", "--epochs", "1", "--out", filepath.Join(t.TempDir(), "s.lnm")},
	} {
		mu.Lock()
		asked = nil
		mu.Unlock()
		_, stderr, code := runCLI(t, append([]string{"--db", path}, args...)...)
		if code != exitError || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line saying %q", args, code, stderr, exitError, want)
		}
		mu.Lock()
		if len(asked) > 0 {
			t.Errorf("%v: the model was asked %q before the store was refused; want nothing", args, asked)
		}
		mu.Unlock()
	}
	if fileSum(t, path) != before {
		t.Error("the database changed")
	}
}
