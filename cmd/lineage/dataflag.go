package main

// This file loads the dataset --data names, for every command that has
// the flag, and checks that a teacher fits it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
)

// loadSplit loads a dataset by name and splits it the documented way,
// saying on stderr which classes the split holds out none of
// (warnUnheldClasses).
func loadSplit(ctx context.Context, stderr io.Writer, name string) (dataset.Split, error) {
	d, err := loadDataset(ctx, name)
	if err != nil {
		return dataset.Split{}, err
	}
	sp := d.Split(dataset.SplitOptions{})
	warnUnheldClasses(stderr, name, sp)
	return sp, nil
}

// warnUnheldClasses says on stderr, in one line, which classes of dataset
// name have no row in the split's test part: the split holds out
// round(20%) of each class, none of a class of one or two rows, so the
// test accuracy says nothing of them and an enrolment, whose probes come
// from the held-out rows, has no data or mistake probe of them (a CSV
// with a class of one row was trained and enrolled without a word).
func warnUnheldClasses(stderr io.Writer, name string, sp dataset.Split) {
	tr, va, te := sp.Train.ClassCounts(), sp.Val.ClassCounts(), sp.Test.ClassCounts()
	if te == nil {
		return
	}
	var thin []string
	for c, n := range te {
		if rows := tr[c] + va[c]; n == 0 && rows > 0 {
			thin = append(thin, fmt.Sprintf("%q (%d row%s)", sp.Test.Labels[c], rows, plural(rows)))
		}
	}
	if len(thin) == 0 {
		return
	}
	what, them := "class "+thin[0]+" has", "it"
	if len(thin) > 1 {
		what, them = "classes "+strings.Join(thin, ", ")+" have", "them"
	}
	fmt.Fprintf(stderr, "lineage: dataset %q: %s no row in the test split (it holds out 20%% of each class, none of a class of 1 or 2 rows): the test accuracy says nothing of %s, and an enrolment has no held-out probe of %s\n", name, what, them, them)
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

// checkDataName fails with loadDataset's usage error when name is neither
// a dataset lineage knows nor a file, without loading it: for bench kd,
// whose datasets bench.RunKD loads, so that a mistyped name there is a
// usage error (exit 2) as in every other command.
func checkDataName(ctx context.Context, name string) error {
	if slices.Contains(dataset.Names, name) {
		return nil
	}
	if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
		_, err := loadDataset(ctx, name)
		return err
	}
	return nil
}

// checkTeacherFits fails, naming both, when the teacher ref (its info)
// does not take the features of dataset name (d) or does not list its
// labels (in its order, unless anyOrder), for distill and enroll: an
// error of the inputs (exit 1), not of the flags.
func checkTeacherFits(ref string, info model.Info, name string, d *dataset.Dataset, anyOrder bool) error {
	ref = remote.StripCredentials(ref)
	if info.InputSize != 0 && info.InputSize != d.Dim() {
		return fmt.Errorf("teacher %q takes %d inputs but dataset %q has %d features", ref, info.InputSize, name, d.Dim())
	}
	if _, ok := model.LabelColumns(info.Labels, d.Labels); !ok || !anyOrder && !slices.Equal(info.Labels, d.Labels) {
		hint := ""
		if ok { // the same labels in another order, which enroll does not take
			hint = ": the same labels in another order, and enrol takes a teacher in the dataset's order only (reorder its last layer's rows and its labels to match)"
		}
		return fmt.Errorf("teacher %q has labels [%s] but dataset %q has labels [%s]%s", ref,
			strings.Join(info.Labels, " "), name, strings.Join(d.Labels, " "), hint)
	}
	return nil
}

// warnReordered says on stderr that the model ref lists the labels of
// what (the dataset, say) in another order, so that its answers are read
// aligned to them by label name (model.InLabelOrder); nothing when the
// order is the same or the labels are not the same set.
func warnReordered(stderr io.Writer, ref string, got []string, what string, want []string) {
	if cols, ok := model.LabelColumns(got, want); ok && cols != nil {
		fmt.Fprintf(stderr, "lineage: %s lists the %s's labels in another order (%s); its answers were aligned to the %s's (%s) by label name\n",
			remote.StripCredentials(ref), what, model.LabelList(got), what, model.LabelList(want))
	}
}
