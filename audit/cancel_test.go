package audit

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

// TestAuditContextCancelled: an audit whose context is done while the
// case's null is fitted stops with ctx's error (the fit passed
// context.Background(), so Ctrl-C was not seen until the fit ended,
// about 3 s on the demo's enrolment), keeps nothing of the fit in the
// case, and a later audit of the same case gives what an audit of a
// fresh case gives.
func TestAuditContextCancelled(t *testing.T) {
	suspect := func(c *Case) []*fingerprint.Fingerprint {
		rng := rand.New(rand.NewPCG(9, 9))
		return []*fingerprint.Fingerprint{{ID: "suspect", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.8)}}
	}
	fresh := recheckCase(t)
	want, err := Audit([]*Case{fresh}, suspect(fresh), "suspect", Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := recheckCase(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := AuditContext(ctx, []*Case{c}, suspect(c), "suspect", Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("AuditContext with a cancelled context: %v, want context.Canceled", err)
	}
	if _, err := AuditEachContext(ctx, []*Case{c}, suspect(c), "suspect", nil, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("AuditEachContext with a cancelled context: %v, want context.Canceled", err)
	}
	c.mu.Lock()
	cached := len(c.refs)
	c.mu.Unlock()
	if cached != 0 {
		t.Errorf("after the cancelled audits the case caches %d references, want none", cached)
	}
	got, err := Audit([]*Case{c}, suspect(c), "suspect", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// As JSON: the results hold NaN, which no two compare equal, and
	// pointers.
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("audit after a cancelled one:\n got %s\nwant %s", g, w)
	}
}
