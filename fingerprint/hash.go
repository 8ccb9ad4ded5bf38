package fingerprint

// This file holds the content hash (ComputeHash, Verify) and the Meta keys
// it covers.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/internal/digest"
	"github.com/lineage-audit/lineage/model"
)

// MetaOutputs is the Meta key under which a command records how a remote
// model's answers were read: as logits, softmax taken by lineage
// (--logits), or, absent, as probabilities.
const MetaOutputs = "outputs"

// MetaOutput is the Meta key naming the output an Open Inference Protocol
// model's answers were read from, and MetaOutputChosen says "--output"
// when that flag chose it (absent for the default choice); both are set
// only when which output was read was a choice. A command reuses a stored
// fingerprint only when it was read as the command would read it.
const (
	MetaOutput       = "output"
	MetaOutputChosen = "output_chosen_by"
)

// MetaHashRule is the Meta key that names the rule a fingerprint's hash
// was computed by, when it is not the first: HashRuleRemote for remote
// fingerprints stored from 7 December 2026 until HashRuleHeader came
// later that day, HashRuleHeader for every fingerprint stored since. It is
// absent from older records, whose hashes leave out what the later rules
// cover (see [Fingerprint.ComputeHash]).
const MetaHashRule = "hash_rule"

// The values of MetaHashRule lineage knows. Under HashRuleRemote the
// hash also covers the keys of remoteHashedMeta; under HashRuleHeader
// those keys and the model header (Fingerprint.Model). Take records
// HashRuleHeader in every fingerprint it returns.
const (
	HashRuleRemote = "2"
	HashRuleHeader = "3"
)

// hashedMeta lists the Meta keys ComputeHash covers, in the order it
// hashes them: the map the answers were read with and the model file
// metadata they rest on a default for, which audits print as evidence
// and which, changed, would misstate it. Counts (requests, retries,
// warnings, answers asked again or replayed) and error messages are not
// evidence.
var hashedMeta = []string{MetaDefaulted, MetaLabelMap}

// remoteHashedMeta lists the Meta keys ComputeHash also covers, after
// hashedMeta, when Meta holds MetaHashRule (whatever its value): the rule
// itself, and what a remote model's fingerprint records about how the
// model was asked and answered, on which an audit clears it or not
// (MetaRemote, MetaVariation, MetaNearby) and a command reuses it or not
// (MetaOutputs, MetaOutput, MetaOutputChosen). They are covered only
// under the rule, since every remote fingerprint stored before it holds
// them under a hash that leaves them out.
var remoteHashedMeta = []string{MetaHashRule, MetaRemote, MetaVariation, MetaNearby, MetaOutputs, MetaOutput, MetaOutputChosen}

// CoverRemote makes fp's hash cover the Meta keys a remote model's
// fingerprint records about how the model was asked and answered, and its
// model header: it sets MetaHashRule to HashRuleHeader and hashes fp
// again. A command calls it once it has recorded them; a fingerprint Take
// returned is under HashRuleHeader already, but its hash does not cover
// what was recorded after it.
func (fp *Fingerprint) CoverRemote() {
	if fp.Meta == nil {
		fp.Meta = map[string]string{}
	}
	fp.Meta[MetaHashRule] = HashRuleHeader
	fp.Hash = fp.ComputeHash()
}

// ComputeHash returns the hex SHA-256 of the canonical content: the ASCII
// tag "lineage-fingerprint-v1", the suite hash and the model hash (each
// as a uint64 LE length and its bytes), rows, cols and TopK as uint64 LE,
// every probability's float32 bits LE row by row, and then, for each of
// the Meta keys MetaDefaulted and MetaLabelMap that Meta holds (in that
// order, even with an empty value), the ASCII tag "meta", the key and
// its value (each as a uint64 LE length and its bytes); and when Meta
// holds MetaHashRule, the same for each of the keys MetaHashRule,
// MetaRemote, MetaVariation, MetaNearby, MetaOutputs, MetaOutput and
// MetaOutputChosen that it holds, in that order. When MetaHashRule holds
// anything but HashRuleRemote (HashRuleHeader, or a value of a later
// lineage), the model header follows: the ASCII tag "model", then
// fp.Model's Name and Kind (each as a uint64 LE length and its bytes),
// InputSize (its int64 two's complement as uint64 LE), the number of
// Labels (uint64 LE) and each label (a uint64 LE length and its bytes),
// Params (as InputSize) and Source (a uint64 LE length and its bytes);
// its Hash is in the head already. A fingerprint holding none of these
// keys hashes as it did before they were covered, one without
// MetaHashRule as it did before those it names were, and one under
// HashRuleRemote as it did before the header was. It does not modify fp.
func (fp *Fingerprint) ComputeHash() string {
	h := fp.hashHead()
	digest.Matrix(h, fp.P)
	fp.hashMeta(h)
	return hex.EncodeToString(h.Sum(nil))
}

// SameAnswers reports whether fp and o hold the same answers to the same
// suite: the same shape and the same probabilities, value for value,
// whichever model they are recorded as coming from (a remote model's hash
// is unknown: its fingerprint and that of the file it serves differ in
// Model.Hash alone), however its labels were read (an identity
// --label-map), whichever metadata its file lacked and however it was
// asked. A store tells by it the same model's answers recorded twice, as
// audits leave a suspect's own answers out of its null.
func (fp *Fingerprint) SameAnswers(o *Fingerprint) bool {
	if fp.Suite != o.Suite || fp.P.Rows != o.P.Rows || fp.P.Cols != o.P.Cols {
		return false
	}
	for i := range fp.P.Rows {
		if !slices.Equal(fp.Row(i), o.Row(i)) {
			return false
		}
	}
	return true
}

// hashHead returns a SHA-256 of what ComputeHash hashes before the matrix.
func (fp *Fingerprint) hashHead() hash.Hash {
	h := sha256.New()
	h.Write([]byte("lineage-fingerprint-v1"))
	hashString(h, fp.Suite)
	hashString(h, fp.Model.Hash)
	digest.Uint64(h, uint64(fp.P.Rows))
	digest.Uint64(h, uint64(fp.P.Cols))
	digest.Uint64(h, uint64(fp.TopK))
	return h
}

// hashMeta writes to h what ComputeHash hashes after the matrix: the
// hashedMeta keys fp.Meta holds, under MetaHashRule the remoteHashedMeta
// keys it holds, and under any rule but HashRuleRemote the model header.
func (fp *Fingerprint) hashMeta(h hash.Hash) {
	keys := hashedMeta
	rule, ruled := fp.Meta[MetaHashRule]
	if ruled {
		keys = append(keys[:len(keys):len(keys)], remoteHashedMeta...)
	}
	for _, k := range keys {
		if v, ok := fp.Meta[k]; ok {
			h.Write([]byte("meta"))
			hashString(h, k)
			hashString(h, v)
		}
	}
	if ruled && rule != HashRuleRemote {
		hashHeader(h, fp.Model)
	}
}

// hashHeader writes to h the model header as ComputeHash hashes it under
// HashRuleHeader: every field of m but Hash, which the head holds.
func hashHeader(h hash.Hash, m model.Info) {
	h.Write([]byte("model"))
	hashString(h, m.Name)
	hashString(h, string(m.Kind))
	digest.Uint64(h, uint64(int64(m.InputSize)))
	digest.Uint64(h, uint64(len(m.Labels)))
	for _, l := range m.Labels {
		hashString(h, l)
	}
	digest.Uint64(h, uint64(int64(m.Params)))
	hashString(h, m.Source)
}

// hashedKeys returns the hashedMeta keys fp.Meta holds, nil for none.
func (fp *Fingerprint) hashedKeys() []string {
	var keys []string
	for _, k := range hashedMeta {
		if _, ok := fp.Meta[k]; ok {
			keys = append(keys, k)
		}
	}
	return keys
}

// hashString writes s to h as a uint64 LE length and its bytes.
func hashString(h hash.Hash, s string) {
	digest.Uint64(h, uint64(len(s)))
	h.Write([]byte(s))
}

// Verify reports whether fp.Hash matches its content; the error is a
// *RecordError wrapping ErrHash and naming both hashes.
func (fp *Fingerprint) Verify() error {
	h := fp.hashHead()
	digest.Matrix(h, fp.P)
	return fp.checkHash(h)
}

// checkHash finishes h, a SHA-256 of what ComputeHash hashes up to the
// end of the matrix, and compares it with fp.Hash; the error is Verify's.
func (fp *Fingerprint) checkHash(h hash.Hash) error {
	outputs := hex.EncodeToString(h.Sum(nil)) // Sum leaves h as it was
	fp.hashMeta(h)
	got := hex.EncodeToString(h.Sum(nil))
	if got == fp.Hash {
		return nil
	}
	err := fmt.Errorf("%w: stored %s, content %s", ErrHash, short(fp.Hash), short(got))
	if rule, ok := fp.Meta[MetaHashRule]; ok && rule != HashRuleRemote && rule != HashRuleHeader {
		return &RecordError{ID: fp.ID, Err: fmt.Errorf("%w: its %s %q is not one this lineage knows (written by a newer lineage, or changed outside lineage)", err, MetaHashRule, rule)}
	}
	if keys := fp.hashedKeys(); len(keys) > 0 && outputs == fp.Hash {
		// The outputs are as hashed; what the hash leaves out is meta.
		err = fmt.Errorf("%w: the stored hash does not cover its recorded %s (written by an older lineage, whose hash left it out, or changed outside lineage since)", err, strings.Join(keys, " and "))
	}
	return &RecordError{ID: fp.ID, Err: err}
}

// SameOutputs reports whether fp holds the outputs of o, a fingerprint
// whose Hash matches its content (one that Verify or VerifyEncoded
// accepted; o.P is not read): the same suite, model hash, top-k and
// probabilities, read with the same label map and defaulted metadata
// (hashedMeta), whatever else their Meta and their model headers hold.
// Their hashes may differ all the same: a remote model fingerprinted
// twice may answer the same and still be recorded as answering otherwise
// when asked again, a model file read from another path records another
// source, and a record of older lineage leaves out what a newer one
// covers.
func (fp *Fingerprint) SameOutputs(o *Fingerprint) bool {
	for _, k := range hashedMeta {
		a, okA := fp.Meta[k]
		b, okB := o.Meta[k]
		if okA != okB || a != b {
			return false
		}
	}
	c := *fp
	c.Meta = o.Meta // o's hash is of its outputs, its Meta and its header
	c.Model = o.Model
	c.Model.Hash = fp.Model.Hash
	return c.ComputeHash() == o.Hash
}
