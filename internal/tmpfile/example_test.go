package tmpfile_test

import (
	"fmt"

	"github.com/lineage-audit/lineage/internal/tmpfile"
)

// Example shows which names are a target's temporaries.
func Example() {
	m := tmpfile.Match("case.db")
	fmt.Println(m(".case.db.tmp3k9z"), m(".case.db.tmp"), m("case.db"))
	// Output: true false false
}
