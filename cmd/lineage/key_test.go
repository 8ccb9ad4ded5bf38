package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAPIKeyNeverStored serves a teacher that requires a key, probes and
// distils through it with the key from the environment, fails once with a
// wrong key, and checks that the key appears in no file the runs wrote, in
// no output and in no error.
func TestAPIKeyNeverStored(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; skipped with -short")
	}
	const key = "sk-test-0123456789abcdef-SECRET"
	dir := t.TempDir()
	useFixture(t, "acme", dir) // teacher.lnm enrolled as acme in case.db

	base, srvLog := startServe(t, dir, []string{"SERVE_KEY=" + key}, "teacher.lnm", "--name", "teacher", "--require-key-env", "SERVE_KEY")
	url := base + "/v2/models/teacher"

	var outputs []string
	run := func(wantOK bool, env string, args ...string) {
		c := lineageCmd(t, dir, args...)
		c.Env = append(c.Env, env)
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		err := c.Run()
		if (err == nil) != wantOK {
			t.Fatalf("lineage %s: err %v, want ok=%v\n%s", strings.Join(args, " "), err, wantOK, out.String())
		}
		outputs = append(outputs, out.String())
	}
	run(true, "CLIENT_KEY="+key, "--db", "case.db", "probe", url, "--suite", "acme", "--name", "r1", "--api-key-env", "CLIENT_KEY")
	run(true, "CLIENT_KEY="+key, "--db", "case.db", "distill", "--teacher", url, "--data", "digits", "--hidden", "8",
		"--transfer", "mixup", "--queries", "300", "--epochs", "2", "--out", "s.lnm", "--api-key-env", "CLIENT_KEY")
	run(true, "CLIENT_KEY="+key, "--db", "case.db", "audit", url, "--api-key-env", "CLIENT_KEY", "--save")
	run(false, "CLIENT_KEY=wrong-"+key[3:], "--db", "case.db", "probe", url, "--suite", "acme", "--name", "r2", "--api-key-env", "CLIENT_KEY")
	run(false, "", "--db", "case.db", "probe", url, "--suite", "acme", "--name", "r3")

	for i, o := range outputs {
		if strings.Contains(o, key) || strings.Contains(o, key[3:]) {
			t.Errorf("run %d printed the key:\n%s", i, o)
		}
	}
	if strings.Contains(srvLog.String(), key) {
		t.Error("the server's access log contains the key")
	}
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && (bytes.Contains(b, []byte(key)) || bytes.Contains(b, []byte(key[3:]))) {
			t.Errorf("%s contains the key", filepath.Base(path))
		}
		return nil
	})
}
