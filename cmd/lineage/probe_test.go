package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultFingerprintID(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"suspect.lnm", "suspect"},
		{"dir/sub/model.safetensors", "model"},
		{"file://x/y.lnm", "y"},
		{"http://host:8080/v2/models/vendor-m", "vendor-m"},
		{"exec:python3 examples/exec/logreg.py", "logreg"},
		{"exec:python3 model.py --verbose", "model"},
		{"exec:/usr/bin/python3 -u model.py --device cpu", "model"},
		{"exec:/opt/bin/mymodel --fast", "mymodel"},
		{"exec:mymodel", "mymodel"},
	}
	for _, tt := range tests {
		if got := defaultFingerprintID(tt.ref); got != tt.want {
			t.Errorf("defaultFingerprintID(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}

// TestProbeRemoteStored checks that a probe of a remote model settles a
// clash with a stored fingerprint before asking the model anything (its
// answers are paid for): the same command again completes from the stored
// fingerprint, another model or an enrolment's fingerprint under the name
// is refused, and --replace asks again.
func TestProbeRemoteStored(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes
	_, script, answers := flakyScript(t)
	probe := func(ref string, extra ...string) (string, error) {
		var stderr bytes.Buffer
		root := newRootCommand()
		root.SetOut(io.Discard)
		root.SetErr(&stderr)
		root.SetArgs(append([]string{"--db", path, "probe", ref, "--suite", "acme", "--remote-batch", "1"}, extra...))
		err := root.ExecuteContext(context.Background())
		return stderr.String(), err
	}
	ref := "exec:/bin/sh " + script
	tests := []struct {
		name        string
		ref         string
		extra       []string
		wantErr     string // "" for success
		wantStderr  string
		wantAnswers int // new answers the model gave
	}{
		{"first", ref, []string{"--name", "s"}, "", "", 4},
		{"again", ref, []string{"--name", "s"}, "", `fingerprint "s" is already stored`, 0},
		{"another model", ref + " other", []string{"--name", "s"}, `fingerprint "s": already exists (taken from ` + ref + ` on suite`, "", 0},
		{"an enrolment's", ref, []string{"--name", "acme/teacher", "--replace"}, `fingerprint "acme/teacher" is used by enrolment acme`, "", 0},
		{"replace", ref, []string{"--name", "s", "--replace"}, "", "", 4},
	}
	for _, tt := range tests {
		before := answers()
		stderr, err := probe(tt.ref, tt.extra...)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		case !strings.Contains(stderr, tt.wantStderr):
			t.Errorf("%s: stderr %q, want %q", tt.name, stderr, tt.wantStderr)
		}
		if got := answers() - before; got != tt.wantAnswers {
			t.Errorf("%s: the model gave %d answers, want %d", tt.name, got, tt.wantAnswers)
		}
	}
}

// TestProbeLenientWarns checks that --lenient says on stderr how many
// answer rows it repaired (the table's warnings count alone went
// unnoticed), and that without it such answers fail the probe.
func TestProbeLenientWarns(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes
	script := filepath.Join(t.TempDir(), "twice.sh")
	const twice = `echo '{"lineage_exec":1,"name":"twice","input_size":2,"labels":["0","1","2"]}'
while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.4,0.6,1.0]]}"; done`
	if err := os.WriteFile(script, []byte(twice+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "--db", path, "probe", "exec:/bin/sh "+script, "--suite", "acme", "--remote-batch", "1", "--lenient")
	if want := "lineage: --lenient repaired 4 answer rows of exec:/bin/sh " + script; code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("--lenient: exit %d, stderr %q; want 0 and %q", code, stderr, want)
	}
	_, stderr, code = runCLI(t, "--db", path, "probe", "exec:/bin/sh "+script, "--suite", "acme", "--name", "strict", "--remote-batch", "1")
	if want := "probabilities sum to 2"; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("strict: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}
