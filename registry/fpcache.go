package registry

import (
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
)

// fpCache decodes each fingerprint a Read asks for once: the verdicts'
// (to tell models with the same outputs apart) and every teacher's matrix
// ask for the same thousands on a registry, each decoded and hashed in
// full. It keeps those on the summary's suites, which its matrices keep
// anyway, and of the others only their suite.
type fpCache struct {
	tx    *store.Tx
	keep  map[string]bool // the summary's suites
	fps   map[string]*fingerprint.Fingerprint
	suite map[string]string // ID → suite of every fingerprint decoded
}

// newFPCache returns a cache of tx's fingerprints keeping those on the
// suites of cases.
func newFPCache(tx *store.Tx, suites []string) *fpCache {
	c := &fpCache{tx: tx, keep: map[string]bool{}, fps: map[string]*fingerprint.Fingerprint{}, suite: map[string]string{}}
	for _, s := range suites {
		c.keep[s] = true
	}
	return c
}

// get returns the fingerprint id as tx.Fingerprint does (checked against
// its hash), decoding it only the first time a fingerprint on a kept suite
// is asked for.
func (c *fpCache) get(id string) (*fingerprint.Fingerprint, error) {
	if fp, ok := c.fps[id]; ok {
		return fp, nil
	}
	fp, err := c.tx.Fingerprint(id)
	if err != nil {
		return nil, err
	}
	c.suite[id] = fp.Suite
	if c.keep[fp.Suite] {
		c.fps[id] = fp
	}
	return fp, nil
}

// elsewhere reports whether the fingerprint id was decoded and is on
// another suite than suite.
func (c *fpCache) elsewhere(id, suite string) bool {
	s, ok := c.suite[id]
	return ok && s != suite
}
