package dataset

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

//go:embed data/digits.csv.gz data/fashion-mnist-small
var dataFS embed.FS

// DigitLabels are the class names of the digits dataset.
var DigitLabels = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// FashionLabels are the ten Fashion-MNIST class names, in class-index order.
var FashionLabels = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// FashionMNISTDir is where the Debian package dataset-fashion-mnist
// installs the Fashion-MNIST files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// fashionFiles are the Fashion-MNIST file names: train images, train
// labels, test images, test labels.
var fashionFiles = []string{
	"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
}

// ErrNotInstalled means a named dataset's files are not on this machine.
var ErrNotInstalled = errors.New("not installed")

var digits = sync.OnceValues(func() (*Dataset, error) { return loadDigits() })

// loadDigits parses the embedded digits CSV.
func loadDigits() (*Dataset, error) {
	raw, err := dataFS.ReadFile("data/digits.csv.gz")
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return ReadCSV(zr, CSVOptions{Name: "digits", Header: HeaderAbsent, Labels: slices.Clone(DigitLabels)})
}

// Digits returns the embedded digits dataset: 1,797 8×8 images of
// handwritten digits as 64 raw features with integer values 0..16, labelled
// "0".."9" (class i is digit i). The file is parsed once; every call
// returns a fresh deep copy the caller may modify.
func Digits() *Dataset {
	d, err := digits()
	if err != nil {
		panic("dataset: embedded digits are corrupt: " + err.Error())
	}
	return d.clone()
}

// clone returns a deep copy of d's X and Y (Labels shared).
func (d *Dataset) clone() *Dataset {
	c := *d
	c.X.Data = slices.Clone(d.X.Data)
	c.Y = slices.Clone(d.Y)
	c.Labels = slices.Clone(d.Labels)
	return &c
}

// FashionMNIST loads the full Fashion-MNIST dataset (Xiao, Rasul & Vollgraf
// 2017) from dir, or FashionMNISTDir when dir is "": 60,000 training then
// 10,000 test images of 28×28 = 784 raw pixel values 0..255, classes
// FashionLabels, TestStart 60,000 so Split keeps the official test set.
// When the files are missing the error wraps ErrNotInstalled.
func FashionMNIST(ctx context.Context, dir string) (*Dataset, error) {
	if dir == "" {
		dir = FashionMNISTDir
	}
	for _, f := range fashionFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("dataset %q: %w (apt-get install dataset-fashion-mnist)", "fashion-mnist", ErrNotInstalled)
		}
	}
	return loadFashion(ctx, os.DirFS(dir), "fashion-mnist")
}

// FashionMNISTSmall returns the embedded stratified Fashion-MNIST subset:
// 2,000 training images (200 per class) then 500 test images (50 per
// class), TestStart 2,000, in the same format as FashionMNIST. It was made
// by dataset/internal/mkfashionsmall from the official files.
func FashionMNISTSmall(ctx context.Context) (*Dataset, error) {
	sub, err := fs.Sub(dataFS, "data/fashion-mnist-small")
	if err != nil {
		return nil, err
	}
	return loadFashion(ctx, sub, "fashion-mnist-small")
}

// loadFashion reads the four Fashion-MNIST files from fsys and joins train
// and test.
func loadFashion(ctx context.Context, fsys fs.FS, name string) (*Dataset, error) {
	d, counts, err := loadIDX(ctx, fsys, name, slices.Clone(FashionLabels),
		fashionFiles...)
	if err != nil {
		return nil, fmt.Errorf("dataset %q: %w", name, err)
	}
	d.TestStart = counts[0]
	return d, nil
}
