package registry

import (
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/lineage-audit/lineage/internal/digest"
	"github.com/lineage-audit/lineage/store"
)

// markSameModels sets SameAs on the verdicts whose measured fingerprint
// holds exactly the outputs of another verdict's against the same teacher
// (the same model audited under two names, say): the suspect whose audit
// was recorded last (between equal times, the first by name) stands for
// them all, and the others name it. Such verdicts count once in the
// teachers' counts and in the q-values. A verdict whose fingerprint is not
// stored (removed, or unknown to older lineage) stands for itself.
//
// Why outputs and not the model's hash: two names of one endpoint, or a
// model file copied, have different identities and the same answers, and
// the answers are all an audit reads.
func markSameModels(fpc *fpCache, vs []Verdict) error {
	type key struct {
		teacher string
		outputs [sha256.Size]byte
	}
	groups := map[key][]int{}
	for i, v := range vs {
		if v.Fingerprint == "" {
			continue
		}
		fp, err := fpc.get(v.Fingerprint)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		h := sha256.New()
		h.Write([]byte(fp.Suite))
		digest.Uint64(h, uint64(fp.TopK))
		digest.Matrix(h, fp.P)
		k := key{teacher: v.Teacher}
		h.Sum(k.outputs[:0])
		groups[k] = append(groups[k], i)
	}
	for _, g := range groups { // each group is settled on its own
		if len(g) < 2 {
			continue
		}
		lead := slices.MaxFunc(g, func(a, b int) int {
			// the later audit is the larger; between equal times the first
			// suspect by name
			return cmp.Or(vs[a].created.Compare(vs[b].created), cmp.Compare(vs[b].Suspect, vs[a].Suspect))
		})
		for _, i := range g {
			if i != lead {
				vs[i].SameAs = vs[lead].Suspect
			}
		}
	}
	return nil
}

// distinct returns the number of verdicts of vs that stand for themselves
// (SameAs "").
func distinct(vs []Verdict) int {
	n := 0
	for _, v := range vs {
		if v.SameAs == "" {
			n++
		}
	}
	return n
}

// sameNotes says, for each verdict that stands for another's, whose.
func sameNotes(vs []Verdict) []string {
	var out []string
	for _, v := range vs {
		if v.SameAs != "" {
			out = append(out, fmt.Sprintf("%s (against %s): the same outputs on the suite as %s, so counted once, as %s's verdict (the latest audit), in the teacher's counts and the q-values", v.Suspect, v.Teacher, v.SameAs, v.SameAs))
		}
	}
	return out
}
