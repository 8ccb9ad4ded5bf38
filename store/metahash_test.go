package store

import (
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

// TestEditedLabelMap checks a fingerprint whose recorded label map was
// changed outside lineage (its hash left as it was): db verify reports it
// in one line naming the fingerprint, reading it is refused, and an export
// holding it is refused by both imports naming its line. Before the hash
// covered the map, all of them took the edited map for the one the
// answers were read with.
func TestEditedLabelMap(t *testing.T) {
	su := newTestSuite("s", 5, 3, 1)
	fp := newTestFP("x", su, 1)
	fp.Meta = map[string]string{fingerprint.MetaLabelMap: "zero=0,one=1,two=2", "requests": "5"}
	fp.Hash = fp.ComputeHash()
	edited := fp.Clone()
	edited.Meta[fingerprint.MetaLabelMap] = "zero=1,one=0,two=2"
	checkEditRefused(t, fp, edited, func(tx *Tx) error { return tx.PutSuite(su) })
}
