package audit

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

func TestCheckReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	c := synthCase(t, rng, 6, 24)
	withReport(t, c)
	tests := []struct {
		name    string
		fp      *fingerprint.Fingerprint
		refused bool
	}{
		{"the teacher's student", &fingerprint.Fingerprint{ID: "student", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.9)}, true},
		{"the teacher itself", &fingerprint.Fingerprint{ID: "teacher-copy", Suite: c.Suite.Hash, P: c.Teacher.P}, true},
		{"an independent model", &fingerprint.Fingerprint{ID: "indep", Suite: c.Suite.Hash, P: randomAnswers(rng)}, false},
	}
	for _, tt := range tests {
		tr, err := CheckReference(c, tt.fp)
		if got := errors.Is(err, ErrDerivedReference); got != tt.refused {
			t.Errorf("%s: refused %v (err %v, p %g), want %v", tt.name, got, err, tr.PValue, tt.refused)
		}
		if tt.refused && !(tr.PValue <= ReferenceAlpha) {
			t.Errorf("%s: refused at p %g, want ≤ %g", tt.name, tr.PValue, ReferenceAlpha)
		}
	}
}
