package tmpfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/lineage-audit/lineage/internal/regfile"
)

// Write writes path atomically: it removes the stale temporaries of path
// (RemoveStale), creates its own (Prefix: ".BASE.tmp" for most, and a random suffix) in
// path's directory, locks it (Lock), lets write fill it, sets its mode to
// perm, syncs it and renames it over path, still locked, then syncs the
// directory (best effort) so the rename is durable. On any error the
// temporary is removed and path is left as it was; a forced exit may leave
// the temporary, which the next Write to path removes. Errors are the
// os package's or write's, unwrapped; those of creating the temporary
// (a missing or read-only directory) and a path that is a directory are
// reported on path itself (TargetError), before write runs.
//
// A symbolic link is followed: the file it points to is written (and
// replaced), the link kept. A path that is neither a regular file nor
// missing — a device such as /dev/null or /dev/full, a named pipe, a
// socket, a link to a missing file — is refused (NotRegularError) before
// write runs: renaming over it would replace the device or pipe itself with
// a regular file, for every program on the machine.
func Write(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	if path, err = target(path); err != nil {
		return err
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	RemoveStale(dir, Match(base))
	f, err := os.CreateTemp(dir, Prefix(base)+"*")
	if err != nil {
		return TargetError(path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(f.Name()) // while still locked
		}
		if cerr := f.Close(); err == nil && cerr != nil {
			err = named(cerr, path)
		}
	}()
	if err = Lock(f); err != nil {
		return named(err, path)
	}
	// Errors name path, not the temporary, whose name means nothing to
	// the user ("write ./.m.lnm.ckpt.tmp3661767303: no space left on
	// device").
	if err = write(targetWriter{f, path}); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return named(err, path)
	}
	if err = f.Sync(); err != nil {
		return named(err, path)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return named(err, path)
	}
	renamed = true
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// targetWriter writes to the temporary f, naming path in its errors.
type targetWriter struct {
	f    *os.File
	path string
}

func (w targetWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	return n, named(err, w.path)
}

// named returns err, an error of an operation on a temporary, as one of
// the same operation on path.
func named(err error, path string) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &os.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return &os.PathError{Op: le.Op, Path: path, Err: le.Err}
	}
	return err
}

// TargetError reports err, an error of creating a temporary beside path,
// as one of creating path itself ("create DIR/x.lnm: no such file or
// directory"): the temporary's name means nothing to the user. Other
// errors are returned as they are.
func TargetError(path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return &os.PathError{Op: "create", Path: path, Err: pe.Err}
	}
	return err
}

// Check reports, before long work that ends in Write, the error Write
// would give for path because of what path is (a device, a named pipe, a
// directory, a link to a missing file) or where it is (a directory that
// does not exist or cannot be written, found by creating and removing a
// temporary there, as Write would); nil for a regular file, a link to
// one, or a missing path in a directory Write can write to.
func Check(path string) error {
	path, err := target(path)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), Prefix(filepath.Base(path))+"*")
	if err != nil {
		return TargetError(path, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// target returns the file Write replaces for path: path itself when it is
// missing or a regular file, the file a symbolic link points to, and an
// error for anything else.
func target(path string) (string, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			// Say why it cannot be followed: /dev/stdout is a link to a
			// pipe or terminal (/proc/self/fd/1), not to a missing file.
			switch st, serr := os.Stat(path); {
			case errors.Is(serr, fs.ErrNotExist):
				return "", &NotRegularError{Path: path, What: "a symbolic link to a missing file"}
			case serr != nil:
				return "", serr
			case !st.Mode().IsRegular():
				return "", &NotRegularError{Path: path, What: "a symbolic link to " + regfile.Kind(st.Mode())}
			}
			return "", err
		}
		if fi, err = os.Stat(real); err != nil {
			return "", err
		}
		path = real
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return path, nil
	case m.IsDir():
		return "", &os.PathError{Op: "write", Path: path, Err: syscall.EISDIR}
	default:
		return "", &NotRegularError{Path: path, What: regfile.Kind(m)}
	}
}

// NotRegularError is returned by Write for a path it will not replace.
type NotRegularError struct {
	Path string
	What string // "a device", "a named pipe", ...
}

// Error formats as `"/dev/full" is a device, not a regular file: lineage
// writes its files whole and renames them into place`.
func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%q is %s, not a regular file: lineage writes its files whole and renames them into place", e.Path, e.What)
}
