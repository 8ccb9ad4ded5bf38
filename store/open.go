package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lineage-audit/lineage/internal/regfile"
	"github.com/lineage-audit/lineage/internal/tmpfile"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the store schema this package writes; it reads every
// version up to it. Version 2 (7 December 2026) holds remote fingerprints
// whose hash covers more of their Meta (fingerprint.MetaHashRule), which
// lineage of version 1 would take for damaged: it refuses the file as
// newer instead. A version-1 file is marked version 2 by the transaction
// that stores its first fingerprint under MetaHashRule (Tx.markSchema),
// and not before: until then lineage of version 1 reads it whole. Its
// records are kept as they are.
// Fingerprints under fingerprint.HashRuleHeader (hash rule 3, the same
// day, every fingerprint lineage takes since) need no version 3: lineage
// of version 2 knows MetaHashRule, and refuses such a record (db verify,
// reads, imports) saying that its hash_rule "3" is not one it knows,
// written by a newer lineage, while it still reads the other records of
// the file.
const SchemaVersion = 2

// DefaultTimeout is how long Open waits for another process's lock when
// Options.Timeout is 0.
const DefaultTimeout = 2 * time.Second

// DefaultReaderTimeout is how long a writer's Open waits, when
// Options.ReaderTimeout is 0, while readers alone hold the lock.
const DefaultReaderTimeout = 30 * time.Second

// LockWaitNotice is how long Open waits for another process's lock before
// it calls Options.OnLockWait.
const LockWaitNotice = time.Second

const formatName = "lineage-store"

var (
	bucketMeta    = []byte("meta")
	bucketSuites  = []byte("suites")
	bucketNames   = []byte("suite_names")
	bucketFPs     = []byte("fingerprints")
	bucketEnrol   = []byte("enrolments")
	bucketAudits  = []byte("audits")
	bucketAnswers = []byte("answers")
	allBuckets    = [][]byte{bucketMeta, bucketSuites, bucketNames, bucketFPs, bucketEnrol, bucketAudits, bucketAnswers}
	keyFormat     = []byte("format")
	keySchema     = []byte("schema")
)

// Options tunes Open. The zero value opens read-write, creating the file if
// needed, and waits DefaultTimeout for a lock.
type Options struct {
	// ReadOnly opens without writing anything; the file must exist.
	ReadOnly bool
	// Timeout bounds the wait for another process's lock; 0 means
	// DefaultTimeout, negative means do not wait.
	Timeout time.Duration
	// ReaderTimeout bounds a writer's wait while the lock is held by
	// readers alone (read-only opens: report, audit, db export), which
	// let it go once they have read, where a writer may hold it for
	// minutes: a probe that finishes while a report of a thousand
	// suspects reads the store waits for that report instead of failing
	// after Timeout. 0 means DefaultReaderTimeout; it never shortens
	// Timeout, and a negative Timeout (do not wait) waits for no reader
	// either. Where the system has no flock (Windows), readers and
	// writers alike are waited for Timeout.
	ReaderTimeout time.Duration
	// OnLockWait, when set, is called once per Open that has been waiting
	// LockWaitNotice for another process's lock and waits on, so that a
	// command can tell its user why it seems stuck. It must not block.
	OnLockWait func()
	// Grow, for a writer, is about how many bytes the caller expects to
	// add to the file (0: no guess). The file's memory map is made that
	// much larger than the file when it is opened (address space, not
	// memory), so that bbolt does not map it again while a large
	// transaction commits: every new map first copies to the heap each
	// value the transaction has put, all of them, once per doubling of
	// the file (db import --merge of a 332 MB export into a small store:
	// 850 MB of memory and 14.9 s mapped again as the file grew, 640 MB
	// and 9.0 s mapped once).
	Grow int64
}

// Store is an open lineage store. Its methods are safe for concurrent use.
type Store struct {
	db       *bolt.DB
	path     string
	readOnly bool
	// missing is set while a writer's file lacks buckets (a store of an
	// older schema): they are added by its first committed transaction,
	// not at Open, and its read transactions see them empty.
	missing atomic.Bool
}

// Open opens (read-write: creating if missing) the store at path.
// Errors wrap ErrLocked, ErrNotStore, ErrSchema or fs.ErrNotExist (a missing
// file opened read-only), with the path in the message, for example
// `open store "case.db": database is locked by another process`.
func Open(path string, opts Options) (*Store, error) {
	return OpenContext(context.Background(), path, opts)
}

// OpenContext is Open, except that it stops waiting for another process's
// lock as soon as ctx is done, returning an error wrapping ctx.Err():
// a command waiting up to a minute for the lock stops on Ctrl-C.
func OpenContext(ctx context.Context, path string, opts Options) (*Store, error) {
	wrap := func(err error) error { return fmt.Errorf("open store %q: %w", path, err) }
	timeout, readers := opts.Timeout, cmp.Or(opts.ReaderTimeout, DefaultReaderTimeout)
	if timeout == 0 {
		timeout = DefaultTimeout
	} else if timeout < 0 {
		timeout, readers = time.Millisecond, 0
	}
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !opts.ReadOnly:
		if err := CheckLink(path); err != nil {
			// Create makes nothing where a link is: the open would then
			// say "no such file" of a path the user sees listed.
			return nil, wrap(err)
		}
		if err := create(path); err != nil {
			return nil, wrap(err)
		}
	case err != nil:
		return nil, wrap(regfile.Cause(err, path))
	case st.IsDir():
		return nil, wrap(fmt.Errorf("%w: is a directory", ErrNotStore))
	case !st.Mode().IsRegular():
		return nil, wrap(fmt.Errorf("%w: not a regular file", ErrNotStore))
	}
	if err := checkHeader(path); err != nil {
		return nil, wrap(err)
	}
	// Vet the file read-only first, even for a writer: bbolt may write
	// when it opens read-write (a freelist it was not given), and a file
	// that is not a lineage store must be left exactly as it was.
	wait := &lockWait{notice: opts.OnLockWait}
	db, err := openBolt(ctx, path, timeout, 0, &bolt.Options{ReadOnly: true}, wait)
	if err != nil {
		return nil, wrap(err)
	}
	s := &Store{db: db, path: path, readOnly: true}
	if err := checkTree(path, !opts.ReadOnly); err != nil {
		db.Close()
		return nil, wrap(err)
	}
	if err := s.checkMeta(); err != nil {
		db.Close()
		return nil, wrap(err)
	}
	if !opts.ReadOnly {
		db.Close()
		initial := mmapSize(path, opts.Grow)
		if s.db, err = openBolt(ctx, path, timeout, readers, &bolt.Options{InitialMmapSize: initial}, wait); err != nil {
			return nil, wrap(WriteOpenError(err))
		}
		if initial > 0 {
			// bbolt makes a file whose map is at most AllocSize as long
			// as the map when a commit grows it (see growSlack).
			s.db.AllocSize = growSlack
		}
		s.readOnly = false
	}
	if err := s.checkBuckets(); err != nil {
		s.db.Close()
		return nil, wrap(err)
	}
	return s, nil
}

// WriteOpenError returns err, the error of opening a store for writing, as
// one wrapping ErrReadOnly when the file cannot be written (its mode,
// chattr +i, a read-only mount), naming why: the bare "open case.db:
// permission denied" of a file that commands reading it open without
// fault did not say that the command was refused for writing.
func WriteOpenError(err error) error {
	if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, syscall.EROFS) {
		return err
	}
	why := err
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
		why = pe.Err
	}
	return fmt.Errorf("%w: it cannot be opened for writing (%v), and this command writes to it; commands that only read it still work", ErrReadOnly, why)
}

// growSlack is the AllocSize of a writer opened with Options.Grow: how
// far past its data a commit lengthens the file. bbolt lengthens a file
// whose map is at most AllocSize (16 MB by default) to the whole map, so
// Grow's map, a guess, left the file the guess's length (a 6.4 MB export
// merged into a 128 KB store: 16 MB, 8 MB without Grow); with this, the
// data's and 64 KB.
const growSlack = 64 << 10

// maxGrowMap bounds the memory map Options.Grow asks for.
const maxGrowMap = 1 << 40

// mmapSize returns the initial memory map of the file at path for a
// writer expecting to add grow bytes to it: 0 (bbolt's own) when grow is
// not positive, else the file's size and grow, at most maxGrowMap. It is
// 0 on Windows, where bbolt makes the file as long as its map (the file
// would keep the guess's length), and where an int has 32 bits.
func mmapSize(path string, grow int64) int {
	if grow <= 0 || runtime.GOOS == "windows" || strconv.IntSize < 64 {
		return 0
	}
	var size int64
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	return int(min(size+min(grow, maxGrowMap), maxGrowMap))
}

// lockPoll is how long one attempt to take the file's lock waits: between
// attempts openBolt checks its context.
const lockPoll = 100 * time.Millisecond

// lockWait tracks an Open's wait for another process's lock, to call its
// notice once when the wait has lasted LockWaitNotice.
type lockWait struct {
	notice   func()
	start    time.Time // of the wait; zero before the first failed attempt
	notified bool
}

// locked records an attempt to take the lock, begun at tried, that failed.
func (w *lockWait) locked(tried time.Time) {
	if w.start.IsZero() {
		w.start = tried
	}
	if w.notice != nil && !w.notified && time.Since(w.start) >= LockWaitNotice {
		w.notified = true
		w.notice()
	}
}

// openBolt opens path with bolt.Open, waiting up to timeout for another
// process's lock (ErrLocked after that) unless ctx is done first, and up
// to readers (when longer) from the first failed attempt while only
// readers hold it (see Options.ReaderTimeout); w follows the wait.
func openBolt(ctx context.Context, path string, timeout, readers time.Duration, o *bolt.Options, w *lockWait) (*bolt.DB, error) {
	start := time.Now()
	deadline := start.Add(timeout)
	for {
		oo := *o
		oo.Timeout = max(min(time.Until(deadline), lockPoll), time.Millisecond) // 0 would wait forever
		tried := time.Now()
		db, err := openBoltOnce(path, &oo)
		if !errors.Is(err, ErrLocked) {
			return db, err
		}
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("waiting for the lock another process holds: %w", cerr)
		}
		if !time.Now().Before(deadline) {
			// Checked only once the writer's own timeout is spent:
			// a writer that takes the lock meanwhile ends the wait
			// at the next failed attempt.
			if readers <= timeout || !onlyReaders(path) || !time.Now().Before(start.Add(readers)) {
				return nil, err
			}
			deadline = time.Now().Add(lockPoll)
		}
		w.locked(tried) // and wait on
	}
}

// openBoltOnce calls bolt.Open, mapping its errors and panics to ours.
func openBoltOnce(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: bbolt: %v", ErrNotStore, r)
		}
	}()
	db, err = bolt.Open(path, 0o600, o)
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, ErrLocked
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, fmt.Errorf("%w: %v", ErrNotStore, err)
	}
	return db, err
}

// create makes a new, fully initialised store at path atomically (see
// Create); a concurrent creator simply wins.
func create(path string) error {
	err := Create(context.Background(), path, func(*Store) error { return nil })
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	return err
}

// Create makes a new store at path holding what fn puts in it, atomically:
// the store is built and filled under a temporary name in path's
// directory, and linked into place only once fn has succeeded, so that a
// failure of fn, an interrupt or a crash leaves no file at path. A forced
// exit may leave the temporary (".BASE.tmp…"); Create removes those no
// live process is writing (see internal/tmpfile: bbolt holds its lock on a
// temporary until after it is linked into place) before it makes its own.
// fn must not close the store. When path exists, or appears while fn runs,
// Create creates nothing and returns an error wrapping fs.ErrExist; fn's
// own errors are returned as they are. (An error closing the store once it
// is linked into place is returned with the store left there, complete.)
func Create(ctx context.Context, path string, fn func(*Store) error) error {
	wrap := func(err error) error { return fmt.Errorf("create store %q: %w", path, err) }
	if _, err := os.Lstat(path); err == nil {
		return wrap(fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return wrap(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	tmpfile.RemoveStale(dir, tmpfile.Match(base))
	tmp := filepath.Join(dir, tmpfile.Prefix(base)+strconv.FormatUint(rand.Uint64(), 36))
	defer os.Remove(tmp)
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the temporary's name means nothing to the user
		}
		return wrap(err)
	}
	s := &Store{db: db, path: path}
	if err = s.update(initBuckets); err != nil {
		err = wrap(err)
	} else {
		err = fn(s)
	}
	if err == nil {
		// Linked while bbolt still holds its lock on the temporary, so
		// that another Create never takes it for a stale one; every
		// transaction is committed and synced, and closing writes nothing.
		err = link(tmp, path)
	}
	if cerr := db.Close(); err == nil && cerr != nil {
		err = wrap(cerr)
	}
	return err
}

// link puts the finished store tmp in place at path, failing with an error
// wrapping fs.ErrExist when path exists.
func link(tmp, path string) error {
	wrap := func(err error) error { return fmt.Errorf("create store %q: %w", path, err) }
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return wrap(err)
		}
		// A file system without hard links: rename, unless path appeared.
		if _, serr := os.Lstat(path); serr == nil {
			return wrap(fs.ErrExist)
		}
		if err := os.Rename(tmp, path); err != nil {
			return wrap(err)
		}
	}
	return nil
}

func initBuckets(tx *bolt.Tx) error {
	for _, b := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	m := tx.Bucket(bucketMeta)
	if m.Get(keyFormat) == nil {
		if err := m.Put(keyFormat, []byte(formatName)); err != nil {
			return err
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], SchemaVersion)
		return m.Put(keySchema, v[:])
	}
	return nil
}

// checkMeta verifies the meta bucket: lineage's format and a schema
// version this package reads.
func (s *Store) checkMeta() error {
	return s.view(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil || !bytes.Equal(m.Get(keyFormat), []byte(formatName)) {
			return fmt.Errorf("%w: a bbolt file without lineage metadata", ErrNotStore)
		}
		v := m.Get(keySchema)
		if len(v) != 8 {
			return fmt.Errorf("%w: bad schema version %x", ErrCorrupt, v)
		}
		switch n := binary.BigEndian.Uint64(v); {
		case n > SchemaVersion:
			return fmt.Errorf("%w: schema version %d is newer than %d (upgrade lineage)", ErrSchema, n, SchemaVersion)
		case n == 0:
			// Versions count from 1: lineage never wrote 0.
			return fmt.Errorf("%w: schema version 0", ErrCorrupt)
		}
		return nil
	})
}

// markSchema marks the file of t SchemaVersion when it holds an older
// version: t stores a record that lineage of an older schema would take
// for damaged (a fingerprint under fingerprint.MetaHashRule). Every
// record an older schema holds reads under this one, so nothing else
// changes; and a file that never gets such a record keeps its version
// (a rerun that stores nothing new, or only records older lineage reads,
// leaves it open to that lineage).
func (t *Tx) markSchema() error {
	m := t.tx.Bucket(bucketMeta)
	if v := m.Get(keySchema); len(v) == 8 && binary.BigEndian.Uint64(v) >= SchemaVersion {
		return nil
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], SchemaVersion)
	return m.Put(keySchema, v[:])
}

// checkBuckets looks for buckets a store of an older schema lacks. A
// reader reports them. A writer notes them (Store.missing) and writes
// nothing yet: its first committed transaction adds them, in that same
// transaction, so a command that fails leaves the file as it found it.
func (s *Store) checkBuckets() error {
	missing := false
	err := s.view(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) != nil {
				continue
			}
			if s.readOnly {
				return fmt.Errorf("%w: bucket %q is missing (a command that writes recreates it empty)", ErrCorrupt, b)
			}
			missing = true
		}
		return nil
	})
	s.missing.Store(err == nil && missing)
	return err
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// ReadOnly reports whether the store was opened read-only.
func (s *Store) ReadOnly() bool { return s.readOnly }

// Close releases the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %q: %w", s.path, err)
	}
	return nil
}

// CheckLink returns an error wrapping fs.ErrNotExist, naming where the link
// leads, when path is a symbolic link to no file, where OpenContext makes
// no database; nil otherwise (no file at path, or any other file).
func CheckLink(path string) error {
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	target, err := os.Readlink(path)
	if err != nil {
		return nil
	}
	return fmt.Errorf("a symbolic link to %q, which leads to no file (lineage makes no database through a link: give the path the new database is to have): %w", target, fs.ErrNotExist)
}
