package bench

import (
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
)

func TestFamiliesSizes(t *testing.T) {
	tests := []struct {
		quick          bool
		minPos, minNeg int
		wantFams       int
	}{
		{quick: false, minPos: 40, minNeg: 100, wantFams: 27},
		{quick: true, minPos: 1, minNeg: 1, wantFams: len(QuickFamilies)},
	}
	for _, tc := range tests {
		fams := Families(tc.quick, []int{256, 256}, model.ActReLU)
		if len(fams) != tc.wantFams {
			t.Errorf("quick=%v: got %d families, want %d", tc.quick, len(fams), tc.wantFams)
		}
		pos, neg := 0, 0
		names := map[string]bool{}
		for _, f := range fams {
			if names[f.Name] {
				t.Errorf("quick=%v: duplicate family %q", tc.quick, f.Name)
			}
			names[f.Name] = true
			if f.Recipe.Family != f.Name {
				t.Errorf("family %q: recipe family %q", f.Name, f.Recipe.Family)
			}
			if got, want := f.Recipe.Derived(), f.Kind == Positive; got != want {
				t.Errorf("family %q (%s): recipe derived = %v", f.Name, f.Kind, got)
			}
			if f.Limit != "" && f.Kind != Positive {
				t.Errorf("family %q (%s) has a limit; only positive families can be beyond reach", f.Name, f.Kind)
			}
			if f.Reason != "" && f.Limit != "" {
				t.Errorf("family %q (%s) has both a reason and a limit; a reason explains misses of a family within reach", f.Name, f.Kind)
			}
			if tc.quick && f.N != 1 {
				t.Errorf("quick family %q: n = %d, want 1", f.Name, f.N)
			}
			if f.Kind == Positive {
				pos += f.N
			} else {
				neg += f.N
			}
		}
		if pos < tc.minPos || neg < tc.minNeg {
			t.Errorf("quick=%v: got %d positives and %d negatives, want at least %d and %d", tc.quick, pos, neg, tc.minPos, tc.minNeg)
		}
	}
}

func TestFamiliesTeacherRecipe(t *testing.T) {
	seen := 0
	for _, f := range Families(false, []int{128, 32}, model.ActTanh) {
		if f.Name != "teacher-recipe" && f.Name != "teacher-arch-torch" {
			continue
		}
		seen++
		if len(f.Recipe.Hidden) != 2 || f.Recipe.Hidden[0] != 128 || f.Recipe.Activation != model.ActTanh {
			t.Errorf("%s: got hidden %v act %q, want [128 32] tanh", f.Name, f.Recipe.Hidden, f.Recipe.Activation)
		}
	}
	if seen != 2 {
		t.Fatalf("%d of the families teacher-recipe and teacher-arch-torch, want both", seen)
	}
}

func TestSuspectsSeeds(t *testing.T) {
	fams := Families(false, []int{256, 256}, model.ActReLU)
	reserved := []uint64{1_000_123, 2_000_456}
	a := Suspects(fams, 1, 2, reserved...)
	b := Suspects(fams, 1, 2, reserved...)
	c := Suspects(fams, 2, 2, reserved...)
	controls := map[uint64]bool{}
	for _, r := range audit.ControlRecipes(audit.DefaultControls, 1, []int{256, 256}, model.ActReLU) {
		controls[r.Seed] = true
	}
	seen := map[uint64]bool{reserved[0]: true, reserved[1]: true}
	others := map[int]int{}
	same := 0
	for i, s := range a {
		if s.Recipe.Seed != b[i].Recipe.Seed {
			t.Fatalf("suspect %s: seed %d then %d for the same experiment seed", s.Name, s.Recipe.Seed, b[i].Recipe.Seed)
		}
		if s.Recipe.Seed == c[i].Recipe.Seed {
			same++
		}
		if s.Recipe.Seed < seedBase || controls[s.Recipe.Seed] {
			t.Errorf("suspect %s: seed %d may collide with an enrolment control", s.Name, s.Recipe.Seed)
		}
		if seen[s.Recipe.Seed] {
			t.Errorf("suspect %s: seed %d used twice", s.Name, s.Recipe.Seed)
		}
		seen[s.Recipe.Seed] = true
		if s.Recipe.Source == audit.FromOther {
			others[s.Other]++
		} else if s.Other != 0 {
			t.Errorf("suspect %s: other teacher %d for a %s recipe", s.Name, s.Other, s.Recipe.Source)
		}
	}
	if same > 0 {
		t.Errorf("%d suspects got the same seed under experiment seeds 1 and 2", same)
	}
	if want := DefaultNegativesPerFamily; others[0] == 0 || others[1] == 0 || others[0]+others[1] != want {
		t.Errorf("student-of-other suspects per extra teacher: got %v, want both of 2 teachers used, %d in all", others, want)
	}
}

// TestSuspectsKinds checks that each suspect carries its family's name and
// kind, N of them per family in family order: bench detect counts a
// suspect as a positive or a negative by this kind.
func TestSuspectsKinds(t *testing.T) {
	fams := Families(true, []int{16}, model.ActReLU)
	sus := Suspects(fams, 1, 1)
	i := 0
	for _, f := range fams {
		for j := range f.N {
			if i >= len(sus) {
				t.Fatalf("%d suspects, want more (family %s)", len(sus), f.Name)
			}
			if s := sus[i]; s.Family != f.Name || s.Kind != f.Kind {
				t.Errorf("suspect %d (%s, %d of family %s): family %s kind %s, want %s %s", i, s.Name, j, f.Name, s.Family, s.Kind, f.Name, f.Kind)
			}
			i++
		}
	}
	if i != len(sus) {
		t.Errorf("%d suspects, want %d", len(sus), i)
	}
}

func TestCheckSeeds(t *testing.T) {
	tests := []struct {
		recipe  string
		used    uint64
		wantErr bool
	}{
		{recipe: "kd-t1 seed=42 hidden=64", used: 43, wantErr: false},
		{recipe: "kd-t1 seed=42 hidden=64", used: 42, wantErr: true},
		{recipe: "free text", used: 42, wantErr: false},
	}
	for _, tc := range tests {
		e := enrolledWithRecipe(tc.recipe)
		err := checkSeeds(e, map[uint64]bool{tc.used: true})
		if got := err != nil; got != tc.wantErr {
			t.Errorf("recipe %q, used %d: got error %v, want error %v", tc.recipe, tc.used, err, tc.wantErr)
		}
	}
}

func enrolledWithRecipe(recipe string) *audit.Enrolled {
	e := &audit.Enrolled{}
	e.Enrolment = &store.Enrolment{Name: "x", Controls: []store.Control{{FP: "x/control-00", Role: store.RoleNegative, Recipe: recipe}}}
	return e
}

// TestFamiliesOtherData checks that on data other than digits the
// families' reasons, measured on digits, say so, and that the report names
// the dataset.
func TestFamiliesOtherData(t *testing.T) {
	digits := DetectOptions{}.withDefaults()
	if got := digits.Data.Name; got != "digits" {
		t.Fatalf("default data: got %q, want digits", got)
	}
	d := dataset.Digits()
	d.Name = "other"
	other := DetectOptions{Data: d}.withDefaults()
	n := 0
	for i, f := range other.Families {
		want := digits.Families[i].Reason
		if want != "" {
			n++
			want = "measured on digits, not on other: " + want
		}
		if f.Reason != want {
			t.Errorf("family %s: got reason %q, want %q", f.Name, f.Reason, want)
		}
	}
	if n == 0 {
		t.Fatal("no family has a reason")
	}
	if got := summarize(other, nil, &baseline{}).Dataset; got != "other" {
		t.Errorf("report dataset: got %q, want other", got)
	}
}
