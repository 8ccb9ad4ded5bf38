package fingerprint

import (
	"strings"
	"testing"
)

// remoteMeta is the Meta of a remote fingerprint as lineage records it
// (cmd/lineage fingerprintBatched): the keys hash rule 2 covers, counts
// and a message it does not.
func remoteMeta() map[string]string {
	return map[string]string{MetaRemote: "url", "source": "http://x", "requests": "7", "retries": "0", "warnings": "0",
		MetaVariation: "0", MetaNearby: "0.01", "queries_asked_again": "16", MetaOutputs: "logits (softmax taken by lineage)",
		MetaOutput: "probs", "other_outputs": "logits", MetaOutputChosen: "--output"}
}

// TestHashRemotePinned pins the hash of a remote fingerprint under hash
// rule 2 (the value computed apart from Go, by the canonical form
// ComputeHash documents; HashRuleHeader left it as it was), and checks
// that the rule changes no other hash: one without
// MetaHashRule, remote keys and all, hashes as lineage of 1 December
// 2026 hashed it (TestHashPinned's value), and so still verifies.
func TestHashRemotePinned(t *testing.T) {
	fp := hashFixture(0, remoteMeta())
	if got, want := fp.ComputeHash(), "1396725a215aead7972ca4511789663fab5163af53a8c5dd1f79ac245b5a59d9"; got != want {
		t.Errorf("without the rule: ComputeHash = %s, want %s (the older hash)", got, want)
	}
	fp.Hash = fp.ComputeHash()
	if err := fp.Verify(); err != nil {
		t.Errorf("without the rule: Verify = %v", err)
	}
	// Recorded by lineage of 7 December 2026 before HashRuleHeader: the
	// same hash still.
	fp.Meta[MetaHashRule] = HashRuleRemote
	fp.Hash = fp.ComputeHash()
	if got, want := fp.Hash, "c261bcad6f36be660c8d626ad2b75bbd749e1a4bec9431118e6213974b9856f4"; got != want {
		t.Errorf("under the rule: Hash = %s, want %s", got, want)
	}
	if err := fp.Verify(); err != nil {
		t.Errorf("under the rule: Verify = %v", err)
	}
}

// TestHashRemoteMeta checks that, under hash rule 2, an edit of any key
// it covers (a value changed, the key removed, the key added) fails
// Verify and VerifyEncoded alike, one line naming the fingerprint; that
// so does every way of turning the record into one without the rule
// without hashing it again; and that counts and messages stay out.
func TestHashRemoteMeta(t *testing.T) {
	type edit struct {
		name string
		edit func(map[string]string)
	}
	var edits []edit
	for _, k := range remoteHashedMeta[1:] {
		edits = append(edits,
			edit{k + " changed", func(m map[string]string) { m[k] += "x" }},
			edit{k + " removed", func(m map[string]string) { delete(m, k) }},
			edit{k + " added", func(m map[string]string) { delete(m, k) }}) // from the fixture below, not on it
	}
	edits = append(edits,
		edit{"rule removed", func(m map[string]string) { delete(m, MetaHashRule) }},
		edit{"rule removed, variation lowered", func(m map[string]string) { delete(m, MetaHashRule); m[MetaVariation] = "0" }},
		edit{"rule and remote removed", func(m map[string]string) { delete(m, MetaHashRule); delete(m, MetaRemote) }},
		edit{"rule changed", func(m map[string]string) { m[MetaHashRule] = "4" }},
		edit{"rule lowered to 2", func(m map[string]string) { m[MetaHashRule] = HashRuleRemote }},
		edit{"label map set", func(m map[string]string) { m[MetaLabelMap] = "a=0,b=1,c=2" }},
	)
	for _, tt := range edits {
		t.Run(tt.name, func(t *testing.T) {
			meta := remoteMeta()
			meta[MetaVariation] = "0.3"
			edit := tt.edit
			if strings.HasSuffix(tt.name, " added") {
				// Recorded without the key, which the edit adds.
				k := strings.TrimSuffix(tt.name, " added")
				v := meta[k]
				delete(meta, k)
				edit = func(m map[string]string) { m[k] = v }
			}
			fp := hashFixture(0, meta)
			fp.CoverRemote()
			if err := fp.Verify(); err != nil {
				t.Fatalf("as recorded: Verify = %v", err)
			}
			edit(fp.Meta)
			checkVerifyRefused(t, fp)
		})
	}

	fp := hashFixture(0, remoteMeta())
	fp.CoverRemote()
	fp.Meta[MetaHashRule] = "4"
	if err := fp.Verify(); err == nil || !strings.Contains(err.Error(), `hash_rule "4" is not one this lineage knows`) {
		t.Errorf("rule 4: Verify = %v, want it to say the rule is unknown", err)
	}
	for _, k := range []string{"requests", "retries", "warnings", "queries_asked_again", "other_outputs", "source"} {
		fp := hashFixture(0, remoteMeta())
		fp.CoverRemote()
		fp.Meta[k] += "1"
		if err := fp.Verify(); err != nil {
			t.Errorf("%s changed: Verify = %v, want nil (not covered)", k, err)
		}
	}
}

// TestSameOutputs checks that two fingerprints of one model's outputs
// are the same outputs whatever they record of being asked again, and
// that other outputs, another label map or another model are not.
func TestSameOutputs(t *testing.T) {
	base := func() *Fingerprint {
		fp := hashFixture(0, remoteMeta())
		fp.CoverRemote()
		return fp
	}
	old := hashFixture(0, remoteMeta()) // recorded before the rule
	old.Hash = old.ComputeHash()
	tests := []struct {
		name string
		edit func(*Fingerprint)
		want bool
	}{
		{"itself", func(*Fingerprint) {}, true},
		{"variation differs", func(fp *Fingerprint) { fp.Meta[MetaVariation] = "0.5"; fp.CoverRemote() }, true},
		{"the older record", func(fp *Fingerprint) { *fp = *old.Clone() }, true},
		{"outputs differ", func(fp *Fingerprint) { fp.P.Data[0], fp.P.Data[1] = 0.25, 0.5; fp.CoverRemote() }, false},
		{"label map differs", func(fp *Fingerprint) { fp.Meta[MetaLabelMap] = "a=1,b=0,c=2"; fp.CoverRemote() }, false},
		{"model differs", func(fp *Fingerprint) { fp.Model.Hash = "other"; fp.CoverRemote() }, false},
	}
	for _, tt := range tests {
		a, b := base(), base()
		tt.edit(b)
		if got := a.SameOutputs(b); got != tt.want {
			t.Errorf("%s: a.SameOutputs(b) = %v, want %v", tt.name, got, tt.want)
		}
		if got := b.SameOutputs(a); got != tt.want {
			t.Errorf("%s: b.SameOutputs(a) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
