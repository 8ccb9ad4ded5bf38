package main

// This file checks, before any work, the files a command will write.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lineage-audit/lineage/internal/regfile"
	"github.com/lineage-audit/lineage/internal/tmpfile"
	"github.com/lineage-audit/lineage/model"
)

// checkOut checks, before any training, that --out can be written: a
// model file name in a directory that exists, not a directory itself.
func checkOut(path string) error {
	if !strings.HasSuffix(path, ".lnm") && !strings.HasSuffix(path, ".safetensors") {
		return usageError{fmt.Errorf("--out %q: the model file must end in .lnm or .safetensors", path)}
	}
	if err := checkDest("--out", path); err != nil {
		return err
	}
	if err := tmpfile.Check(path); err != nil {
		return usageError{fmt.Errorf("--out %q: %w", path, regfile.Cause(err, path))}
	}
	return nil
}

// checkDest checks, before any work, that a file the command writes
// (flag names it, through a temporary renamed over it) is not a directory
// and is in a directory that exists and can be written; each is a usage
// error.
func checkDest(flag, path string) error {
	if err := checkDestDir(flag, path); err != nil {
		return err
	}
	// What the file is, which Write refuses to replace (a link to a
	// missing file, a device, a named pipe): found after the work, with
	// the report's other figures written (report --plot of two teachers
	// wrote the first, then failed on the second's dangling link).
	var nr *tmpfile.NotRegularError
	if err := tmpfile.Check(path); errors.As(err, &nr) {
		return usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return checkWritableDir(flag, path)
}

// checkDestDir is checkDest without the check that the directory can be
// written, for a file written in place.
func checkDestDir(flag, path string) error {
	switch fi, err := os.Stat(path); {
	case err == nil && fi.IsDir():
		return usageError{fmt.Errorf("%s %q is a directory", flag, path)}
	case errors.Is(err, syscall.ENAMETOOLONG), errors.Is(err, syscall.ELOOP):
		// Else found only when the file was written, after the work,
		// and said without the flag: "lstat NAME: file name too long".
		return usageError{fmt.Errorf("%s %q: %w", flag, path, regfile.Cause(err, path))}
	}
	dir := filepath.Dir(path)
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
		return usageError{fmt.Errorf("%s %q: directory %q does not exist", flag, path, dir)}
	case err != nil:
		return usageError{fmt.Errorf("%s %q: directory %q: %w", flag, path, dir, regfile.Cause(err, dir))}
	case !fi.IsDir():
		return usageError{fmt.Errorf("%s %q: %q is not a directory", flag, path, dir)}
	}
	return nil
}

// checkWritableDir fails with a usage error when a file cannot be created
// in path's directory (read-only, or another user's), which was found
// when the file was written, after the work.
func checkWritableDir(flag, path string) error {
	if err := tmpfile.Check(path); errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return nil
}

// isModelFile reports whether path is a regular file holding a model: a
// .lnm file's magic bytes, or a .safetensors file lineage reads.
func isModelFile(path string) bool {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return false
	}
	if strings.HasSuffix(path, ".safetensors") {
		_, err := model.LoadSafetensors(path)
		return err == nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(model.Magic))
	_, err = io.ReadFull(f, b)
	return err == nil && string(b) == model.Magic
}
