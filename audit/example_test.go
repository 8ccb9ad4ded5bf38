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
	fmt.Println(len(rs), "recipes,", audit.UnderTrainedControls(2), "of them under-trained:", rs[len(rs)-1])
	// Output:
	// kd-t1 true
	// kd-t1 true
	// independent-h64 false
	// independent-h64 false
	// 22 recipes, 4 of them under-trained: under-trained-teacher-arch seed=729117 hidden=256,256 act=relu epochs=2

}
