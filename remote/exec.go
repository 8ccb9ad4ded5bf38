package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"gonum.org/v1/gonum/blas/blas32"
)

// ExecProtocolVersion is the value of "lineage_exec" in the hello line.
const ExecProtocolVersion = 1

// ExecHello is the first line an exec program writes.
type ExecHello struct {
	LineageExec int      `json:"lineage_exec"`
	Name        string   `json:"name"`
	InputSize   int      `json:"input_size"`
	Labels      []string `json:"labels"`
}

// ExecRequest is one request line: a batch of inputs.
type ExecRequest struct {
	ID     int64       `json:"id"`
	Inputs [][]float32 `json:"inputs"`
}

// ExecResponse is one answer line: the distributions, or an error.
type ExecResponse struct {
	ID            int64           `json:"id"`
	Probabilities json.RawMessage `json:"probabilities,omitempty"`
	Error         string          `json:"error,omitempty"`
}

// ExecModel is a model served by a child process over the exec protocol
// (see the package documentation). Requests are serialised; it is safe for
// concurrent use.
type ExecModel struct {
	ref      string
	prog     string // the program's base name: the model's name when its hello gives none
	command  string // the program's base name and arguments, one line, for errors
	opts     Options
	info     model.Info
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	lines    chan lineResult
	stderr   *tailWriter
	stats    counters
	stop     func() bool
	done     chan struct{} // closed when the child has been waited for
	killed   chan struct{} // closed once the child has been killed
	quit     chan struct{} // closed by Close
	killOnce sync.Once
	waitErr  error
	// groupGone is set once the program has exited and its group been
	// killed; from then on only the program itself may be signalled.
	groupGone atomic.Bool

	mu     sync.Mutex // serialises requests
	nextID int64
	broken error // set when the protocol state is lost
	once   sync.Once
}

type lineResult struct {
	line []byte
	err  error
}

// OpenExec starts the program of ref ("exec:COMMAND ARGS…") and reads its
// hello line (within Options.StartTimeout). The child runs until Close or
// until ctx is done, whichever comes first.
func OpenExec(ctx context.Context, ref string, opts Options) (*ExecModel, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	if r.Kind != RefExec {
		return nil, fmt.Errorf("%w %q: not an exec: reference", ErrBadRef, StripCredentials(ref))
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	e := &ExecModel{
		ref: ref, prog: filepath.Base(r.Argv[0]), opts: opts,
		command: oneLine(strings.Join(append([]string{filepath.Base(r.Argv[0])}, r.Argv[1:]...), " "), 200),
		lines:   make(chan lineResult, 1), stderr: newTailWriter(20),
		done: make(chan struct{}), killed: make(chan struct{}), quit: make(chan struct{}),
	}
	e.cmd = exec.Command(r.Argv[0], r.Argv[1:]...)
	e.cmd.Stderr = e.stderr
	e.cmd.WaitDelay = 2 * time.Second
	ownGroup(e.cmd)
	if e.stdin, err = e.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", e.command, err)
	}
	stdout, err := e.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("exec %s: %w", e.command, err)
	}
	if err := e.cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", e.command, err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		e.readLines(stdout)
	}()
	go func() {
		// Once the program has exited, what it left running in its group
		// is killed, while its unreaped ID still names the group and no
		// other (a killed ID reused by an unrelated group leader would
		// take that group down instead).
		if awaitExit(e.cmd.Process) {
			killGroup(e.cmd.Process)
			e.groupGone.Store(true)
		}
		// Wait closes the stdout pipe, so it must not run before every
		// line the program wrote has been read (os/exec's rule).
		select {
		case <-readDone:
		case <-e.killed:
		}
		e.waitErr = e.cmd.Wait()
		close(e.done)
	}()
	e.stop = context.AfterFunc(ctx, e.kill)

	line, err := e.readLine(ctx, time.Now(), opts.StartTimeout)
	if err != nil {
		e.Close()
		return nil, e.fail("waiting for the hello line", err)
	}
	var h ExecHello
	if err := json.Unmarshal(line, &h); err != nil {
		e.Close()
		return nil, e.fail("hello line", fmt.Errorf("malformed JSON: %w", err))
	}
	switch {
	case h.LineageExec != ExecProtocolVersion:
		err = fmt.Errorf("protocol version %d, want %d", h.LineageExec, ExecProtocolVersion)
	case h.InputSize <= 0 || h.InputSize > MaxInputSize:
		err = fmt.Errorf("input_size %d, want 1 to %d", h.InputSize, MaxInputSize)
	case len(h.Labels) == 0:
		err = errors.New("no labels")
	default:
		err = checkDescription(h.Name, h.Labels)
	}
	if err != nil {
		e.Close()
		return nil, e.fail("hello line", err)
	}
	if h.Name == "" {
		h.Name = e.prog
	}
	e.info = model.Info{Name: h.Name, Kind: model.Classifier, InputSize: h.InputSize, Labels: h.Labels, Source: Identity(ref)}
	return e, nil
}

func (e *ExecModel) readLines(stdout io.Reader) {
	defer close(e.lines)
	br := bufio.NewReaderSize(stdout, 64<<10)
	for {
		var buf []byte
		for {
			chunk, err := br.ReadSlice('\n')
			buf = append(buf, chunk...)
			if int64(len(buf)) > e.opts.MaxResponseBytes {
				e.lines <- lineResult{err: fmt.Errorf("output line exceeds %d bytes", e.opts.MaxResponseBytes)}
				return
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				if len(bytes.TrimSpace(buf)) > 0 {
					e.lines <- lineResult{line: buf}
				}
				return
			}
			break
		}
		if len(bytes.TrimSpace(buf)) == 0 {
			continue
		}
		e.lines <- lineResult{line: buf}
	}
}

// readLine waits for the next output line until timeout after start.
func (e *ExecModel) readLine(ctx context.Context, start time.Time, timeout time.Duration) ([]byte, error) {
	t := time.NewTimer(timeout - time.Since(start))
	defer t.Stop()
	select {
	case r, ok := <-e.lines:
		if !ok {
			return nil, e.exited()
		}
		e.stats.received.Add(int64(len(r.line)))
		return r.line, r.err
	case <-t.C:
		return nil, fmt.Errorf("no answer within %v", timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-e.quit:
		return nil, ErrClosed
	}
}

// exited describes the child's exit once stdout has closed.
func (e *ExecModel) exited() error {
	select {
	case <-e.done:
	case <-time.After(2 * time.Second):
		return errors.New("program closed its output")
	}
	if e.waitErr != nil {
		return fmt.Errorf("program exited: %w", e.waitErr)
	}
	return errors.New("program exited")
}

// maxStderrTail bounds the bytes of a program's stderr an error quotes.
const maxStderrTail = 1000

// fail builds an error naming the program, with its last stderr lines
// (on the error's one line).
func (e *ExecModel) fail(what string, err error) error {
	msg := fmt.Errorf("exec %s: %s: %w", e.command, what, err)
	if tail := e.stderr.String(); tail != "" {
		if len(tail) > maxStderrTail {
			// The end says most: keep it, cut at a character boundary.
			cut := len(tail) - maxStderrTail
			for cut < len(tail) && !utf8.RuneStart(tail[cut]) {
				cut++
			}
			tail = "…" + tail[cut:]
		}
		return fmt.Errorf("%w (last lines of its stderr: %s)", msg, tail)
	}
	return msg
}

func (e *ExecModel) kill() {
	e.killOnce.Do(func() {
		switch {
		case e.cmd.Process == nil:
		case e.groupGone.Load():
			e.cmd.Process.Kill() // the group is gone; the ID may be reaped
		default:
			killGroup(e.cmd.Process)
		}
		close(e.killed)
	})
}

// abort kills the program and closes its input, which fails a write
// blocked on a program that stopped reading it (killing alone does not
// when a grandchild holds the pipe open).
func (e *ExecModel) abort() {
	e.kill()
	e.stdin.Close()
}

// Info returns the metadata from the hello line; Source is the program's
// Identity (absolute paths and the working directory).
func (e *ExecModel) Info() model.Info {
	info := e.info
	info.Labels = append([]string(nil), info.Labels...)
	return info
}

// Stats returns the traffic so far (exec requests are never retried).
func (e *ExecModel) Stats() Stats { return e.stats.snapshot() }

// Close closes the program's input, gives it 2 s to exit and then kills
// it; with a Predict call in flight, which then fails with ErrClosed, it
// kills the program at once. Killing it kills its process group (see the
// package doc). It is safe to call more than once.
func (e *ExecModel) Close() error {
	e.once.Do(func() {
		close(e.quit) // Predict calls from now on fail; one waiting for an answer stops
		if e.stop != nil {
			e.stop()
		}
		if e.mu.TryLock() {
			e.mu.Unlock()
		} else {
			// A Predict call holds the lock, perhaps blocked writing to a
			// program that stopped reading: its answers are of no use now.
			e.kill()
		}
		e.stdin.Close()
		go func() {
			for range e.lines { // let the reader goroutine finish
			}
		}()
		select {
		case <-e.done:
		case <-time.After(2 * time.Second):
			e.kill()
			select {
			case <-e.done:
			case <-time.After(2 * time.Second): // a grandchild holds the output open
			}
		}
	})
	return nil
}

// Predict sends x in batches of Options.BatchSize, one request line at a
// time, each written and answered within Options.Timeout, and returns the
// validated distributions. A timeout or cancellation mid-request kills the
// program (its answers could no longer be matched to requests); ctx done
// before a request is sent fails Predict without harm.
func (e *ExecModel) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	d, k := e.info.InputSize, len(e.info.Labels)
	if x.Cols != d {
		return blas32.General{}, fmt.Errorf("exec %s: input has %d features, want %d", e.prog, x.Cols, d)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.quit:
		return blas32.General{}, fmt.Errorf("exec %s: %w", e.prog, ErrClosed)
	default:
	}
	if e.broken != nil {
		return blas32.General{}, fmt.Errorf("exec %s: %w", e.prog, e.broken)
	}
	out := blas32.General{Rows: x.Rows, Cols: k, Stride: k, Data: make([]float32, x.Rows*k)}
	for start := 0; start < x.Rows; start += e.opts.BatchSize {
		end := min(start+e.opts.BatchSize, x.Rows)
		if err := e.request(ctx, x, out, start, end); err != nil {
			e.stats.failures.Add(1)
			return blas32.General{}, err
		}
	}
	return out, nil
}

// request exchanges one batch; e.mu is held.
func (e *ExecModel) request(ctx context.Context, x, out blas32.General, start, end int) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("exec %s: %w", e.prog, err) // nothing sent: the program is still in step
	}
	d, k, n := x.Cols, out.Cols, end-start
	e.nextID++
	id := e.nextID
	buf := fmt.Appendf(nil, `{"id":%d,"inputs":[`, id)
	for i := start; i < end; i++ {
		if i > start {
			buf = append(buf, ',')
		}
		buf = serve.AppendFloats(buf, x.Data[i*x.Stride:i*x.Stride+d])
	}
	buf = append(buf, "]}\n"...)
	e.stats.requests.Add(1)
	e.stats.sent.Add(int64(len(buf)))
	sent := time.Now()
	// A program that stops reading its input blocks the write; the time
	// limit and ctx then abort the program, which fails the write.
	wctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	stop := context.AfterFunc(wctx, e.abort)
	_, err := e.stdin.Write(buf)
	aborted := !stop()
	cancel()
	if err != nil || aborted {
		select {
		case <-e.quit:
			err = ErrClosed
		default:
			switch {
			case ctx.Err() != nil:
				err = ctx.Err()
			case aborted:
				err = fmt.Errorf("input not taken within %v", e.opts.Timeout)
			}
		}
		e.broken = fmt.Errorf("writing request: %w", err)
		e.abort()
		return e.fail(fmt.Sprintf("writing request %d", id), err)
	}
	line, err := e.readLine(ctx, sent, e.opts.Timeout)
	if err != nil {
		e.broken = err
		e.kill()
		return e.fail(fmt.Sprintf("request %d", id), err)
	}
	var resp ExecResponse
	if err := json.Unmarshal(line, &resp); err != nil {
		e.broken = errors.New("malformed answer")
		e.kill()
		return e.fail(fmt.Sprintf("request %d", id), fmt.Errorf("malformed JSON answer: %w", explainNonFinite(err, line)))
	}
	if resp.ID != id {
		e.broken = errors.New("answer ids out of step")
		e.kill()
		return e.fail(fmt.Sprintf("request %d", id), fmt.Errorf("answer carries id %d", resp.ID))
	}
	if resp.Error != "" {
		return e.fail(fmt.Sprintf("request %d", id), errors.New(oneLine(e.opts.redact(resp.Error), maxMessage)))
	}
	// dst is the batch's part of out; the rest belongs to other batches.
	dst := out.Data[start*k : end*k : end*k]
	if err := parseProbabilities(dst, resp.Probabilities, n, k); err != nil {
		return e.fail(fmt.Sprintf("request %d", id), err)
	}
	if e.opts.Logits {
		if err := softmaxRows(dst, n, k, start); err != nil {
			return e.fail(fmt.Sprintf("request %d", id), err)
		}
	}
	w, err := checkRows(dst, n, k, start, e.opts.Lenient)
	if w > 0 {
		e.stats.warnings.Add(int64(w))
		e.opts.Log.Warn("renormalised answers", "program", e.prog, "rows", w, "first_probe", start)
	}
	if err != nil {
		return e.fail(fmt.Sprintf("request %d", id), err)
	}
	return nil
}

// tailWriter keeps the last n lines written to it.
type tailWriter struct {
	mu    sync.Mutex
	n     int
	lines []string
	part  []byte
}

func newTailWriter(n int) *tailWriter { return &tailWriter{n: n} }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range p {
		if c == '\n' {
			t.push(string(t.part))
			t.part = t.part[:0]
			continue
		}
		if len(t.part) < 1000 {
			t.part = append(t.part, c)
		}
	}
	return len(p), nil
}

func (t *tailWriter) push(s string) {
	t.lines = append(t.lines, s)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

// String returns the kept lines, an unterminated last line included, on
// one line: each line's white space and control characters collapsed
// (see oneLine), the blank ones left out, the rest joined by "; ".
func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := t.lines
	if len(t.part) > 0 {
		lines = append(lines[:len(lines):len(lines)], string(t.part))
	}
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if l = oneLine(l, 3*len(l)); l != "" { // room for a U+FFFD per invalid byte
			out = append(out, l)
		}
	}
	return strings.Join(out, "; ")
}
