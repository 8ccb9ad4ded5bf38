package dataset_test

import (
	"context"
	"fmt"

	"github.com/lineage-audit/lineage/dataset"
)

func ExampleDigits() {
	d := dataset.Digits()
	lo, hi := d.Range()
	fmt.Printf("%s: %d rows × %d features in [%g, %g], %d classes\n", d.Name, d.Len(), d.Dim(), lo, hi, len(d.Labels))

	s := d.Split(dataset.SplitOptions{}) // 70/10/20, DefaultSplitSeed
	fmt.Println("train", s.Train.Len(), "val", s.Val.Len(), "test", s.Test.Len())
	// Output:
	// digits: 1797 rows × 64 features in [0, 16], 10 classes
	// train 1259 val 179 test 359
}

func ExampleLoad() {
	d, err := dataset.Load(context.Background(), "fashion-mnist-small", dataset.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := d.Split(dataset.SplitOptions{}) // keeps the official test images
	fmt.Println(d.Len(), d.Dim(), d.Labels[9])
	fmt.Println("train", s.Train.Len(), "val", s.Val.Len(), "test", s.Test.Len())
	// Output:
	// 2500 784 Ankle boot
	// train 1750 val 250 test 500
}

func ExampleStandardizer() {
	d := dataset.Digits()
	mean, std := dataset.Standardizer(d)
	// Pixel 0 is blank in every digit: its std is floored to 1.
	fmt.Printf("pixel 0: mean %g std %g\n", mean[0], std[0])
	fmt.Printf("pixel 2: mean %.3f std %.3f\n", mean[2], std[2])
	// Output:
	// pixel 0: mean 0 std 1
	// pixel 2: mean 5.205 std 4.754
}
