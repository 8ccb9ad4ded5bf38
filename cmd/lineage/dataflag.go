package main

// This file loads the dataset --data names, for every command that has
// the flag.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/lineage-audit/lineage/dataset"
)

// loadSplit loads a dataset by name and splits it the documented way.
func loadSplit(ctx context.Context, name string) (dataset.Split, error) {
	d, err := loadDataset(ctx, name)
	if err != nil {
		return dataset.Split{}, err
	}
	return d.Split(dataset.SplitOptions{}), nil
}

// loadDataset loads the dataset --data names. A name that is neither a
// dataset lineage knows nor a file is a usage error (a mistyped --data);
// a file that cannot be read as a dataset is an error of that file.
func loadDataset(ctx context.Context, name string) (*dataset.Dataset, error) {
	d, err := dataset.Load(ctx, name, dataset.LoadOptions{})
	if errors.Is(err, dataset.ErrUnknown) {
		if _, statErr := os.Lstat(name); errors.Is(statErr, fs.ErrNotExist) {
			return nil, usageError{fmt.Errorf("--data: %w", err)}
		}
	}
	return d, err
}
