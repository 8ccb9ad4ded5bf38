package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/probe"
)

func TestLoadTeacherErrors(t *testing.T) {
	tests := []struct {
		ref, want string
		usage     bool
	}{
		{"", "--model is required", true},
		{"exec:python3 m.py", "white-box access", false},
		{"http://host:8080/v2/models/m", "white-box access", false},
		{"no-such-file.lnm", "no-such-file.lnm", false},
	}
	for _, tt := range tests {
		_, err := loadTeacher(tt.ref)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("loadTeacher(%q) = %v, want an error containing %q", tt.ref, err, tt.want)
			continue
		}
		var u usageError
		if got := errors.As(err, &u); got != tt.usage {
			t.Errorf("loadTeacher(%q): usage error %v, want %v", tt.ref, got, tt.usage)
		}
	}
}

func TestCompositionString(t *testing.T) {
	r := &audit.EnrolReport{Composition: map[probe.Kind]int{probe.Noise: 5, probe.Data: 20, probe.Mistake: 3}}
	if got, want := compositionString(r), "data 20, mistake 3, noise 5"; got != want {
		t.Errorf("compositionString = %q, want %q", got, want)
	}
}

// TestEnrolKVWatermark checks the enrolment report's watermark line says
// which suspects' leans the test whitens, and says nothing of it when it
// whitens none.
func TestEnrolKVWatermark(t *testing.T) {
	for _, tt := range []struct {
		whitened []string
		want     string
	}{
		{nil, "90 probes, 9999 decoy keys; 1 of 128 independent controls at p ≤ 0.001 (smallest p 0.0004)"},
		{[]string{"outputs", "labels"}, "90 probes, 9999 decoy keys, leans whitened for outputs and labels; 1 of 128 independent controls at p ≤ 0.001 (smallest p 0.0004)"},
	} {
		r := &audit.EnrolReport{Composition: map[probe.Kind]int{}, Watermark: &audit.WatermarkRate{
			Probes: 90, Decoys: 9999, Negatives: 128, Alpha: 0.001, Flagged: 1, MinP: 0.0004, Whitened: tt.whitened}}
		got := ""
		for _, p := range enrolKV(r).Pairs {
			if p.Key == "watermark test" {
				got = p.Value.String()
			}
		}
		if got != tt.want {
			t.Errorf("whitened %q: watermark line %q, want %q", tt.whitened, got, tt.want)
		}
	}
}

// TestEnrolKVNullNote checks the note that reconciles the null size with
// the calibration's independent controls when under-trained controls
// join the second (24 beside 32 read as a contradiction), and that it is
// left out when there are none.
func TestEnrolKVNullNote(t *testing.T) {
	const want = "The 32 independent calibration controls are the null's 24 and the 8 under-trained ones, which join the null only of a suspect like them."
	for _, under := range []int{8, 0} {
		r := &audit.EnrolReport{Composition: map[probe.Kind]int{}, Null: 24 + 8 - under, UnderTrained: under}
		r.Calibration.NegP = make([]float64, 32)
		if got := slices.Contains(enrolKV(r).Notes, want); got != (under > 0) {
			t.Errorf("%d under-trained: note %v, want %v", under, got, under > 0)
		}
	}
}

// TestEnrolKVLowPower checks the note an enrolment of low measured power
// gets (breast cancer, wine and iris enrolled at 0–38% at α=0.01 with
// nothing in the report saying what that means for audits), naming each α
// below audit.MinPower, and none when every rate reaches it or too few
// derived controls were measured (another note says so).
func TestEnrolKVLowPower(t *testing.T) {
	rates := func(tpr01, tpr05 float64) []compare.Rate {
		return []compare.Rate{{Alpha: 0.01, TPR: tpr01}, {Alpha: 0.05, TPR: tpr05}}
	}
	for _, tt := range []struct {
		name  string
		rates []compare.Rate
		pos   int
		want  string // in the note; "" for no note
	}{
		{"both low", rates(0.25, 0.375), 8, "detected 25% at α=0.01 and 38% at α=0.05 of the calibration half's derived controls, below the 50% an audit needs"},
		{"one low", rates(0.375, 0.5), 8, "detected 38% at α=0.01 of the calibration"},
		{"none low", rates(0.5, 0.875), 8, ""},
		{"too few to count", rates(0, 0), 2, ""},
	} {
		r := &audit.EnrolReport{Composition: map[probe.Kind]int{}}
		r.Calibration.Rates = tt.rates
		r.Calibration.PosP = make([]float64, tt.pos)
		var got string
		for _, n := range enrolKV(r).Notes {
			if strings.HasPrefix(n, "Low power") {
				got = n
			}
		}
		if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: low-power note %q, want one containing %q", tt.name, got, tt.want)
		}
	}
}

// TestCheckWritable checks the test enroll makes before training: a
// database that cannot be written is reported at once, naming it and why
// (an enrolment found out only after training every control).
func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	type test struct{ name, db, want string }
	tests := []test{
		{"new file", filepath.Join(dir, "new.db"), ""},
		{"existing file", file, ""},
		{"under a file", filepath.Join(file, "x.db"), "cannot be written: not a directory"},
	}
	if os.Geteuid() != 0 { // permissions do not stop root
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, test{"read-only directory", filepath.Join(ro, "x.db"), "cannot be written: permission denied"})
		rofile := filepath.Join(dir, "ro.db")
		if err := os.WriteFile(rofile, nil, 0o444); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, test{"read-only file", rofile, `database "` + rofile + `": store is read-only: it cannot be opened for writing (permission denied)`})
	}
	for _, tt := range tests {
		err := checkWritable(&globalOptions{db: tt.db})
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: checkWritable = %v, want %q", tt.name, err, tt.want)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".lineage-check") || e.Name() == "new.db" {
			t.Errorf("checkWritable left %s behind", e.Name())
		}
	}
}

// TestEnrollOptionsFlag: enrolment options out of range are refused
// before any work in one line naming the flag at fault and the values
// it takes; the line named all three flags checked ("--controls,
// --suite-size or --workers: ..."), and told a negative --controls
// "want 0 (the default) to 256", though 1 and 2 are refused too.
func TestEnrollOptionsFlag(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		flag, value, want string
	}{
		{"--controls", "-1", "lineage: --controls -1: want 0 (the default) or 3 to 256\n"},
		{"--controls", "2", "lineage: --controls 2: want 0 (the default) or 3 to 256\n"},
		{"--suite-size", "29", "lineage: --suite-size 29: want 0 (the default) or 30 to 10000: audits need at least 30 probes\n"},
		{"--suite-size", "10001", "lineage: --suite-size 10001: want 0 (the default) or 30 to 10000\n"},
		{"--workers", "-1", "lineage: --workers -1: want 0 (the default) to 1024\n"},
	} {
		db := filepath.Join(dir, "case.db")
		code, stderr := runLineage(t, "--db", db, "enroll", "acme", "--model", "teacher.lnm", tt.flag, tt.value)
		if code != exitUsage || stderr != tt.want {
			t.Errorf("enroll %s %s: exit %d, %q; want exit %d, %q", tt.flag, tt.value, code, stderr, exitUsage, tt.want)
		}
		if _, err := os.Stat(db); !os.IsNotExist(err) {
			t.Errorf("enroll %s %s left %s behind (stat: %v)", tt.flag, tt.value, db, err)
		}
	}
}
