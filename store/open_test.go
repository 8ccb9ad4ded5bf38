package store

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/internal/tmpfile"
	bolt "go.etcd.io/bbolt"
)

func TestOpenFresh(t *testing.T) {
	path := tempPath(t)
	s := openTest(t, path, false)
	if got, err := s.List(ctx, ""); err != nil || len(got) != 0 {
		t.Fatalf("List of fresh store = %v, %v; want empty", got, err)
	}
	s.Close()
	ro := openTest(t, path, true)
	if !ro.ReadOnly() {
		t.Error("ReadOnly() = false, want true")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing.db"), Options{ReadOnly: true}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only open of missing file = %v, want ErrNotExist", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory holds %d files after create, want 1 (no temp left)", len(entries))
	}
}

func TestOpenLocked(t *testing.T) {
	path := tempPath(t)
	openTest(t, path, false)
	for _, ro := range []bool{false, true} {
		start := time.Now()
		s2, err := Open(path, Options{ReadOnly: ro, Timeout: 150 * time.Millisecond})
		if err == nil {
			s2.Close()
			t.Fatalf("second open (read-only %v) succeeded, want ErrLocked", ro)
		}
		if !errors.Is(err, ErrLocked) {
			t.Errorf("error = %v, want ErrLocked", err)
		}
		if want := `open store "` + path + `": database is locked by another process`; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("locked open took %v, want about the 150ms timeout", d)
		}
	}
}

// TestOpenContextCancelledWhileLocked checks that a long wait for another
// process's lock stops when the context is cancelled.
func TestOpenContextCancelledWhileLocked(t *testing.T) {
	path := tempPath(t)
	openTest(t, path, false)
	for _, ro := range []bool{false, true} {
		c, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel)
		start := time.Now()
		s2, err := OpenContext(c, path, Options{ReadOnly: ro, Timeout: time.Minute})
		cancel()
		if err == nil {
			s2.Close()
			t.Fatalf("second open (read-only %v) succeeded", ro)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond || d > 10*time.Second {
			t.Errorf("cancelled open took %v, want about 200ms", d)
		}
	}
	// An uncancelled wait still ends with ErrLocked at the timeout.
	start := time.Now()
	if _, err := OpenContext(context.Background(), path, Options{Timeout: 250 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("error = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("locked open took %v, want about the 250ms timeout", d)
	}
}

// TestOpenLockWaitNotice checks that Options.OnLockWait is called once,
// about LockWaitNotice into a wait for another process's lock, and not for
// shorter waits or none. A lock that outlasts the notice is let go half a
// second after it (not at 1.5 s, which a notice delayed by a loaded
// machine could outlast), and a notice is checked against the moment the
// lock went, not against when it was meant to.
func TestOpenLockWaitNotice(t *testing.T) {
	tests := []struct {
		name     string
		ro       bool
		timeout  time.Duration
		release  time.Duration // when the holder lets go (0: never; -1: before the open; 1: after the notice)
		wantCall bool
	}{
		{"writer, locked throughout", false, 2500 * time.Millisecond, 0, true},
		{"reader, locked throughout", true, 2500 * time.Millisecond, 0, true},
		{"writer, lock released after the notice", false, time.Minute, 1, true},
		{"short wait", false, 500 * time.Millisecond, 0, false},
		{"lock released after 300ms", false, time.Minute, 300 * time.Millisecond, false},
		{"no wait", false, time.Minute, -1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := tempPath(t)
			holder := openTest(t, path, false)
			var mu sync.Mutex
			var calls []time.Duration
			var released time.Duration // since start; 0: not yet
			start := time.Now()
			letGo := func() {
				holder.Close()
				mu.Lock()
				released = time.Since(start)
				mu.Unlock()
			}
			switch {
			case tt.release < 0:
				holder.Close()
			case tt.release == 1:
				// Half a second on, so that a notice repeated as the
				// wait goes on shows.
			case tt.release > 0:
				time.AfterFunc(tt.release, letGo)
			}
			s, err := OpenContext(context.Background(), path, Options{ReadOnly: tt.ro, Timeout: tt.timeout,
				OnLockWait: func() {
					mu.Lock()
					calls = append(calls, time.Since(start))
					mu.Unlock()
					if tt.release == 1 {
						time.AfterFunc(500*time.Millisecond, letGo)
					}
				}})
			if err == nil {
				s.Close()
			}
			if (tt.release == 0) != errors.Is(err, ErrLocked) {
				t.Errorf("open: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !tt.wantCall {
				if len(calls) > 0 && (released == 0 || released < LockWaitNotice) {
					t.Errorf("OnLockWait called at %v, lock let go at %v; want no call", calls, released)
				}
				return
			}
			// The notice comes LockWaitNotice into the wait, well
			// before a minute's wait ends (a few seconds' slack for a
			// loaded machine).
			if len(calls) != 1 || calls[0] < LockWaitNotice || (tt.release == 1 && calls[0] > LockWaitNotice+3*time.Second) {
				t.Errorf("OnLockWait called at %v, want once at about %v", calls, LockWaitNotice)
			}
		})
	}
}

func TestOpenForeign(t *testing.T) {
	dir := t.TempDir()
	random := make([]byte, 16384)
	for i := range random {
		random[i] = byte(rand.New(rand.NewPCG(1, 2)).Uint32())
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	// A bbolt database of some other program: valid bbolt, no lineage meta.
	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	db.Close()
	// The same without a synced freelist, which bbolt writes when it opens
	// such a file read-write.
	nofree := filepath.Join(dir, "nofree.db")
	db, err = bolt.Open(nofree, 0o600, &bolt.Options{NoFreelistSync: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("x")); return err })
	db.Close()
	// One of another program that keeps a "meta" bucket too, with its own
	// format name in it.
	othermeta := filepath.Join(dir, "othermeta.db")
	db, err = bolt.Open(othermeta, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keyFormat, []byte("other-tool"))
	})
	db.Close()
	// A real store cut short.
	real := filepath.Join(dir, "real.db")
	s := openTest(t, real, false)
	populate(t, s)
	s.Close()
	full, _ := os.ReadFile(real)

	files := map[string][]byte{
		"random.db":    random,
		"text.db":      []byte("name,score\nalice,3\nbob,4\n"),
		"empty.db":     {},
		"truncated.db": full[:3*4096],
		"onepage.db":   full[:4096],
	}
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), data, 0o600)
	}
	for _, name := range []string{"random.db", "text.db", "empty.db", "truncated.db", "onepage.db", "other.db", "nofree.db", "othermeta.db"} {
		for _, ro := range []bool{true, false} {
			path := filepath.Join(dir, name)
			before := fileSum(t, path)
			s, err := Open(path, Options{ReadOnly: ro, Timeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Errorf("%s (read-only %v): opened, want ErrNotStore", name, ro)
				continue
			}
			if !errors.Is(err, ErrNotStore) {
				t.Errorf("%s (read-only %v): error = %v, want ErrNotStore", name, ro, err)
			}
			if fileSum(t, path) != before {
				t.Errorf("%s (read-only %v): failed open modified the file", name, ro)
			}
		}
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNotStore) {
		t.Errorf("directory: error = %v, want ErrNotStore", err)
	}
	if _, err := Open("/dev/null", Options{ReadOnly: true}); !errors.Is(err, ErrNotStore) {
		t.Errorf("/dev/null: error = %v, want ErrNotStore", err)
	}
}

// TestOpenSchemaVersions checks the schema versions Open refuses: a newer
// one (ErrSchema: upgrade lineage) and 0, which lineage never wrote
// (ErrCorrupt; it passed every check).
func TestOpenSchemaVersions(t *testing.T) {
	for _, tt := range []struct {
		version uint64
		want    error
	}{{SchemaVersion + 1, ErrSchema}, {0, ErrCorrupt}} {
		path := tempPath(t)
		s := openTest(t, path, false)
		s.Close()
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx *bolt.Tx) error {
			var v [8]byte
			binary.BigEndian.PutUint64(v[:], tt.version)
			return tx.Bucket(bucketMeta).Put(keySchema, v[:])
		})
		db.Close()
		for _, ro := range []bool{true, false} {
			if _, err := Open(path, Options{ReadOnly: ro}); !errors.Is(err, tt.want) {
				t.Errorf("schema %d, read-only %v: error = %v, want %v", tt.version, ro, err, tt.want)
			}
		}
	}
}

// TestFreelistInUse checks that a store whose freelist lists a page the
// tree uses is refused to writers (bbolt would hand the page out for new
// data: one write after such damage destroyed a store) but still opens
// read-only, so that it can be exported into a new file.
func TestFreelistInUse(t *testing.T) {
	path, f, m := populatedFile(t)
	if m.freelist == noFreelist {
		t.Fatalf("meta %+v: want a freelist page", m)
	}
	page := make([]byte, m.pageSize)
	if _, err := f.ReadAt(page, int64(m.freelist*m.pageSize)); err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint16(page[10:]); n == 0 || n == 0xFFFF {
		t.Fatalf("freelist holds %d ids, want a few", n)
	}
	binary.LittleEndian.PutUint64(page[pageHeader:], m.root) // the root page, listed as free
	if _, err := f.WriteAt(page, int64(m.freelist*m.pageSize)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before := fileSum(t, path)
	if _, err := Open(path, Options{Timeout: 200 * time.Millisecond}); !errors.Is(err, ErrCorrupt) ||
		!strings.Contains(err.Error(), "is both free and in use") || !strings.Contains(err.Error(), "db export") {
		t.Errorf("writer Open: %v, want ErrCorrupt naming the page and the way out", err)
	}
	r := openTest(t, path, true)
	if _, err := r.Fingerprint(ctx, "neg"); err != nil {
		t.Errorf("read-only: %v", err)
	}
	r.Close()
	if fileSum(t, path) != before {
		t.Error("the refused writer or the reader changed the file")
	}
}

// TestCreate checks that Create puts a store at path only when fn
// succeeds, and never over an existing file.
func TestCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	boom := errors.New("boom")
	err := Create(ctx, path, func(s *Store) error {
		populate(t, s)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Create with a failing fn = %v, want its error", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a failed Create left %d files, want none", len(ents))
	}
	if err := Create(ctx, path, func(s *Store) error { populate(t, s); return nil }); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path, true)
	if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Counts[TypeFingerprint] != 4 {
		t.Errorf("created store: %+v, %v", r, err)
	}
	s.Close()
	before := fileSum(t, path)
	called := false
	err = Create(ctx, path, func(*Store) error { called = true; return nil })
	if !errors.Is(err, fs.ErrExist) || called {
		t.Errorf("Create over an existing file = %v (fn called: %v), want fs.ErrExist without calling fn", err, called)
	}
	if fileSum(t, path) != before {
		t.Error("Create changed the existing file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("directory holds %d files, want the store alone", len(ents))
	}
}

// TestCreateRemovesStaleTemps leaves what forced exits leave beside a
// store being created (a complete temporary, an empty one) and one a live
// Create is writing (bbolt's lock held): Create removes the first alone,
// and its own temporary is safe from another's clean-up while fn runs.
func TestCreateRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	tmp := func(suffix string) string { return filepath.Join(dir, ".new.db.tmp"+suffix) }
	stale, err := bolt.Open(tmp("stale1"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stale.Close()
	live, err := bolt.Open(tmp("live2"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := os.WriteFile(tmp("3"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	err = Create(ctx, path, func(s *Store) error {
		if got := tmpfile.RemoveStale(dir, tmpfile.Match("new.db")); got != nil {
			t.Errorf("a clean-up while Create runs removed %q", got)
		}
		populate(t, s)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if want := []string{".new.db.tmp3", ".new.db.tmplive2", "new.db"}; !slices.Equal(left, want) {
		t.Errorf("directory holds %q after Create, want %q", left, want)
	}
	s := openTest(t, path, true)
	if r, err := s.Verify(ctx); err != nil || !r.OK() || r.Counts[TypeFingerprint] != 4 {
		t.Errorf("created store: %+v, %v", r, err)
	}
}

// TestOpenDanglingLink checks a writer's open of a path that is a
// symbolic link to no file (a database not made yet): one error naming
// the link and where it leads, wrapping fs.ErrNotExist, and nothing made,
// the link kept. It said "open LINK: no such file or directory" of a path
// the user sees listed: Create found the link there and made nothing, and
// the open then followed it.
func TestOpenDanglingLink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link.db")
	if err := os.Symlink(filepath.Join("real", "new.db"), link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(link, Options{Timeout: 200 * time.Millisecond})
	want := `open store "` + link + `": a symbolic link to "real/new.db", which leads to no file`
	if !errors.Is(err, fs.ErrNotExist) || err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Open of a link to no file: %v; want one line starting %q, wrapping fs.ErrNotExist", err, want)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link is gone or changed: %v %v", fi, err)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "real")); len(entries) != 0 {
		t.Errorf("the link's directory holds %d files, want none", len(entries))
	}
}
