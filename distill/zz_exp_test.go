package distill

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

func accOf(m model.Model, d *dataset.Dataset) float64 {
	p, _ := m.Predict(context.Background(), d.X)
	c := 0
	for i := 0; i < d.Len(); i++ {
		if argmax32(p.Data[i*p.Stride:(i+1)*p.Stride]) == d.Y[i] {
			c++
		}
	}
	return float64(c) / float64(d.Len())
}

func agreeOf(a, b model.Model, d *dataset.Dataset) float64 {
	p, _ := a.Predict(context.Background(), d.X)
	q, _ := b.Predict(context.Background(), d.X)
	c := 0
	for i := 0; i < d.Len(); i++ {
		if argmax32(p.Data[i*p.Stride:(i+1)*p.Stride]) == argmax32(q.Data[i*q.Stride:(i+1)*q.Stride]) {
			c++
		}
	}
	return float64(c) / float64(d.Len())
}

func envI(k string, def int) int { if v, err := strconv.Atoi(os.Getenv(k)); err == nil { return v }; return def }
func envF(k string, def float64) float64 { if v, err := strconv.ParseFloat(os.Getenv(k), 64); err == nil { return v }; return def }

func TestZZExp(t *testing.T) {
	if os.Getenv("EXP") == "" { t.Skip() }
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	t0 := time.Now()
	tres, err := Train(context.Background(), Config{Train: sp.Train, Val: sp.Val, Hidden: []int{256, 256}, Seed: uint64(envI("TSEED", 1)), Activation: model.Activation(os.Getenv("TACT")), Schedule: os.Getenv("TSCH"),
		Epochs: envI("TE", 0), LR: envF("TLR", 0), BatchSize: envI("TB", 0), WeightDecay: envF("TWD", 0), Optimizer: os.Getenv("TOPT")})
	if err != nil { t.Fatal(err) }
	teacher := tres.Student
	fmt.Printf("teacher test %.4f val %.4f loss %.4f %v\n", accOf(teacher, sp.Test), tres.ValAccuracy, tres.TrainLoss, time.Since(t0))
	t0 = time.Now()
	sres, err := Train(context.Background(), Config{Train: sp.Train, Val: sp.Val, Teacher: teacher, Hidden: []int{16}, Seed: 1, Temperature: 4, Alpha: 0.9,
		Epochs: envI("SE", 0), LR: envF("SLR", 0), BatchSize: envI("SB", 0)})
	if err != nil { t.Fatal(err) }
	fmt.Printf("student16 test %.4f agree %.4f %v\n", accOf(sres.Student, sp.Test), agreeOf(sres.Student, teacher, sp.Test), time.Since(t0))
	t0 = time.Now()
	mres, err := Train(context.Background(), Config{Train: sp.Train, Val: sp.Val, Teacher: teacher, Hidden: []int{64}, Seed: 1, Transfer: "mixup", Reveal: "label", Queries: 5000,
		Epochs: envI("ME", 0), LR: envF("MLR", 0), BatchSize: envI("MB", 0)})
	if err != nil { t.Fatal(err) }
	fmt.Printf("mixup64 test %.4f agree %.4f %v\n", accOf(mres.Student, sp.Test), agreeOf(mres.Student, teacher, sp.Test), time.Since(t0))
}
