package audit

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// TestEnrollOptionsCheck pins the bounds of EnrollOptions: zero values
// (the defaults) and values up to the maxima pass, anything negative, too
// few controls or above a maximum is an *OptionError wrapping ErrOptions
// that names the option and the values allowed (a negative number of
// controls was told "want 0 (the default) to 256", though 1 and 2 are
// refused too).
func TestEnrollOptionsCheck(t *testing.T) {
	tests := []struct {
		name string
		o    EnrollOptions
		want string // "" for ok
	}{
		{"defaults", EnrollOptions{}, ""},
		{"maxima", EnrollOptions{Controls: MaxControls, SuiteSize: MaxSuiteSize, Workers: MaxWorkers}, ""},
		{"minimum controls", EnrollOptions{Controls: MinControls}, ""},
		{"too few controls", EnrollOptions{Controls: MinControls - 1}, "bad enrolment options: controls 2, want 0 (the default) or 3 to 256"},
		{"negative controls", EnrollOptions{Controls: -1}, "bad enrolment options: controls -1, want 0 (the default) or 3 to 256"},
		{"too many controls", EnrollOptions{Controls: MaxControls + 1}, "bad enrolment options: controls 257, want 0 (the default) or 3 to 256"},
		{"suite too large", EnrollOptions{SuiteSize: MaxSuiteSize + 1}, "bad enrolment options: suite size 10001, want 0 (the default) or 30 to 10000"},
		{"suite of 100,000", EnrollOptions{SuiteSize: 100000}, "bad enrolment options: suite size 100000, want 0 (the default) or 30 to 10000"},
		{"negative suite", EnrollOptions{SuiteSize: -1}, "bad enrolment options: suite size -1, want 0 (the default) or 30 to 10000"},
		{"suite smaller than audits take", EnrollOptions{SuiteSize: DefaultMinProbes - 1}, "bad enrolment options: suite size 29, want 0 (the default) or 30 to 10000: audits need at least 30 probes"},
		{"smallest suite", EnrollOptions{SuiteSize: DefaultMinProbes}, ""},
		{"negative workers", EnrollOptions{Workers: -1}, "bad enrolment options: workers -1, want 0 (the default) to 1024"},
		{"too many workers", EnrollOptions{Workers: MaxWorkers + 1}, "bad enrolment options: workers 1025, want 0 (the default) to 1024"},
	}
	for _, tt := range tests {
		err := tt.o.Check()
		var oe *OptionError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Check() = %v, want nil", tt.name, err)
		case tt.want == "":
		case err == nil || err.Error() != tt.want || !errors.Is(err, ErrOptions) || !errors.As(err, &oe):
			t.Errorf("%s: Check() = %v, want an *OptionError %q wrapping ErrOptions", tt.name, err, tt.want)
		}
	}
}

// TestEnrollProgressStarts: Progress is first called with done 0, before
// the independent teacher is trained, so that a progress bar shows at once;
// it was first called when that teacher was done, minutes into an
// enrolment on the full Fashion-MNIST, which showed nothing until then.
func TestEnrollProgressStarts(t *testing.T) {
	teacher := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls []int
	opts := EnrollOptions{Controls: 3, SuiteSize: 30, Progress: func(desc string, done, total int) {
		calls = append(calls, done)
		cancel() // the first call is all this test needs
	}}
	_, err := Enroll(ctx, "acme", teacher, dataset.Digits(), opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Enroll cancelled at its first progress call: %v, want context.Canceled", err)
	}
	if len(calls) == 0 || calls[0] != 0 {
		t.Errorf("progress calls (done) = %v, want the first with done 0", calls)
	}
}

// TestFingerprintIDs checks that EnrollOptions.FingerprintIDs names one
// fingerprint per control ControlRecipes makes, besides the teacher's, as
// Enroll names them: enroll refuses a name whose IDs are taken with it.
func TestFingerprintIDs(t *testing.T) {
	for _, k := range []int{0, 3, 4, 5, 16, 17} {
		ids := EnrollOptions{Controls: k}.FingerprintIDs("acme")
		kk := k
		if kk == 0 {
			kk = DefaultControls
		}
		n := len(ControlRecipes(kk, 1, []int{128}, model.ActReLU))
		if len(ids) != n+1 || NumControls(kk) != n {
			t.Errorf("controls %d: %d IDs, NumControls %d; ControlRecipes made %d controls", k, len(ids), NumControls(kk), n)
			continue
		}
		if ids[0] != "acme/teacher" || ids[1] != "acme/control-00" || ids[n] != ControlID("acme", n-1) {
			t.Errorf("controls %d: IDs %q … %q", k, ids[:2], ids[n])
		}
	}
	if got := (EnrollOptions{Recipes: make([]Recipe, 2)}).FingerprintIDs("b"); len(got) != 3 || got[2] != "b/control-01" {
		t.Errorf("with two recipes: %q", got)
	}
}

// TestEnrollDegenerateTeacher checks that a teacher whose held-out outputs
// are all the same is refused before any control is trained: one of
// all-zero weights (the uniform distribution for every row) was enrolled,
// at the cost of the whole training, and every audit against it, a copy's
// too, was INCONCLUSIVE ("degenerate suspect outputs: all rows
// identical"). One whose top label alone is the same everywhere is not.
func TestEnrollDegenerateTeacher(t *testing.T) {
	zero := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	clear(zero.Theta)
	constant := zero.Clone()
	constant.B(1)[3] = 1         // class 3 on top everywhere, the rest varying
	constant.W(0).Data[20] = 0.1 // hidden unit 0 reads pixel 20 (0–16)
	constant.W(1).Data[0] = 0.1  // class 0 gets at most 0.16 of it
	tests := []struct {
		name    string
		teacher *model.MLP
		want    string
	}{
		{"uniform", zero, `teacher "" has degenerate outputs on the 538 held-out rows of "digits" (all rows identical): audits would find no evidence in a copy's answers: unusable teacher`},
	}
	// The same top label on every row, with probabilities that vary, is
	// not refused: the probes cross its boundaries (a teacher of data 99 %
	// of one class enrolled with calibration AUC 0.68, and was refused).
	if err := checkTeacherOutputs(context.Background(), constant, heldOut(dataset.Digits().Split(dataset.SplitOptions{})), "digits"); err != nil {
		t.Errorf("one top class, probabilities varying: %v, want nil", err)
	}
	for _, tt := range tests {
		progressed := false
		opts := EnrollOptions{Controls: 3, SuiteSize: 30, Progress: func(string, int, int) { progressed = true }}
		_, err := Enroll(context.Background(), "acme", tt.teacher, dataset.Digits(), opts)
		if !errors.Is(err, ErrTeacher) || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q wrapping ErrTeacher", tt.name, err, tt.want)
		}
		if progressed {
			t.Errorf("%s: training started", tt.name)
		}
	}
}
