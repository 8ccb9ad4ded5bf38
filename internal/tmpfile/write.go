package tmpfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write writes path atomically: it removes the stale temporaries of path
// (RemoveStale), creates its own (".BASE.tmp" and a random suffix) in
// path's directory, locks it (Lock), lets write fill it, sets its mode to
// perm, syncs it and renames it over path, still locked, then syncs the
// directory (best effort) so the rename is durable. On any error the
// temporary is removed and path is left as it was; a forced exit may leave
// the temporary, which the next Write to path removes. Errors are the
// os package's (they name the file) or write's, unwrapped.
func Write(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	RemoveStale(dir, Match(base))
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
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
