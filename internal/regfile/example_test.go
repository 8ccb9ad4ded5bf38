package regfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/lineage-audit/lineage/internal/regfile"
)

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "regfile")
	defer os.RemoveAll(dir)
	_, err := regfile.Open(dir)
	fmt.Println(err != nil)
	path := filepath.Join(dir, "data.csv")
	os.WriteFile(path, []byte("1,a\n"), 0o644)
	f, err := regfile.Open(path)
	fmt.Println(err)
	f.Close()
	// Output:
	// true
	// <nil>
}
