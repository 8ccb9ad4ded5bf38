package main

import (
	"fmt"
	"math/rand/v2"
)

// Example_sample keeps two rows of each class (all of class 2, which has
// only one), chosen by a seeded shuffle and returned in file order.
func Example_sample() {
	labels := []byte{0, 1, 0, 1, 2, 0, 1, 0}
	fmt.Println(sample(labels, 2, rand.New(rand.NewPCG(seed, 1))))
	// Output:
	// [1 2 4 5 6]
}
