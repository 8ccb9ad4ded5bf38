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
		name string
		fp   *fingerprint.Fingerprint
		want error // nil: accepted
	}{
		{"the teacher's student", &fingerprint.Fingerprint{ID: "student", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.9)}, ErrDerivedReference},
		{"the teacher itself", &fingerprint.Fingerprint{ID: "teacher-copy", Suite: c.Suite.Hash, P: c.Teacher.P}, ErrDerivedReference},
		{"an independent model", &fingerprint.Fingerprint{ID: "indep", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.4)}, nil},
		{"an untrained model", &fingerprint.Fingerprint{ID: "untrained", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.05)}, ErrOutsideReference},
	}
	for _, tt := range tests {
		tr, err := CheckReference(c, tt.fp)
		if (tt.want == nil && err != nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: err %v (p %g), want %v", tt.name, err, tr.PValue, tt.want)
		}
		if errors.Is(tt.want, ErrDerivedReference) && !(tr.PValue <= ReferenceAlpha) {
			t.Errorf("%s: refused at p %g, want ≤ %g", tt.name, tr.PValue, ReferenceAlpha)
		}
	}
}
