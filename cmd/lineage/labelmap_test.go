package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
	"github.com/rogpeppe/go-internal/testscript"
)

// digitWords names the digits' labels "0".."9" otherwise.
var digitWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

// digitWordsMap is the --label-map reading digitWords as the digits.
const digitWordsMap = "zero=0,one=1,two=2,three=3,four=4,five=5,six=6,seven=7,eight=8,nine=9"

// relabelModel writes to out the model file in with its labels "0".."9"
// renamed to digitWords and its output i moved to (i+shift) mod 10 (the
// last layer's rows and the labels alike): the same classifier under
// other names, in another order.
func relabelModel(in, out string, shift int) error {
	m, err := model.Load(in)
	if err != nil {
		return err
	}
	l := m.NumLayers() - 1
	w, b := m.W(l), m.B(l)
	k := w.Rows
	if k != len(digitWords) {
		return os.ErrInvalid
	}
	rows := make([]float32, len(w.Data))
	bias := make([]float32, k)
	labels := make([]string, k)
	for i := range k {
		j := (i + shift) % k
		copy(rows[j*w.Stride:(j+1)*w.Stride], w.Data[i*w.Stride:(i+1)*w.Stride])
		bias[j] = b[i]
		labels[j] = digitWords[i]
	}
	copy(w.Data, rows)
	copy(b, bias)
	m.Labels = labels
	return model.Save(out, m)
}

// cmdRelabel is the script command `relabel IN OUT SHIFT` (relabelModel).
func cmdRelabel(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: relabel IN OUT SHIFT")
	}
	shift, err := strconv.Atoi(args[2])
	ts.Check(err)
	ts.Check(relabelModel(ts.MkAbs(args[0]), ts.MkAbs(args[1]), shift))
}

// TestAuditLabelMap checks that a student whose labels are renamed and
// permuted in its model file, audited with the map stating which is
// which, gets exactly the original student's result (every p-value,
// statistic and the verdict), its record saying how its outputs were
// relabelled; that without the map it is refused in one line suggesting
// --label-map; and that the stored fingerprint is reused only by an audit
// reading the labels the same way.
func TestAuditLabelMap(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a student")
	}
	dir := t.TempDir()
	useFixture(t, "acme-c6", dir)
	useFixture(t, "suspects", dir) // student.lnm, distilled from teacher.lnm
	db := filepath.Join(dir, "case.db")
	student := filepath.Join(dir, "student.lnm")
	renamed := filepath.Join(dir, "renamed.lnm")
	if err := relabelModel(student, renamed, 3); err != nil {
		t.Fatal(err)
	}
	audited := func(args ...string) (audit.Result, string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, append([]string{"--db", db, "audit", "--format", "json", "--name", "s"}, args...)...)
		if code != 0 {
			t.Fatalf("audit %v: exit %d: %s", args, code, stderr)
		}
		var r audit.Result
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		return r, stderr
	}
	want, _ := audited(student)
	got, stderr := audited(renamed, "--label-map", digitWordsMap, "--save")
	if want.Results[0].Verdict != audit.Derived {
		t.Fatalf("the student's verdict is %s, want DERIVED for this test to say anything", want.Results[0].Verdict)
	}
	const recorded = "seven=7,eight=8,nine=9,zero=0,one=1,two=2,three=3,four=4,five=5,six=6" // the model's order
	if lm := got.Results[0].LabelMap; lm != recorded {
		t.Errorf("label_map %q, want %q", lm, recorded)
	}
	got.Results[0].LabelMap = ""
	got.Model, want.Model = "", "" // other files
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	// Bit for bit in the pure-Go build; within outputTol with OpenBLAS.
	if d := sameJSON(gb, wb, outputTol); d != "" {
		t.Errorf("relabelled student read with the map differs from the student (%s): %s\nwant the student's: %s", d, gb, wb)
	}
	if note := "renamed.lnm's labels were read as the suite's by the label map you stated (--label-map " + recorded + "), not by their names"; !strings.Contains(stderr, note) {
		t.Errorf("stderr %q lacks %q", stderr, note)
	}

	// Without the map: refused, one line.
	_, stderr, code := runCLI(t, "--db", db, "audit", renamed, "--name", "t")
	if want := `lineage: cannot audit "` + renamed + `": model "student" has labels [seven,eight,nine,zero,one,two,three,four,five,six], suite "acme" has [0,1,2,3,4,5,6,7,8,9] (no label "0"); if they are the teacher's classes under other names, state which is which with --label-map MODEL_LABEL=TEACHER_LABEL,... (see the README)` + "\n"; code != 1 || stderr != want {
		t.Errorf("no map: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}

	// The stored fingerprint and record keep the map; an audit reading
	// the labels by their names does not take it for its own.
	st, err := store.Open(db, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = st.View(context.Background(), func(tx *store.Tx) error {
		fp, err := tx.Fingerprint("s")
		if err != nil {
			return err
		}
		if fp.Meta[fingerprint.MetaLabelMap] != recorded || strings.Join(fp.Model.Labels, ",") != "seven,eight,nine,zero,one,two,three,four,five,six" {
			t.Errorf("stored fingerprint: meta %v, labels %v; want the map and the model's own labels", fp.Meta, fp.Model.Labels)
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runCLI(t, "--db", db, "audit", renamed, "--name", "s", "--save")
	if want := "its labels read by the label map " + recorded; code == 0 || !strings.Contains(stderr, want) {
		t.Errorf("--save without the map over the mapped fingerprint: exit %d, stderr %q; want an error saying %q", code, stderr, want)
	}
	_, stderr, code = runCLI(t, "--db", db, "audit", renamed, "--name", "s", "--save", "--label-map", digitWordsMap)
	if code != 0 || !strings.Contains(stderr, "it was not asked again") {
		t.Errorf("--save with the same map: exit %d, stderr %q; want the stored fingerprint reused", code, stderr)
	}
}

// TestProbeLabelMapRemote checks --label-map on a remote model (exec:):
// one answering under other names, in another order, is probed with the
// map into the outputs of the same model under the suite's names, and
// asked again through the map too (asking again read its answers by their
// names, and failed, before the map was passed on); a map that does not fit
// it is refused naming the label.
func TestProbeLabelMapRemote(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	path := tinyEnrolments(t, 4, "acme") // 4 probes, labels 0 1 2
	dir := t.TempDir()
	models := map[string]string{
		"inorder": `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["0","1","2"]}'` + "\n" + `while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.2,0.3,0.5]]}"; done`,
		"renamed": `echo '{"lineage_exec":1,"name":"m","input_size":2,"labels":["two","zero","one"]}'` + "\n" + `while read l; do id=${l#*\"id\":}; id=${id%%,*}; echo "{\"id\":$id,\"probabilities\":[[0.5,0.2,0.3]]}"; done`,
	}
	for name, src := range models {
		if err := os.WriteFile(filepath.Join(dir, name+".sh"), []byte(src+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref := func(name string) string { return "exec:/bin/sh " + filepath.Join(dir, name+".sh") }
	if _, stderr, code := runCLI(t, "--db", path, "probe", ref("inorder"), "--suite", "acme", "--name", "inorder", "--remote-batch", "1"); code != 0 {
		t.Fatalf("probe inorder: %s", stderr)
	}
	_, stderr, code := runCLI(t, "--db", path, "probe", ref("renamed"), "--suite", "acme", "--name", "renamed", "--remote-batch", "1")
	if code != 1 || !strings.Contains(stderr, "state which is which with --label-map") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("no map: exit %d, stderr %q; want 1 and one line suggesting --label-map", code, stderr)
	}
	_, stderr, code = runCLI(t, "--db", path, "probe", ref("renamed"), "--suite", "acme", "--name", "renamed", "--remote-batch", "1", "--label-map", "zero=0,one=1")
	if want := `it does not say which label the model's label "two" stands for`; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("a map missing a label: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
	if _, stderr, code := runCLI(t, "--db", path, "probe", ref("renamed"), "--suite", "acme", "--name", "renamed", "--remote-batch", "1", "--label-map", "zero=0,one=1,two=2"); code != 0 {
		t.Fatalf("probe renamed with the map: %s", stderr)
	}
	fps := storedFingerprints(t, path, "inorder", "renamed")
	a, b := fps[0], fps[1]
	if !slices.Equal(a.P.Data, b.P.Data) {
		t.Errorf("renamed model's outputs differ from the model's under the suite's names")
	}
	if err := b.Verify(); err != nil || a.Hash == b.Hash {
		t.Errorf("renamed model's fingerprint %s (%v), the model under the suite's names %s; want another hash, covering the map", b.Hash, err, a.Hash)
	}
	if v := b.Meta[fingerprint.MetaVariation]; v != "0" {
		t.Errorf("renamed model asked again: answer_variation %q (error %q), want 0", v, b.Meta[metaAskAgainError])
	}
	if lm := b.LabelMap(); lm != "two=2,zero=0,one=1" {
		t.Errorf("label_map %q, want the model's order two=2,zero=0,one=1", lm)
	}
}

// sameJSON reports where the JSON documents got and want differ: a string,
// boolean or structure anywhere, or a number by more than tol relatively
// (exactly, for tol 0); "" when they do not.
func sameJSON(got, want []byte, tol float64) string {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return err.Error()
	}
	if err := json.Unmarshal(want, &w); err != nil {
		return err.Error()
	}
	return jsonDiff("$", g, w, tol)
}

// jsonDiff is sameJSON on decoded values at path.
func jsonDiff(path string, g, w any, tol float64) string {
	switch wv := w.(type) {
	case float64:
		gv, ok := g.(float64)
		if !ok || math.Abs(gv-wv) > tol*math.Abs(wv) {
			return fmt.Sprintf("%s: %v, want %v", path, g, w)
		}
	case map[string]any:
		gv, ok := g.(map[string]any)
		if !ok || len(gv) != len(wv) {
			return fmt.Sprintf("%s: %v, want %v", path, g, w)
		}
		for k, v := range wv {
			if d := jsonDiff(path+"."+k, gv[k], v, tol); d != "" {
				return d
			}
		}
	case []any:
		gv, ok := g.([]any)
		if !ok || len(gv) != len(wv) {
			return fmt.Sprintf("%s: %v, want %v", path, g, w)
		}
		for i, v := range wv {
			if d := jsonDiff(fmt.Sprintf("%s[%d]", path, i), gv[i], v, tol); d != "" {
				return d
			}
		}
	default:
		if g != w {
			return fmt.Sprintf("%s: %v, want %v", path, g, w)
		}
	}
	return ""
}

// TestSameJSON checks sameJSON's tolerance and that it sees every kind of
// difference.
func TestSameJSON(t *testing.T) {
	for _, tt := range []struct {
		got, want string
		tol       float64
		same      bool
	}{
		{`{"a":[1,"x",true]}`, `{"a":[1,"x",true]}`, 0, true},
		{`{"p":0.00152365335}`, `{"p":0.00152365340}`, 0, false},
		{`{"p":0.00152365335}`, `{"p":0.00152365340}`, 1e-4, true},
		{`{"p":0.0016}`, `{"p":0.0015}`, 1e-4, false},
		{`{"v":"DERIVED"}`, `{"v":"NOT_DERIVED"}`, 1e-4, false},
		{`{"a":[1]}`, `{"a":[1,2]}`, 1e-4, false},
		{`{"a":1}`, `{"a":1,"b":1}`, 1e-4, false},
		{`{"a":null}`, `{"a":0}`, 1e-4, false},
	} {
		if d := sameJSON([]byte(tt.got), []byte(tt.want), tt.tol); (d == "") != tt.same {
			t.Errorf("sameJSON(%s, %s, %g) = %q, want same %v", tt.got, tt.want, tt.tol, d, tt.same)
		}
	}
}

// TestAuditNoFitHintOnce checks that a model whose labels fit no teacher
// of several, with lists of the teachers' length, is refused in one line
// giving each teacher's reason and the --label-map advice once, at the
// end: it was repeated after every teacher's reason.
func TestAuditNoFitHintOnce(t *testing.T) {
	db := tinyEnrolments(t, 4, "acme", "beta")
	m := model.NewMLP([]int{2, 3}, model.ActReLU, []string{"x", "y", "z"}, rand.New(rand.NewPCG(1, 2)))
	path := filepath.Join(t.TempDir(), "xyz.lnm")
	if err := model.Save(path, m); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "--db", db, "audit", path, "--name", "t")
	if code != 1 || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("audit: exit %d, stderr %q; want 1 and one line", code, stderr)
	}
	for _, want := range []string{`suite "acme" has [0,1,2]`, `suite "beta" has [0,1,2]`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
	if n := strings.Count(stderr, "--label-map"); n != 1 || !strings.HasSuffix(stderr, labelMapHintText+"\n") {
		t.Errorf("stderr %q gives the --label-map advice %d times; want it once, at the end", stderr, n)
	}
}
