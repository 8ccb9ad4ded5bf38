// Command mkfashionsmall writes the committed fashion-mnist-small subset:
// a stratified sample of the official Fashion-MNIST files (200 training and
// 50 test images per class, chosen by a seeded PCG shuffle per class and
// kept in their original order) as gzipped IDX files.
//
// Usage, from the dataset directory (needs the Debian package
// dataset-fashion-mnist):
//
//	go generate ./dataset
//	go run ./internal/mkfashionsmall [-src DIR] [-dst DIR]
//
// The output is deterministic for a given Go release.
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/lineage-audit/lineage/dataset"
)

const seed = 2017 // Fashion-MNIST's publication year

func main() {
	src := flag.String("src", dataset.FashionMNISTDir, "directory with the official Fashion-MNIST files")
	dst := flag.String("dst", "data/fashion-mnist-small", "output directory")
	flag.Parse()
	if err := os.MkdirAll(*dst, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, part := range []struct {
		prefix   string
		perClass int
		stream   uint64
	}{{"train", 200, 1}, {"t10k", 50, 2}} {
		imgs := read(filepath.Join(*src, part.prefix+"-images-idx3-ubyte.gz"))
		labs := read(filepath.Join(*src, part.prefix+"-labels-idx1-ubyte.gz"))
		keep := sample(labs.Data, part.perClass, rand.New(rand.NewPCG(seed, part.stream)))
		d := imgs.Dims[1] * imgs.Dims[2]
		outImg := &dataset.IDX{Dims: []int{len(keep), imgs.Dims[1], imgs.Dims[2]}}
		outLab := &dataset.IDX{Dims: []int{len(keep)}}
		for _, i := range keep {
			outImg.Data = append(outImg.Data, imgs.Data[i*d:(i+1)*d]...)
			outLab.Data = append(outLab.Data, labs.Data[i])
		}
		write(filepath.Join(*dst, part.prefix+"-images-idx3-ubyte.gz"), outImg)
		write(filepath.Join(*dst, part.prefix+"-labels-idx1-ubyte.gz"), outLab)
		fmt.Printf("%s: %d of %d images\n", part.prefix, len(keep), imgs.Dims[0])
	}
}

// sample returns perClass row indices of every class, chosen by shuffling
// each class's rows (in file order) with rng, sorted ascending.
func sample(labels []byte, perClass int, rng *rand.Rand) []int {
	var byClass [256][]int
	for i, c := range labels {
		byClass[c] = append(byClass[c], i)
	}
	var keep []int
	for _, rows := range byClass {
		if len(rows) == 0 {
			continue
		}
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		keep = append(keep, rows[:min(perClass, len(rows))]...)
	}
	slices.Sort(keep)
	return keep
}

func read(path string) *dataset.IDX {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	x, err := dataset.ReadIDX(f)
	if err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	return x
}

func write(path string, x *dataset.IDX) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		log.Fatal(err)
	}
	if err := dataset.WriteIDX(zw, x); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
