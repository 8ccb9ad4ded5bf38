package demo

import (
	"testing"

	"github.com/lineage-audit/lineage/audit"
)

func TestCorrect(t *testing.T) {
	s := func(derived bool, v audit.Verdict) Suspect {
		return Suspect{Model: Model{Derived: derived}, Audit: audit.TeacherResult{Verdict: v}}
	}
	tests := []struct {
		name string
		in   []Suspect
		want bool
	}{
		{"all right", []Suspect{s(true, audit.Derived), s(false, audit.NotDerived)}, true},
		{"missed copy", []Suspect{s(true, audit.NotDerived)}, false},
		{"false accusation", []Suspect{s(false, audit.Derived)}, false},
		{"inconclusive is not right", []Suspect{s(false, audit.Inconclusive)}, false},
	}
	for _, tt := range tests {
		r := &Result{Suspects: tt.in}
		if got := r.Correct(); got != tt.want {
			t.Errorf("%s: Correct() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
