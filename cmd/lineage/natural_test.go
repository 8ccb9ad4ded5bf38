package main

import (
	"slices"
	"testing"
)

func TestNaturalCompare(t *testing.T) {
	want := []string{"a", "acme/control-00", "acme/control-9", "acme/control-10", "acme/control-99", "acme/control-100", "acme/control-101", "acme/teacher", "b1", "b01x", "b1x", "b2"}
	got := slices.Clone(want)
	for i := range got { // reversed, then sorted back
		j := len(got) - 1 - i
		if i < j {
			got[i], got[j] = got[j], got[i]
		}
	}
	slices.SortFunc(got, naturalCompare)
	if !slices.Equal(got, want) {
		t.Errorf("natural order: got %q, want %q", got, want)
	}
	for _, s := range want {
		if naturalCompare(s, s) != 0 {
			t.Errorf("naturalCompare(%q, itself) != 0", s)
		}
	}
}
