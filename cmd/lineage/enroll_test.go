package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
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
