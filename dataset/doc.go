// Package dataset loads, hashes, splits and standardises the tabular
// classification data lineage trains and probes models on.
//
// A Dataset is an N×D float32 matrix of raw features (row-major
// blas32.General), a class index per row and the class names, identified by
// Hash, the hex SHA-256 of its canonical contents (see CanonicalHash).
//
// # Sources
//
// Load dispatches on a name:
//
//   - "digits" is embedded in the binary: 1,797 8×8 handwritten digits,
//     64 features with integer values 0..16, classes "0".."9". It is the
//     test set of the UCI Optical Recognition of Handwritten Digits data
//     (E. Alpaydin and C. Kaynak, 1998; "Cascading Classifiers", Kybernetika),
//     as shipped with scikit-learn (sklearn/datasets/data/digits.csv.gz),
//     licensed CC BY 4.0.
//   - "fashion-mnist" reads the official Fashion-MNIST files (H. Xiao,
//     K. Rasul and R. Vollgraf, 2017, "Fashion-MNIST: a Novel Image Dataset
//     for Benchmarking Machine Learning Algorithms"; Copyright 2017 Zalando
//     SE, MIT licence) installed by the Debian package dataset-fashion-mnist
//     under /usr/share/datasets/fashion-mnist: 70,000 28×28 images as 784
//     features 0..255, ten clothing classes (FashionLabels), the last 10,000
//     rows being the official test set (Dataset.TestStart).
//   - "fashion-mnist-small" is an embedded stratified subset of it (2,000
//     training and 500 test images), made by internal/mkfashionsmall, for
//     tests and demos on machines without the package.
//   - a .csv path is read by ReadCSV; an IDX images path (MNIST format,
//     gzipped or not) by LoadIDX with the labels file beside it.
//
// # Splits
//
// Dataset.Split makes a deterministic stratified train/validation/test
// split, 70/10/20 by default with seed DefaultSplitSeed; its doc comment
// states the exact procedure so that figures from different runs and
// machines are comparable. Datasets with an official test set keep it.
//
// # Standardisation
//
// Standardizer returns per-feature means and standard deviations for
// model.Normalization, with constant features mapped to std 1.
package dataset

//go:generate go run ./internal/mkfashionsmall
