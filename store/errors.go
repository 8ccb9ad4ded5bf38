package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrNotFound is wrapped by *NotFoundError.
	ErrNotFound = errors.New("not found")
	// ErrExists means a different record is already stored under the key.
	ErrExists = errors.New("already exists")
	// ErrLocked means another process holds the store open for writing
	// (or, for a writer, for reading) beyond Options.Timeout.
	ErrLocked = errors.New("database is locked by another process")
	// ErrSchema means the store was written by a newer lineage.
	ErrSchema = errors.New("unsupported store schema")
	// ErrNotStore means the file is not a lineage store (not bbolt, an
	// empty or truncated file, or a bbolt file of another program).
	ErrNotStore = errors.New("not a lineage store")
	// ErrCorrupt means a record or the bbolt structure is damaged.
	ErrCorrupt = errors.New("store is corrupted")
	// ErrInUse is wrapped by *InUseError.
	ErrInUse = errors.New("in use")
	// ErrReadOnly means a write was attempted on a read-only store.
	ErrReadOnly = errors.New("store is read-only")
	// ErrAmbiguous means a shortened suite hash matches several suites.
	ErrAmbiguous = errors.New("ambiguous")
	// ErrCommit means a write transaction's changes were made but could
	// not be committed (a full disk, the file size limit reached as the
	// file grows): the transaction was rolled back, the store is as it
	// was before it, and the same write can be tried again.
	ErrCommit = errors.New("commit rolled back")
	// ErrUnsynced means a write transaction's commit was written to the
	// file in full, and the store holds its changes (every reader sees
	// them), but the disk did not confirm the write (the last fsync
	// failed): they may be lost if the machine stops before the disk
	// writes them out. The transaction was not rolled back: trying the
	// same write again may find it done.
	ErrUnsynced = errors.New("commit written but not confirmed by the disk")
)

// NotFoundError says that no record of Kind (a human noun such as
// "teacher", "suite", "fingerprint", "audit", "answers job") is named Name.
type NotFoundError struct {
	Kind string
	Name string
}

// Error formats as `teacher "acme" not found`.
func (e *NotFoundError) Error() string { return fmt.Sprintf("%s %q not found", e.Kind, e.Name) }

// Is reports whether target is ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// InUseError says that a record cannot be removed (or, when Op is
// "replace", replaced) because other records (By, each "type id") refer
// to it. An empty Op means "remove".
type InUseError struct {
	Kind string
	Name string
	By   []string
	Op   string
}

// Error formats as `fingerprint "t" is used by enrolment acme` (a caller
// that can force the removal says how), or for a replacement `fingerprint
// "t" is used by enrolment acme and cannot be replaced; choose another name`.
func (e *InUseError) Error() string {
	if e.Op == "replace" {
		hint := "choose another name"
		if slices.ContainsFunc(e.By, func(u string) bool { return strings.HasPrefix(u, "audit ") }) {
			hint += ", or remove the audit records first (lineage db rm audit ID)"
		}
		return fmt.Sprintf("%s %q is used by %s and cannot be replaced; %s", e.Kind, e.Name, JoinUsers(e.By), hint)
	}
	return fmt.Sprintf("%s %q is used by %s", e.Kind, e.Name, JoinUsers(e.By))
}

// Is reports whether target is ErrInUse.
func (e *InUseError) Is(target error) bool { return target == ErrInUse }

// SuiteGoneError says that the stored fingerprint Fingerprint was taken
// on the suite Suite, which is no longer stored: `db rm suite --force`
// removed it while the fingerprint used it. The fingerprint can be shown
// (Tx.Show) and removed, not read (Tx.Fingerprint): its outputs answer
// probes that are gone. Callers add what to do, which depends on the
// command.
type SuiteGoneError struct {
	Fingerprint string
	Suite       string
}

// Error formats as `fingerprint "s1" was taken on suite b6d7064dd612,
// which is no longer stored (removed with db rm suite --force)`.
func (e *SuiteGoneError) Error() string {
	return fmt.Sprintf("fingerprint %q was taken on suite %.12s, which is no longer stored (removed with db rm suite --force)", e.Fingerprint, e.Suite)
}

func notFound(kind, name string) error { return &NotFoundError{Kind: kind, Name: name} }

func exists(kind, name, detail string) error {
	if detail != "" {
		return fmt.Errorf("%s %q: %w (%s)", kind, name, ErrExists, detail)
	}
	return fmt.Errorf("%s %q: %w", kind, name, ErrExists)
}
