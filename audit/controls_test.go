package audit

import (
	"testing"

	"github.com/lineage-audit/lineage/model"
)

func TestControlRecipes(t *testing.T) {
	rs := ControlRecipes(4, 1, []int{128}, model.ActReLU)
	pos, neg, under := 0, 0, 0
	seeds := map[uint64]bool{}
	for i, r := range rs {
		switch {
		case r.Derived():
			pos++
		case r.UnderTrained:
			under++
			if r.Epochs == 0 || r.Epochs >= 10 {
				t.Errorf("under-trained recipe %d (%s) trains %d epochs; want an under-trained model", i, r.Family, r.Epochs)
			}
		default:
			neg++
			if under > 0 {
				t.Errorf("recipe %d (%s) follows an under-trained one; they must come last, outside the alternating halves", i, r.Family)
			}
		}
		seeds[r.Seed] = true
	}
	if pos != 4 || neg != 4*NegativesPerPositive || under != UnderTrainedControls(4) {
		t.Errorf("got %d positive, %d negative, %d under-trained recipes; want 4, %d and %d", pos, neg, under, 4*NegativesPerPositive, UnderTrainedControls(4))
	}
	if len(seeds) != len(rs) {
		t.Errorf("%d distinct seeds for %d recipes", len(seeds), len(rs))
	}
	for i := 0; i+1 < len(rs); i += 2 {
		if rs[i].Family != rs[i+1].Family {
			t.Errorf("recipes %d and %d are %s and %s; pairs must share a family so both halves get it", i, i+1, rs[i].Family, rs[i+1].Family)
		}
	}
}

// TestPositiveControls checks that PositiveControls counts the positive
// recipes ControlRecipes makes (an odd --controls is rounded up), since
// enroll's rerun check compares it with the stored report.
func TestPositiveControls(t *testing.T) {
	for _, k := range []int{1, 2, 3, 4, 5, 16, 17} {
		pos := 0
		for _, r := range ControlRecipes(k, 1, []int{128}, model.ActReLU) {
			if r.Derived() {
				pos++
			}
		}
		if got := PositiveControls(k); got != pos || got%2 != 0 || got < k {
			t.Errorf("PositiveControls(%d) = %d; ControlRecipes made %d (want equal, even, ≥ k)", k, got, pos)
		}
	}
}
