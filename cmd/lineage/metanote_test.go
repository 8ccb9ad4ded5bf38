package main

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// withoutMeta returns m's safetensors encoding without the metadata keys
// drop, as a PyTorch export written by hand may lack them.
func withoutMeta(t *testing.T, m *model.MLP, drop ...string) []byte {
	t.Helper()
	data, err := model.EncodeSafetensors(m)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(data)
	var h map[string]json.RawMessage
	if err := json.Unmarshal(data[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if err := json.Unmarshal(h["__metadata__"], &meta); err != nil {
		t.Fatal(err)
	}
	for _, k := range drop {
		delete(meta, k)
	}
	h["__metadata__"], _ = json.Marshal(meta)
	hdr, _ := json.Marshal(h)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	return append(append(out, hdr...), data[8+n:]...)
}

// TestDefaultedMetadataNote checks that a safetensors model read without
// its "normalization" metadata (a PyTorch export trained on standardised
// inputs, say, which is then fed raw pixels and answers wrongly without
// any error) gets one line on stderr naming the key, and a complete file
// none.
func TestDefaultedMetadataNote(t *testing.T) {
	t.Chdir(t.TempDir())
	m := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	if err := model.SaveSafetensors("full.safetensors", m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("nonorm.safetensors", withoutMeta(t, m, "normalization"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "eval", "full.safetensors", "--data", "digits")
	if code != exitOK || stderr != "" {
		t.Errorf("eval of a complete file: exit %d, stderr %q; want 0 and nothing", code, stderr)
	}
	_, stderr, code = runCLI(t, "eval", "nonorm.safetensors", "--data", "digits")
	want := `lineage: nonorm.safetensors has no "normalization" metadata, so it is read with inputs used as they are, not normalised`
	if code != exitOK || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("eval without normalization: exit %d, stderr %q; want 0 and one line starting %q", code, stderr, want)
	}
	_, stderr, _ = runCLI(t, "serve", "nonorm.safetensors", "--addr", "256.0.0.1:1")
	if !strings.Contains(stderr, want) {
		t.Errorf("serve without normalization: stderr %q, want the note %q", stderr, want)
	}
}

// TestCheckTeacherFitsOrder checks that enroll's refusal of a teacher
// listing the dataset's labels in another order says that is why.
func TestCheckTeacherFitsOrder(t *testing.T) {
	d := dataset.Digits()
	rev := slices.Clone(dataset.DigitLabels)
	slices.Reverse(rev)
	err := checkTeacherFits("t.safetensors", model.Info{InputSize: 64, Labels: rev}, "digits", d, false)
	if err == nil || !strings.Contains(err.Error(), "the same labels in another order, and enrol takes a teacher in the dataset's order only") {
		t.Errorf("reversed labels: %v, want the reason", err)
	}
	other := append(slices.Clone(dataset.DigitLabels[:9]), "x")
	if err := checkTeacherFits("t.safetensors", model.Info{InputSize: 64, Labels: other}, "digits", d, false); err == nil || strings.Contains(err.Error(), "another order") {
		t.Errorf("other labels: %v, want a refusal without the order hint", err)
	}
	if err := checkTeacherFits("t.safetensors", model.Info{InputSize: 64, Labels: rev}, "digits", d, true); err != nil {
		t.Errorf("reversed labels, any order: %v", err)
	}
}

// TestDefaultedMetadataRecorded checks that a fingerprint of a safetensors
// model read without some metadata records the keys
// (fingerprint.MetaDefaulted), so that an audit of it, then or from the
// store later, lists them (and does not clear it), and that a complete
// file's fingerprint records none.
func TestDefaultedMetadataRecorded(t *testing.T) {
	t.Chdir(t.TempDir())
	db := tinyEnrolments(t, 6, "acme")
	m := model.NewMLP([]int{2, 4, 3}, model.ActReLU, model.DefaultLabels(3), rand.New(rand.NewPCG(3, 4)))
	if err := model.SaveSafetensors("full.safetensors", m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("bare.safetensors", withoutMeta(t, m, "normalization", "activation"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file, name string
		want       []string
	}{
		{"full.safetensors", "full", nil},
		{"bare.safetensors", "bare", []string{"activation", "normalization"}},
	} {
		if _, stderr, code := runCLI(t, "--db", db, "probe", tt.file, "--suite", "acme", "--name", tt.name); code != exitOK {
			t.Fatalf("probe %s: exit %d, stderr %q", tt.file, code, stderr)
		}
		out, stderr, code := runCLI(t, "--db", db, "db", "show", "fingerprint", tt.name)
		if code != exitOK {
			t.Fatalf("db show %s: exit %d, stderr %q", tt.name, code, stderr)
		}
		var fp struct {
			Meta map[string]string `json:"meta"`
		}
		if err := json.Unmarshal([]byte(out), &fp); err != nil {
			t.Fatalf("db show %s: %v\n%s", tt.name, err, out)
		}
		if got, want := fp.Meta["defaulted_metadata"], strings.Join(tt.want, ","); got != want {
			t.Errorf("%s: meta defaulted_metadata %q, want %q", tt.file, got, want)
		}
		for _, ref := range []string{tt.name, tt.file} { // stored, and taken afresh
			out, stderr, code = runCLI(t, "--db", db, "audit", ref, "--format", "json")
			if code != exitOK {
				t.Fatalf("audit %s: exit %d, stderr %q", ref, code, stderr)
			}
			var res struct {
				Results []struct {
					Defaulted []string `json:"defaulted_metadata"`
				} `json:"results"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Results) != 1 {
				t.Fatalf("audit %s: %v\n%s", ref, err, out)
			}
			if got := res.Results[0].Defaulted; !slices.Equal(got, tt.want) {
				t.Errorf("audit %s: defaulted_metadata %q, want %q", ref, got, tt.want)
			}
		}
	}
}
