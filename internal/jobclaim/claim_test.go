//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package jobclaim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func init() { Poll = 10 * time.Millisecond }

// TestAcquireWaits checks that a second claim of a job waits for the first,
// is told who holds it, and gets it once the first is released, and that
// another job is not held up.
func TestAcquireWaits(t *testing.T) {
	db := filepath.Join(t.TempDir(), "case.db")
	ctx := context.Background()
	release, waited, err := Acquire(ctx, db, "probe:x", "lineage probe", nil)
	if err != nil || waited {
		t.Fatalf("first Acquire: waited %v, err %v", waited, err)
	}
	other, waited, err := Acquire(ctx, db, "probe:y", "lineage probe", func(string) { t.Error("another job waited") })
	if err != nil || waited {
		t.Fatalf("Acquire of another job: waited %v, err %v", waited, err)
	}
	other()

	holders := make(chan string, 1)
	type result struct {
		waited bool
		err    error
	}
	done := make(chan result)
	go func() {
		r, w, err := Acquire(ctx, db, "probe:x", "lineage distill", func(h string) { holders <- h })
		if err == nil {
			r()
		}
		done <- result{w, err}
	}()
	h := <-holders
	if want := fmt.Sprintf("pid %d since ", os.Getpid()); !strings.HasPrefix(h, want) || !strings.HasSuffix(h, ": lineage probe") {
		t.Errorf("holder = %q, want %q…: lineage probe", h, want)
	}
	select {
	case r := <-done:
		t.Fatalf("second Acquire returned (%+v) while the first held the claim", r)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if r := <-done; r.err != nil || !r.waited {
		t.Errorf("second Acquire after release: waited %v, err %v; want waited, no error", r.waited, r.err)
	}
	if _, err := os.Stat(Name(db, "probe:x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("claim file after release: %v, want none", err)
	}
}

// TestAcquireCancel checks that a wait ends with ctx.
func TestAcquireCancel(t *testing.T) {
	db := filepath.Join(t.TempDir(), "case.db")
	release, _, err := Acquire(context.Background(), db, "j", "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	_, waited, err := Acquire(ctx, db, "j", "b", func(string) { cancel() })
	if !errors.Is(err, context.Canceled) || !waited {
		t.Errorf("Acquire cancelled while waiting: waited %v, err %v; want waited, context.Canceled", waited, err)
	}
}

// TestAcquireUnsupported checks that a file system without flock is
// reported as ErrUnsupported, not waited on.
func TestAcquireUnsupported(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOLCK, syscall.ENOTSUP, syscall.EOPNOTSUPP, syscall.EINVAL} {
		flock = func(int, int) error { return errno }
		_, waited, err := Acquire(context.Background(), filepath.Join(t.TempDir(), "case.db"), "j", "a", func(string) { t.Error("waited") })
		flock = syscall.Flock
		if !errors.Is(err, ErrUnsupported) || waited {
			t.Errorf("%v: waited %v, err %v; want ErrUnsupported", errno, waited, err)
		}
	}
}

// TestAcquireAfterKill checks that a claim whose holder was killed with
// SIGKILL (its claim file left behind) is taken at once.
func TestAcquireAfterKill(t *testing.T) {
	if db := os.Getenv("JOBCLAIM_HOLD"); db != "" {
		if _, _, err := Acquire(context.Background(), db, "j", "held", nil); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("held")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	db := filepath.Join(t.TempDir(), "case.db")
	c := exec.Command(os.Args[0], "-test.run=^TestAcquireAfterKill$")
	c.Env = append(os.Environ(), "JOBCLAIM_HOLD="+db)
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "held\n" {
		c.Process.Kill()
		c.Wait()
		t.Fatalf("holder process said %q", line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, _, err = Acquire(ctx, db, "j", "a", nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire while another process holds the claim: %v, want a wait", err)
	}
	c.Process.Signal(syscall.SIGKILL)
	c.Wait()
	if _, err := os.Stat(Name(db, "j")); err != nil {
		t.Fatalf("the killed holder's claim file: %v, want it left behind", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	release, waited, err := Acquire(ctx, db, "j", "a", nil)
	if err != nil || waited {
		t.Fatalf("Acquire after the holder was killed: waited %v, err %v; want the claim at once", waited, err)
	}
	release()
}

// TestAcquireSymlink checks that a run given a symbolic link to the
// database and a run given the database itself share one claim: before,
// each named its claim file after the path it was given, so both asked
// the model everything.
func TestAcquireSymlink(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "real", "case.db")
	if err := os.Mkdir(filepath.Dir(db), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(db, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	dirLink := filepath.Join(dir, "dirlink")
	if err := os.Symlink(filepath.Dir(db), dirLink); err != nil {
		t.Fatal(err)
	}
	// A link to a database not made yet (a distillation claims its
	// job before it opens the database), and a relative link to that
	// link.
	dangling := filepath.Join(dir, "new.db")
	if err := os.Symlink(filepath.Join("real", "new.db"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("new.db", filepath.Join(dir, "again.db")); err != nil {
		t.Fatal(err)
	}
	if got, want := Name(filepath.Join(dir, "again.db"), "probe:x"), Name(filepath.Join(dir, "real", "new.db"), "probe:x"); got != want {
		t.Errorf("Name through links to a database not made yet = %q, want %q", got, want)
	}

	ctx := context.Background()
	release, _, err := Acquire(ctx, db, "probe:x", "lineage probe", nil)
	if err != nil {
		t.Fatalf("Acquire through the file: %v", err)
	}
	defer release()
	for _, path := range []string{link, filepath.Join(dirLink, "case.db")} {
		if got, want := Name(path, "probe:x"), Name(db, "probe:x"); got != want {
			t.Errorf("Name(%q) = %q, want %q", path, got, want)
		}
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		waitedFor := ""
		r, waited, err := Acquire(cctx, path, "probe:x", "lineage probe", func(h string) { waitedFor = h })
		cancel()
		if err == nil {
			r()
			t.Errorf("Acquire through %s got the claim the file's run holds (waited %v)", path, waited)
			continue
		}
		if !waited || !errors.Is(err, context.DeadlineExceeded) || !strings.HasSuffix(waitedFor, ": lineage probe") {
			t.Errorf("Acquire through %s: waited %v for %q, err %v; want a wait for the file's run until the deadline", path, waited, waitedFor, err)
		}
	}
}

// TestName checks where the claim file of a job lies and what it is
// called: hidden, beside the database, with the first 16 hex digits of
// the SHA-256 of the job, so that every version of lineage names the same
// job's claim alike.
func TestName(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ db, job, want string }{
		{filepath.Join(dir, "case.db"), "probe:x", filepath.Join(dir, ".case.db.job-c77370a6d622a6ae.claim")},
		{filepath.Join(dir, "sub", "other.db"), "j", filepath.Join(dir, "sub", ".other.db.job-189f40034be7a199.claim")},
	} {
		if got := Name(tt.db, tt.job); got != tt.want {
			t.Errorf("Name(%q, %q) = %q, want %q", tt.db, tt.job, got, tt.want)
		}
	}
}

// TestAcquireClaimFile checks the claim file while it is held: private
// to its owner (it holds a command line) and locked, so that another
// lock on it would wait.
func TestAcquireClaimFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "case.db")
	release, _, err := Acquire(context.Background(), db, "j", "lineage probe", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	st, err := os.Stat(Name(db, "j"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("claim file mode = %v, want %v", got, want)
	}
	if err := lockedElsewhere(Name(db, "j")); err != nil {
		t.Error(err)
	}
}

// lockedElsewhere returns nil when the file name is there and another
// descriptor cannot lock it.
func lockedElsewhere(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("claim file: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		return fmt.Errorf("another lock of the claim file %s: %v, want EWOULDBLOCK", name, err)
	}
	return nil
}

// TestAcquireClaimFileLink checks that a claim file that is a symbolic
// link is refused, not followed: the claim must not lock, nor write, the
// file it leads to.
func TestAcquireClaimFileLink(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "case.db")
	victim := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, Name(db, "j")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	// A lock taken through the link would go on forever (the file locked
	// is never the claim file): the tenth ends it.
	locks := 0
	flock = func(fd, how int) error {
		if locks++; locks >= 10 {
			return syscall.ENOLCK
		}
		return syscall.Flock(fd, how)
	}
	defer func() { flock = syscall.Flock }()
	release, _, err := Acquire(context.Background(), db, "j", "a", nil)
	if err == nil {
		release()
		t.Error("Acquire through a claim file that is a link: no error, want one")
	}
	if locks != 0 {
		t.Errorf("Acquire through a claim file that is a link locked the file it leads to %d times (%v), want no lock", locks, err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Errorf("the file the link leads to holds %q, want %q", b, "keep me\n")
	}
}

// TestAcquireRemovedBeforeLock checks that a claim file removed by its
// holder between Acquire's open and its lock, and made again by another
// run, is not the one claimed: the claim is the file there afterwards,
// locked and naming this process.
func TestAcquireRemovedBeforeLock(t *testing.T) {
	db := filepath.Join(t.TempDir(), "case.db")
	name := Name(db, "j")
	removed := 0
	flock = func(fd, how int) error {
		if removed == 0 {
			removed++
			os.Remove(name)
			os.WriteFile(name, nil, 0o600) // another run's claim file
		}
		return syscall.Flock(fd, how)
	}
	defer func() { flock = syscall.Flock }()
	release, _, err := Acquire(context.Background(), db, "j", "lineage probe", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := lockedElsewhere(name); err != nil {
		t.Error(err)
	}
	if h := holder(name); !strings.HasSuffix(h, ": lineage probe") {
		t.Errorf("holder = %q, want …: lineage probe", h)
	}
}

// TestAcquireClosesFiles checks that claiming, waiting and releasing
// leave no file open: each try opens the claim file again.
func TestAcquireClosesFiles(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	open := func() int {
		fds, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(fds)
	}
	db := filepath.Join(t.TempDir(), "case.db")
	before := open()
	release, _, err := Acquire(context.Background(), db, "j", "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	// A wait of a few polls while the claim is held.
	ctx, cancel := context.WithTimeout(context.Background(), 5*Poll)
	_, _, err = Acquire(ctx, db, "j", "b", nil)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire while held: %v, want a wait until the deadline", err)
	}
	if got, want := open(), before+1; got != want {
		t.Errorf("files open while the claim is held, after another waited = %d, want %d", got, want)
	}
	release()
	// A claim file removed (and made again) between the open and the lock.
	removed := false
	flock = func(fd, how int) error {
		if !removed {
			removed = true
			os.Remove(Name(db, "j"))
			os.WriteFile(Name(db, "j"), nil, 0o600)
		}
		return syscall.Flock(fd, how)
	}
	release, _, err = Acquire(context.Background(), db, "j", "a", nil)
	flock = syscall.Flock
	if err != nil {
		t.Fatal(err)
	}
	release()
	if got := open(); got != before {
		t.Errorf("files open after the claims were released = %d, want %d", got, before)
	}
}
