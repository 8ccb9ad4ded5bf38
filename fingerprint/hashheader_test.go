package fingerprint

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
)

// headerFixture is hashFixture with every field of its model header set,
// under HashRuleHeader.
func headerFixture(meta map[string]string) *Fingerprint {
	fp := hashFixture(0, meta)
	fp.Model = model.Info{Name: "m", Kind: model.Classifier, InputSize: 4, Labels: []string{"a", "b", "c"}, Params: 123,
		Hash: "mh", Source: "/models/m.lnm"}
	if fp.Meta == nil {
		fp.Meta = map[string]string{}
	}
	fp.Meta[MetaHashRule] = HashRuleHeader
	fp.Hash = fp.ComputeHash()
	return fp
}

// TestHashHeaderPinned pins the hash of a model file's fingerprint and of
// a remote one under HashRuleHeader, each computed apart from Go by the
// canonical form ComputeHash documents (testdata/hash_rules.py, which
// gives TestHashPinned's and TestHashRemotePinned's values too).
func TestHashHeaderPinned(t *testing.T) {
	local := headerFixture(map[string]string{MetaLabelMap: "x=a,y=b,z=c"})
	if got, want := local.Hash, "2da88c847d2a01ce954c351c04f0083ccb415aeca09ad2a970d603818f0a02f1"; got != want {
		t.Errorf("model file: Hash = %s, want %s", got, want)
	}
	remote := hashFixture(0, remoteMeta())
	remote.Model = model.Info{Name: "m", Kind: model.Classifier, InputSize: -1, Source: "http://x/v2/models/m"}
	remote.CoverRemote()
	if got, want := remote.Hash, "11d1a8699e3fbe121fb74dd0ad68875987c390e7164dc2b9e20e482b125880b2"; got != want {
		t.Errorf("remote: Hash = %s, want %s", got, want)
	}
	for _, fp := range []*Fingerprint{local, remote} {
		if fp.Meta[MetaHashRule] != HashRuleHeader {
			t.Errorf("%s = %q, want %q", MetaHashRule, fp.Meta[MetaHashRule], HashRuleHeader)
		}
		if err := fp.Verify(); err != nil {
			t.Errorf("Verify = %v", err)
		}
	}
}

// TestHashHeaderFields checks that under HashRuleHeader a change of any
// field of the model header changes the hash (a field model.Info gains
// fails here until hashHeader writes it), and that under HashRuleRemote
// and without a rule none does but Hash, which every rule covers.
func TestHashHeaderFields(t *testing.T) {
	typ := reflect.TypeFor[model.Info]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		t.Run(f.Name, func(t *testing.T) {
			for _, rule := range []string{HashRuleHeader, HashRuleRemote, ""} {
				fp := headerFixture(nil)
				if rule == "" {
					delete(fp.Meta, MetaHashRule)
				} else {
					fp.Meta[MetaHashRule] = rule
				}
				before := fp.ComputeHash()
				v := reflect.ValueOf(&fp.Model).Elem().Field(i)
				switch v.Kind() {
				case reflect.String:
					v.SetString(v.String() + "x")
				case reflect.Int:
					v.SetInt(v.Int() + 1)
				case reflect.Slice:
					v.Set(reflect.Append(v, reflect.ValueOf("x")))
				default:
					t.Fatalf("model.Info.%s of kind %s: teach this test and hashHeader about it", f.Name, v.Kind())
				}
				covered := rule == HashRuleHeader || f.Name == "Hash"
				if changed := fp.ComputeHash() != before; changed != covered {
					t.Errorf("rule %q: %s changed: hash changed %v, want %v", rule, f.Name, changed, covered)
				}
			}
		})
	}
	// Lengths keep one field's bytes from reading as another's.
	seen := map[string]string{}
	for name, m := range map[string]model.Info{
		"name ab":        {Name: "ab"},
		"name a, kind b": {Name: "a", Kind: "b"},
		"labels a b":     {Labels: []string{"a", "b"}},
		"labels ab":      {Labels: []string{"ab"}},
		"labels a, b":    {Labels: []string{"a"}, Source: "b"},
		"input size 1":   {InputSize: 1},
		"params 1":       {Params: 1},
		"empty":          {},
	} {
		fp := headerFixture(nil)
		fp.Model = m
		h := fp.ComputeHash()
		if other, ok := seen[h]; ok {
			t.Errorf("header %s hashes as %s does", name, other)
		}
		seen[h] = name
	}
	// No labels and an empty list are one header (JSON null and []).
	a, b := headerFixture(nil), headerFixture(nil)
	a.Model.Labels, b.Model.Labels = nil, []string{}
	if a.ComputeHash() != b.ComputeHash() {
		t.Error("nil and empty labels hash apart")
	}
}

// TestHashHeaderEdit checks that an edit of the model header of a
// fingerprint under HashRuleHeader, or of its rule to pass it off as a
// record of an older one, with or without an edit of the header, fails
// Verify and VerifyEncoded alike in one line naming the fingerprint.
func TestHashHeaderEdit(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Fingerprint)
	}{
		{"name changed", func(fp *Fingerprint) { fp.Model.Name = "teacher" }},
		{"kind changed", func(fp *Fingerprint) { fp.Model.Kind = model.LanguageModel }},
		{"input size changed", func(fp *Fingerprint) { fp.Model.InputSize = 5 }},
		{"labels renamed", func(fp *Fingerprint) { fp.Model.Labels = []string{"a", "b", "d"} }},
		{"labels reordered", func(fp *Fingerprint) { fp.Model.Labels = []string{"b", "a", "c"} }},
		{"labels removed", func(fp *Fingerprint) { fp.Model.Labels = nil }},
		{"label added", func(fp *Fingerprint) { fp.Model.Labels = append(fp.Model.Labels, "d") }},
		{"params changed", func(fp *Fingerprint) { fp.Model.Params = 7 }},
		{"source changed", func(fp *Fingerprint) { fp.Model.Source = "/models/teacher.lnm" }},
		{"source removed", func(fp *Fingerprint) { fp.Model.Source = "" }},
		{"rule removed", func(fp *Fingerprint) { delete(fp.Meta, MetaHashRule) }},
		{"rule lowered to 2", func(fp *Fingerprint) { fp.Meta[MetaHashRule] = HashRuleRemote }},
		{"rule removed, name changed", func(fp *Fingerprint) { delete(fp.Meta, MetaHashRule); fp.Model.Name = "teacher" }},
		{"rule lowered to 2, labels changed", func(fp *Fingerprint) {
			fp.Meta[MetaHashRule] = HashRuleRemote
			fp.Model.Labels = []string{"b", "a", "c"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := headerFixture(map[string]string{MetaLabelMap: "x=a,y=b,z=c"})
			tt.edit(fp)
			if err := checkVerifyRefused(t, fp); err != nil && strings.Count(err.Error(), `fingerprint "x"`) != 1 {
				t.Errorf("Verify: got %v, want it naming fingerprint \"x\" once", err)
			}
		})
	}
}

// TestSameOutputsHeader checks that SameOutputs leaves the model header
// aside but its hash: a model file read from another path, or recorded
// by lineage before HashRuleHeader, holds the same outputs.
func TestSameOutputsHeader(t *testing.T) {
	base := headerFixture(nil)
	older := base.Clone() // before HashRuleHeader
	delete(older.Meta, MetaHashRule)
	older.Hash = older.ComputeHash()
	tests := []struct {
		name string
		edit func(*Fingerprint)
		want bool
	}{
		{"another path", func(fp *Fingerprint) { fp.Model.Source = "/elsewhere/m.lnm" }, true},
		{"the older record", func(fp *Fingerprint) { *fp = *older.Clone() }, true},
		{"labels in another order", func(fp *Fingerprint) { fp.Model.Labels = []string{"c", "b", "a"} }, true},
		{"another model hash", func(fp *Fingerprint) { fp.Model.Hash = "other" }, false},
		{"other outputs", func(fp *Fingerprint) { fp.P.Data[0], fp.P.Data[1] = 0.25, 0.5 }, false},
	}
	for _, tt := range tests {
		b := base.Clone()
		tt.edit(b)
		if b.Meta[MetaHashRule] != "" {
			b.Hash = b.ComputeHash()
		}
		if got := base.SameOutputs(b); got != tt.want {
			t.Errorf("%s: a.SameOutputs(b) = %v, want %v", tt.name, got, tt.want)
		}
		if got := b.SameOutputs(base); got != tt.want {
			t.Errorf("%s: b.SameOutputs(a) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestTakeHeaderNotUTF8 checks that a fingerprint Take returns from a
// model whose header holds bytes that are not UTF-8 (a model file's path
// on a file system of another encoding) verifies once encoded and read
// back, and that the JSON form (db show) reads back the header Take
// returned: both keep each such byte as U+FFFD, so Take must hash the
// header as they keep it.
func TestTakeHeaderNotUTF8(t *testing.T) {
	tests := []struct {
		name, model, source string
		label               string
	}{
		{"source", "m", "/models/ind\xff.lnm", "a"},
		{"two bytes", "m", "/models/\xff\xfe.lnm", "a"},
		{"cut rune", "m\xc3", "m.lnm", "a"},
		{"label", "m", "m.lnm", "a\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels := []string{tt.label, "b", "c"}
			m := softmaxModel(tt.model, 4, labels, 5)
			m.info.Source = tt.source
			fp, err := Take(context.Background(), m, testSuite(8, 4, labels, 3), Options{ID: "fp"})
			if err != nil {
				t.Fatal(err)
			}
			data, err := Encode(fp)
			if err != nil {
				t.Fatal(err)
			}
			got, err := VerifyEncoded(data)
			if err != nil {
				t.Fatalf("VerifyEncoded = %v, want nil", err)
			}
			if got.Model.Source != fp.Model.Source || got.Model.Name != fp.Model.Name {
				t.Errorf("read back: model %q from %q, want %q from %q (what Take returned)", got.Model.Name, got.Model.Source, fp.Model.Name, fp.Model.Source)
			}
			js, err := json.Marshal(fp)
			if err != nil {
				t.Fatal(err)
			}
			var back Fingerprint
			if err := json.Unmarshal(js, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Model, fp.Model) {
				t.Errorf("JSON form: model %+v, want %+v (what Take returned)", back.Model, fp.Model)
			}
		})
	}
}
