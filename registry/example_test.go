package registry_test

import (
	"os"

	"github.com/lineage-audit/lineage/registry"
	"github.com/lineage-audit/lineage/report"
)

// A similarity matrix names a suspect by its name, not by the fingerprint
// it was measured on, and a model of another enrolment with its role
// there.
func ExampleSummary_Tables() {
	m := registry.Matrix{Teacher: "acme", Statistic: registry.StatAgreement,
		Models: []registry.ModelRole{
			{ID: "acme/teacher", Role: "teacher"},
			{ID: "beta/teacher", Role: "teacher", Enrolment: "beta"},
			{ID: "s2@acme", Role: "suspect", Suspect: "s2"},
		},
		Values: [][]float64{{1, 0.9, 0.8}, {0.9, 1, 0.7}, {0.8, 0.7, 1}}}
	sum := registry.Summary{Matrices: []registry.Matrix{m}}
	if err := report.Render(os.Stdout, sum.Tables()[1], report.FormatCSV); err != nil {
		panic(err)
	}
	// Output:
	// "#",model,role,1,2,3
	// 1,teacher,teacher,1,0.9,0.8
	// 2,beta/teacher,teacher of beta,0.9,1,0.7
	// 3,s2,suspect,0.8,0.7,1
}
