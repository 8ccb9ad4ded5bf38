package distill_test

import (
	"context"
	"fmt"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/distill"
)

// ExampleObjective evaluates Hinton's soft-target loss on one row.
func ExampleObjective() {
	loss, _ := distill.ParseLoss("kl")
	obj := distill.Objective{Loss: loss, Temperature: 2}
	logits := []float32{2, 0, -2}
	teacher := []float32{0.7, 0.2, 0.1}
	grad := make([]float32, 3)
	v := obj.Row(grad, logits, teacher, -1, nil)
	fmt.Printf("T²·KL = %.4f, ∂/∂z = [%.3f %.3f %.3f]\n", v, grad[0], grad[1], grad[2])
	// Output: T²·KL = 0.2664, ∂/∂z = [0.285 -0.070 -0.215]
}

// ExampleTrain distils a small student from a teacher trained on the hard
// labels of the embedded digits.
func ExampleTrain() {
	ctx := context.Background()
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	teacher, err := distill.Train(ctx, distill.Config{Train: sp.Train, Hidden: []int{32}, Epochs: 5, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	student, err := distill.Train(ctx, distill.Config{
		Train: sp.Train, Teacher: teacher.Student, Hidden: []int{16}, Epochs: 5, Seed: 1,
		Transfer: "data,mixup", Queries: 2000, Reveal: "topk:3",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("queries:", student.Queries, "epochs:", student.Epochs)
	fmt.Println(student.Student.Prov.Transfer, student.Student.Prov.Reveal)
	// Output:
	// queries: 2000 epochs: 5
	// data,mixup topk:3
}
