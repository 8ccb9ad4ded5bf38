package tmpfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Write writes path atomically: it removes the stale temporaries of path
// (RemoveStale), creates its own (".BASE.tmp" and a random suffix) in
// path's directory, locks it (Lock), lets write fill it, sets its mode to
// perm, syncs it and renames it over path, still locked, then syncs the
// directory (best effort) so the rename is durable. On any error the
// temporary is removed and path is left as it was; a forced exit may leave
// the temporary, which the next Write to path removes. Errors are the
// os package's or write's, unwrapped; those of creating the temporary
// (a missing or read-only directory) and a path that is a directory are
// reported on path itself (TargetError), before write runs.
func Write(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &os.PathError{Op: "write", Path: path, Err: syscall.EISDIR}
	}
	dir, base := filepath.Dir(path), filepath.Base(path)
	RemoveStale(dir, Match(base))
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return TargetError(path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			os.Remove(f.Name()) // while still locked
		}
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if err = Lock(f); err != nil {
		return err
	}
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	renamed = true
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
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
