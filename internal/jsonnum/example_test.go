package jsonnum_test

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/internal/jsonnum"
)

func ExampleFloat() {
	b, _ := json.Marshal([]jsonnum.Float{0.25, jsonnum.Float(math.NaN())})
	fmt.Println(string(b))
	var back []jsonnum.Float
	_ = json.Unmarshal(b, &back)
	fmt.Println(back[0], math.IsNaN(float64(back[1])))
	// Output:
	// [0.25,null]
	// 0.25 true
}
