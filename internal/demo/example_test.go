package demo_test

import (
	"fmt"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/internal/demo"
)

func ExampleResult_Correct() {
	r := &demo.Result{Suspects: []demo.Suspect{
		{Model: demo.Model{Name: "copy", Derived: true}, Audit: audit.TeacherResult{Verdict: audit.Derived}},
		{Model: demo.Model{Name: "rival"}, Audit: audit.TeacherResult{Verdict: audit.NotDerived}},
	}}
	fmt.Println(r.Correct())
	// Output: true
}
