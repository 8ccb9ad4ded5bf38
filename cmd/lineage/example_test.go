package main

import (
	"context"
	"fmt"
	"os"
)

// Example runs a command line as main does: the root command executes it,
// and exitCode prints its error as one line and maps it to the exit status
// (2 for a mistyped command name).
func Example() {
	root := newRootCommand()
	root.SetArgs([]string{"trian", "--data", "digits"})
	root.SetOut(os.Stdout)
	root.SetErr(os.Stdout)
	err := root.ExecuteContext(context.Background())
	fmt.Println("exit status", exitCode(os.Stdout, err))
	// Output:
	// lineage: unknown command "trian"; did you mean "train"? (see lineage --help)
	// exit status 2
}
