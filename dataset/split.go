package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// DefaultSplitSeed is the seed Split uses when SplitOptions.Seed is zero.
const DefaultSplitSeed uint64 = 0x6c696e65616765 // "lineage" in ASCII

// The default split fractions.
const (
	DefaultTrain = 0.7
	DefaultVal   = 0.1
	DefaultTest  = 0.2
)

// SplitOptions configures Split. The zero value means the defaults: 70%
// train, 10% validation, 20% test, seed DefaultSplitSeed, official test set
// respected.
type SplitOptions struct {
	// Train, Val and Test are the wanted fractions; they are normalised by
	// their sum. All three zero means 0.7/0.1/0.2. Negative values, NaN or a
	// zero sum with a non-zero fraction panic (programmer error).
	Train, Val, Test float64
	// Seed seeds the per-class shuffles; zero means DefaultSplitSeed.
	Seed uint64
	// IgnoreOfficial splits all rows as if TestStart were zero.
	IgnoreOfficial bool
}

// Split is a train/validation/test partition of a dataset. Val is an empty
// (zero-row) dataset when no validation fraction was asked for, never nil.
type Split struct {
	Train, Val, Test *Dataset
}

// Split partitions d deterministically and stratified by class:
//
//  1. The rows of each class c (all rows when d is unlabelled) are taken in
//     row order and shuffled with rand.New(rand.NewPCG(seed, c)).Perm, c
//     being the class index (0 for unlabelled data).
//  2. Of the n rows of a class, the first round(n·test) go to Test, the next
//     round(n·val) to Val and the rest to Train (round half away from zero;
//     fractions normalised to sum to 1).
//  3. Each part keeps its rows in ascending original row order.
//
// When d.TestStart > 0 (and not opts.IgnoreOfficial), rows [TestStart, N)
// become Test unchanged and rows [0, TestStart) are split as above into
// Train and Val with val fraction Val/(Train+Val); the Test fraction is
// ignored.
//
// The result depends only on the class labels of the rows, the options and
// the seed: it is identical across runs and machines. With the defaults,
// digits (1,797 rows) splits into 1,259 train, 179 validation and 359 test
// rows. The parts are disjoint and together cover every row.
func (d *Dataset) Split(opts SplitOptions) Split {
	tr, va, te := opts.Train, opts.Val, opts.Test
	for _, f := range []float64{tr, va, te} {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			panic(fmt.Sprintf("dataset: Split fraction %v is not a finite non-negative number", f))
		}
	}
	if tr == 0 && va == 0 && te == 0 {
		tr, va, te = DefaultTrain, DefaultVal, DefaultTest
	}
	seed := opts.Seed
	if seed == 0 {
		seed = DefaultSplitSeed
	}
	n := d.Len()
	official := d.TestStart > 0 && d.TestStart <= n && !opts.IgnoreOfficial
	if official {
		n = d.TestStart
		te = 0
	}
	sum := tr + va + te
	if sum == 0 {
		panic("dataset: Split fractions sum to zero")
	}
	va, te = va/sum, te/sum // the training part takes the rest

	// Group rows by class in row order.
	classes := 1
	if d.Y != nil {
		classes = len(d.Labels)
	}
	byClass := make([][]int, classes)
	for i := 0; i < n; i++ {
		c := 0
		if d.Y != nil {
			c = d.Y[i]
		}
		byClass[c] = append(byClass[c], i)
	}

	part := make([]uint8, d.Len()) // 0 train, 1 val, 2 test
	for c, rows := range byClass {
		if len(rows) == 0 {
			continue
		}
		rng := rand.New(rand.NewPCG(seed, uint64(c)))
		perm := rng.Perm(len(rows))
		nTest := int(math.Round(float64(len(rows)) * te))
		nVal := int(math.Round(float64(len(rows)) * va))
		if nTest+nVal > len(rows) {
			nVal = len(rows) - nTest
		}
		for k, p := range perm {
			switch {
			case k < nTest:
				part[rows[p]] = 2
			case k < nTest+nVal:
				part[rows[p]] = 1
			}
		}
	}
	if official {
		for i := n; i < d.Len(); i++ {
			part[i] = 2
		}
	}

	var idx [3][]int
	for i, p := range part {
		idx[p] = append(idx[p], i)
	}
	s := Split{Train: d.Subset(idx[0]), Val: d.Subset(idx[1]), Test: d.Subset(idx[2])}
	s.Train.Name, s.Val.Name, s.Test.Name = d.Name+"/train", d.Name+"/val", d.Name+"/test"
	return s
}
