package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/dataset"
	"gonum.org/v1/gonum/blas/blas32"
)

const python = "/usr/bin/python3"

// needPython skips the test unless /usr/bin/python3 can import modules.
func needPython(t *testing.T, modules ...string) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping Python example in -short mode")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("skipping: %s not found", python)
	}
	for _, m := range modules {
		if out, err := exec.Command(python, "-c", "import "+m).CombinedOutput(); err != nil {
			t.Skipf("skipping: %s cannot import %s: %s", python, m, strings.TrimSpace(string(out)))
		}
	}
}

// digitsAccuracy predicts the first n digits and returns the accuracy.
func digitsAccuracy(t *testing.T, m Model, n int) float64 {
	t.Helper()
	d := dataset.Digits()
	x := blas32.General{Rows: n, Cols: d.Dim(), Stride: d.X.Stride, Data: d.X.Data[:n*d.X.Stride]}
	p, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != n || p.Cols != 10 {
		t.Fatalf("got %dx%d, want %dx10", p.Rows, p.Cols, n)
	}
	correct := 0
	for i := range n {
		row := p.Data[i*p.Stride : i*p.Stride+p.Cols]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		if best == d.Y[i] {
			correct++
		}
	}
	return float64(correct) / float64(n)
}

func TestExecExamples(t *testing.T) {
	tests := []struct {
		script  string
		modules []string
		name    string
	}{
		{"sklearn_model.py", []string{"sklearn"}, "sklearn-digits-logreg"},
		{"torch_model.py", []string{"torch", "sklearn"}, "torch-digits-mlp"},
	}
	for _, tt := range tests {
		t.Run(tt.script, func(t *testing.T) {
			t.Parallel()
			needPython(t, tt.modules...)
			ref := "exec:" + python + " " + filepath.Join("..", "examples", "exec", tt.script)
			// The examples train before their hello line: 1-2 s of CPU,
			// over a minute (DefaultStartTimeout) on a loaded machine. The
			// test checks their answers, not how soon they start.
			m, err := Open(context.Background(), ref, Options{BatchSize: 50, StartTimeout: 5 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if info := m.Info(); info.Name != tt.name || info.InputSize != 64 || len(info.Labels) != 10 || info.Source != Identity(ref) {
				t.Errorf("info %+v, want %s with 64 inputs, 10 labels, source %q", info, tt.name, ref)
			}
			if acc := digitsAccuracy(t, m, 200); acc < 0.9 {
				t.Errorf("accuracy %.3f on 200 training digits, want >= 0.9", acc)
			}
			if st := m.Stats(); st.Requests != 4 {
				t.Errorf("stats %+v, want 4 requests of 50", st)
			}
		})
	}
}

func TestOIPServerExample(t *testing.T) {
	t.Parallel()
	needPython(t, "numpy")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("..", "examples", "oip_server.py"), "--port", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the listening line: %v", err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("first line %q, want \"listening on URL\"", line)
	}
	m, err := Open(ctx, base+"/v2/models/digits-softmax", Options{BatchSize: 32, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if info := m.Info(); info.InputSize != 64 || fmt.Sprint(info.Labels) != "[0 1 2 3 4 5 6 7 8 9]" {
		t.Errorf("info %+v, want 64 inputs and labels 0..9 from the output shape", info)
	}
	if acc := digitsAccuracy(t, m, 300); acc < 0.9 {
		t.Errorf("accuracy %.3f, want >= 0.9", acc)
	}
}

func TestExecFailures(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	hello := `{"lineage_exec":1,"name":"sh","input_size":2,"labels":["a","b"]}`
	tests := []struct {
		name    string
		script  string
		openErr string // substring of Open's error, "" when Open succeeds
		predErr string // substring of Predict's error
	}{
		{"exits at once", `echo "boom: no model" >&2; exit 3`, "boom: no model", ""},
		{"several stderr lines", `printf 'first\r\n\n  second\tline\n' >&2; exit 3`, "(last lines of its stderr: first; second line)", ""},
		{"long stderr", `i=0; while [ $i -lt 20 ]; do printf '%01000d\n' $i >&2; i=$((i+1)); done; echo last words >&2; exit 3`, "0019; last words)", ""},
		{"bad hello", `echo '{"lineage_exec":2}'`, "protocol version 2", ""},
		{"long name", `printf '{"lineage_exec":1,"name":"%02000d","input_size":2,"labels":["a","b"]}\n' 0`, "model name is 2000 bytes long, at most 1024 allowed", ""},
		{"long label", `printf '{"lineage_exec":1,"input_size":2,"labels":["a","%02000d"]}\n' 0`, "label 1 is 2000 bytes long", ""},
		{"dies on request", `echo '` + hello + `'; read l; echo "crashed hard" >&2; exit 1`, "", "crashed hard"},
		{"error answer", `echo '` + hello + `'; read l; echo '{"id":1,"error":"cannot do it"}'; read l`, "", "cannot do it"},
		{"error answer on lines", `echo '` + hello + `'; read l; printf '%s\n' '{"id":1,"error":"cannot\n\ndo it\n"}'; read l`, "", "cannot do it"},
		{"wrong id", `echo '` + hello + `'; read l; echo '{"id":9,"probabilities":[[1,0]]}'; read l`, "", "id 9"},
		{"bad sum", `echo '` + hello + `'; read l; echo '{"id":1,"probabilities":[[0.5,0.2]]}'; read l`, "", "answer row 0"},
		{"too many rows", `echo '` + hello + `'; read l; echo '{"id":1,"probabilities":[[1,0],[0,1]]}'; read l`, "", "request 1: answer has 2 rows for a batch of 1"},
		{"row too long", `echo '` + hello + `'; read l; echo '{"id":1,"probabilities":[[0.5,0.25,0.25]]}'; read l`, "", "answer row 0 has 3 values for 2 labels"},
		{"flat", `echo '` + hello + `'; read l; echo '{"id":1,"probabilities":[0.5,0.5]}'; read l`, "", "answer row 0 is not an array of numbers"},
		{"no probabilities", `echo '` + hello + `'; read l; echo '{"id":1}'; read l`, "", "answer has no probabilities"},
		{"hangs", `echo '` + hello + `'; read l; sleep 10`, "", "no answer within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ref := "exec:/bin/sh " + writeScript(t, tt.script)
			opts := Options{Timeout: 300 * time.Millisecond, StartTimeout: 5 * time.Second}
			start := time.Now()
			m, err := Open(context.Background(), ref, opts)
			if tt.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.openErr) || strings.ContainsAny(err.Error(), "\r\n") || len(err.Error()) > 1500 {
					t.Fatalf("Open error %q, want one line of at most 1,500 bytes containing %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			_, err = m.Predict(context.Background(), blas32.General{Rows: 1, Cols: 2, Stride: 2, Data: []float32{1, 2}})
			if err == nil || !strings.Contains(err.Error(), tt.predErr) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("Predict error %q, want one line containing %q", err, tt.predErr)
			}
			if time.Since(start) > 4*time.Second {
				t.Errorf("took %v, want a bounded failure", time.Since(start))
			}
		})
	}
}

func TestExecCloseKillsChild(t *testing.T) {
	hello := `{"lineage_exec":1,"name":"sh","input_size":1,"labels":["a"]}`
	ctx, cancel := context.WithCancel(context.Background())
	m, err := OpenExec(ctx, "exec:/bin/sh "+writeScript(t, "echo '"+hello+"'; trap '' TERM; sleep 30"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	cancel() // kills the child
	select {
	case <-m.done:
	case <-time.After(5 * time.Second):
		t.Fatal("child still running 5 s after ctx cancel")
	}
	m.Close()
	if _, err := m.Predict(context.Background(), blas32.General{Rows: 1, Cols: 1, Stride: 1, Data: []float32{1}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Predict after Close: %v, want ErrClosed", err)
	}
}

// stuckHello is the hello line of the programs that stop reading their
// input: a request of 64 rows of 2,000 inputs is far more than a pipe
// holds.
const stuckHello = `{"lineage_exec":1,"name":"sh","input_size":2000,"labels":["a","b"]}`

// TestExecWriteStuck: a program that stops reading its input fails the
// request at the time limit or when ctx is done, not when the program
// exits, even when a grandchild holds the pipe open; the model is then
// broken.
func TestExecWriteStuck(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	tests := []struct {
		name    string
		script  string
		timeout time.Duration
		ctx     time.Duration // 0 for none
		wantErr string        // substring of Predict's error
		wantIs  error         // or what it wraps
	}{
		{"time limit", "exec sleep 5", 100 * time.Millisecond, 0, "input not taken within 100ms", nil},
		{"time limit, grandchild holds the pipe", "sleep 5", 100 * time.Millisecond, 0, "input not taken within 100ms", nil},
		{"ctx", "exec sleep 5", time.Minute, 100 * time.Millisecond, "", context.DeadlineExceeded},
		{"ctx, grandchild holds the pipe", "sleep 5", time.Minute, 100 * time.Millisecond, "", context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := OpenExec(context.Background(), "exec:/bin/sh "+writeScript(t, "echo '"+stuckHello+"'; "+tt.script), Options{Timeout: tt.timeout})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			_, err = m.Predict(ctx, randomBatch(64, 2000, 1))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || (tt.wantIs != nil && !errors.Is(err, tt.wantIs)) {
				t.Fatalf("Predict error %v, want one containing %q (wrapping %v)", err, tt.wantErr, tt.wantIs)
			}
			// Broken either way: the write that failed is named, or, when
			// the deadline passed before the first request was written (a
			// loaded machine under -race), this request is the one stuck,
			// until the program exits.
			if _, err := m.Predict(context.Background(), randomBatch(1, 2000, 1)); err == nil || !strings.Contains(err.Error(), "writing request") && !strings.Contains(err.Error(), "program exited") {
				t.Errorf("Predict after the failure: %v, want the model broken", err)
			}
		})
	}
}

// TestExecCloseStuck: Close does not wait for a Predict call blocked
// writing to a program that stopped reading; the call fails with
// ErrClosed.
func TestExecCloseStuck(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	m, err := OpenExec(context.Background(), "exec:/bin/sh "+writeScript(t, "echo '"+stuckHello+"'; sleep 5"), Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := m.Predict(context.Background(), randomBatch(64, 2000, 1))
		errc <- err
	}()
	for m.Stats().Requests == 0 { // the request is being written
		time.Sleep(time.Millisecond)
	}
	m.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Predict in flight at Close: %v, want ErrClosed", err)
	}
}

// TestExecCancelledBeforeSending: a Predict call whose ctx is done before
// a request is sent fails without breaking the model.
func TestExecCancelledBeforeSending(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	hello := `{"lineage_exec":1,"name":"sh","input_size":2,"labels":["a","b"]}`
	echo := `while read l; do id=${l#*\"id\":}; echo "{\"id\":${id%%,*},\"probabilities\":[[0.5,0.5]]}"; done`
	m, err := OpenExec(context.Background(), "exec:/bin/sh "+writeScript(t, "echo '"+hello+"'; "+echo), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x := blas32.General{Rows: 1, Cols: 2, Stride: 2, Data: []float32{1, 2}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Predict(ctx, x); !errors.Is(err, context.Canceled) {
		t.Errorf("Predict with a cancelled ctx: %v, want context.Canceled", err)
	}
	if got := m.Stats().Requests; got != 0 {
		t.Errorf("%d requests sent with a cancelled ctx, want 0", got)
	}
	p, err := m.Predict(context.Background(), x)
	if err != nil || p.Data[0] != 0.5 {
		t.Errorf("Predict after the cancelled call = %v, %v; want [0.5 0.5]", p.Data, err)
	}
}

// TestExecAnswerMoreRows: a program answering more rows than the batch
// has (here 11 for every batch of 10) fails Predict with an error naming
// the program and the counts, without breaking the model: its next request
// is answered (and fails the same way).
func TestExecAnswerMoreRows(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	hello := `{"lineage_exec":1,"name":"eleven","input_size":2,"labels":["a","b"]}`
	rows := strings.TrimSuffix(strings.Repeat("[0.5,0.5],", 11), ",")
	eleven := `while read l; do id=${l#*\"id\":}; echo "{\"id\":${id%%,*},\"probabilities\":[` + rows + `]}"; done`
	script := writeScript(t, "echo '"+hello+"'; "+eleven)
	m, err := OpenExec(context.Background(), "exec:/bin/sh "+script, Options{BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range 2 {
		_, err := m.Predict(context.Background(), randomBatch(20, 2, 1))
		want := fmt.Sprintf("exec sh %s: request %d: answer has 11 rows for a batch of 10", script, i+1)
		if err == nil || err.Error() != want {
			t.Fatalf("Predict %d: error %v, want %q", i+1, err, want)
		}
	}
}

// TestParseProbabilities checks the exec answer parser on answers of every
// shape: only n rows of k numbers are accepted, and nothing is ever
// written past the n×k values given (guard values follow them).
func TestParseProbabilities(t *testing.T) {
	tests := []struct {
		data    string
		n, k    int
		want    []float32 // nil for an error
		wantErr string
	}{
		{`[[0.25,0.75],[1,0]]`, 2, 2, []float32{0.25, 0.75, 1, 0}, ""},
		{" [ [0.25 , 0.75] ,\t[1,0] ] \n", 2, 2, []float32{0.25, 0.75, 1, 0}, ""},
		{`[[1]]`, 1, 1, []float32{1}, ""},
		{`[[1,0],[0,1],[1,0]]`, 2, 2, nil, "answer has 3 rows for a batch of 2"},
		{`[[1,0]]`, 2, 2, nil, "answer has 1 row for a batch of 2"},
		{`[]`, 1, 2, nil, "answer has 0 rows for a batch of 1"},
		// The values of two rows in one: the old parser flattened the
		// arrays and took this for two rows.
		{`[[0.5,0.5,0.5,0.5]]`, 2, 2, nil, "answer has 1 row for a batch of 2"},
		{`[0.5,0.5]`, 1, 2, nil, "answer row 0 is not an array of numbers"},
		{`[[[0.5,0.5]]]`, 1, 2, nil, "answer row 0 is not an array of numbers"},
		{`[[0.5,0.5],[1,0,0]]`, 2, 2, nil, "answer row 1 has 3 values for 2 labels"},
		{`[[0.5,0.5],[]]`, 2, 2, nil, "answer row 1 has 0 values for 2 labels"},
		{`[[0.5,0.5],[1,"x"]]`, 2, 2, nil, `answer row 1, value 1: "x" is not a number`},
		{`[[0.5,0.5],[1,NaN]]`, 2, 2, nil, "answer row 1, value 1: NaN is not a number"},
		// Finite as a float64, but no float32: not "non-finite".
		{`[[0.5,0.5],[1e308,0]]`, 2, 2, nil, "answer row 1, value 0: 1e308 is out of float32 range"},
		{`[[0.5,0.5]] x`, 1, 2, nil, "trailing data"},
		{`[[0.5,0.5]`, 1, 2, nil, "want ',' or ']' after row 0"},
		{`[[0.5,0.5`, 1, 2, nil, "answer row 0 is not terminated"},
		{`"[[0.5,0.5]]"`, 1, 2, nil, "not an array of rows"},
		{`null`, 1, 2, nil, "not an array of rows"},
		{``, 1, 2, nil, "answer has no probabilities"},
	}
	const guard = 1234.5
	for _, tt := range tests {
		buf := make([]float32, tt.n*tt.k+8)
		for i := range buf {
			buf[i] = guard
		}
		dst := buf[:tt.n*tt.k] // with room past it, as a batch of a larger answer matrix has
		err := parseProbabilities(dst, []byte(tt.data), tt.n, tt.k)
		for i, v := range buf[tt.n*tt.k:] {
			if v != guard {
				t.Errorf("%q: value %d past the %d×%d answer overwritten with %v", tt.data, tt.n*tt.k+i, tt.n, tt.k, v)
			}
		}
		if tt.want == nil {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q as %d×%d: error %v, want one containing %q", tt.data, tt.n, tt.k, err, tt.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(dst) != fmt.Sprint(tt.want) {
			t.Errorf("%q as %d×%d = %v, %v; want %v", tt.data, tt.n, tt.k, dst, err, tt.want)
		}
	}
}

// writeScript writes a shell script into a temporary directory.
func writeScript(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.sh")
	if err := os.WriteFile(path, []byte(script+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestExecKillsGrandchild checks that stopping an exec: program also stops
// what it started, and so does its own exit: a wrapper script's model
// process used to outlive both a cancelled ctx and Close.
func TestExecKillsGrandchild(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc here")
	}
	for _, stop := range []string{"cancel", "close", "clean exit"} {
		t.Run(stop, func(t *testing.T) {
			if stop == "clean exit" && runtime.GOOS != "linux" {
				t.Skip("what a program leaves when it exits by itself is killed on Linux only")
			}
			hello := `{"lineage_exec":1,"name":"sh","input_size":1,"labels":["a"]}`
			pidFile := filepath.Join(t.TempDir(), "pid")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// "clean exit": the program ends at the end of its input,
			// leaving its helper behind; the others wait for the helper.
			end := "wait"
			if stop == "clean exit" {
				end = "read line; exit 0"
			}
			m, err := OpenExec(ctx, "exec:/bin/sh "+writeScript(t, "sleep 30 > /dev/null & echo $! > "+pidFile+"; echo '"+hello+"'; "+end), Options{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid := strings.TrimSpace(string(b))
			if stop == "cancel" {
				cancel()
			}
			m.Close()
			// Gone, or a zombie waiting for whoever adopted it to reap it.
			deadline := time.Now().Add(10 * time.Second)
			for {
				st, err := os.ReadFile("/proc/" + pid + "/stat")
				if err != nil || strings.Contains(string(st), ") Z ") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the program's child %s still runs after %s: %s", pid, stop, st)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

// TestExecLogits checks Options.Logits on an exec: model answering logits.
func TestExecLogits(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	hello := `{"lineage_exec":1,"name":"logits","input_size":2,"labels":["a","b"]}`
	answer := `while read l; do id=${l#*\"id\":}; echo "{\"id\":${id%%,*},\"probabilities\":[[2,0]]}"; done`
	script := writeScript(t, "echo '"+hello+"'; "+answer)
	for _, logits := range []bool{true, false} {
		m, err := OpenExec(context.Background(), "exec:/bin/sh "+script, Options{BatchSize: 1, Logits: logits})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Predict(context.Background(), randomBatch(1, 2, 1))
		m.Close()
		if !logits {
			if err == nil || !strings.Contains(err.Error(), "probabilities sum to 2") {
				t.Errorf("logits read as probabilities: error %v, want a sum of 2 refused", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		want := float32(1 / (1 + math.Exp(-2)))
		if math.Abs(float64(got.Data[0]-want)) > 1e-6 || math.Abs(float64(got.Data[1]-(1-want))) > 1e-6 {
			t.Errorf("softmax of [2 0]: got %v, want [%v %v]", got.Data[:2], want, 1-want)
		}
	}
}
