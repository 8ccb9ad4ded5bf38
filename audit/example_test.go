package audit_test

import (
	"fmt"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/model"
)

func ExampleControlRecipes() {
	rs := audit.ControlRecipes(2, 1, []int{256, 256}, model.ActReLU)
	for _, r := range rs[:4] {
		fmt.Println(r.Family, r.Derived())
	}
	fmt.Println(len(rs), "recipes")
	// Output:
	// kd-t1 true
	// kd-t1 true
	// independent-h64 false
	// independent-h64 false
	// 18 recipes
}
