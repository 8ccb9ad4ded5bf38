package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/store"
)

// TestFigureName checks the rule a teacher's name is kept in a figure's
// file name by: only ASCII letters, digits, '.', '_' and '-' and other
// scripts' letters, marks and digits; anything else becomes '_' with a
// hash of the name after it ('"', '|', ',' and '!' were kept, ' ' became
// '_' with no hash, so "x y" and a teacher named "x_y" had one name).
func TestFigureName(t *testing.T) {
	tests := []struct {
		in   string
		hash bool
		room int
		want string
	}{
		{"acme", false, 100, "acme"},
		{"x-1.2_β", false, 100, "x-1.2_β"},
		{"e\u0301te", false, 100, "e\u0301te"},
		{"a/b c:d", false, 100, "a_b_c_d-ff3c2527"},
		{"x y", false, 100, "x_y-887fcea6"},
		{"x|y", false, 100, "x_y-791a886d"},
		{`Ωmega "lab", v2 | β`, false, 100, "Ωmega__lab___v2___β-de6769b0"},
		{"acme", true, 100, "acme-822b33ad"},
		{"abcdefghijklmnopqrstuvwxyz", false, 20, "abcdefghijk-71c480df"},
		{"éééééééé", false, 12, "é-3889e5eb"}, // cut at a character's start
	}
	for _, tt := range tests {
		if got := figureName(tt.in, tt.room, tt.hash); got != tt.want {
			t.Errorf("figureName(%q, %d, %v) = %q, want %q", tt.in, tt.room, tt.hash, got, tt.want)
		}
	}
}

func TestFigurePaths(t *testing.T) {
	tests := []struct {
		names []string
		want  []string
	}{
		{[]string{"acme"}, []string{"m.png"}},
		// "x_y" keeps its name; "x_y" and "X_Y", alike on a case-insensitive
		// file system, each get their hash (they got "-2" and "-3" by order).
		{[]string{"acme", "x y", "x_y", "X_Y", "x_y-2"}, []string{"m-acme.png", "m-x_y-887fcea6.png", "m-x_y-f9068e81.png", "m-X_Y-b6cd99a6.png", "m-x_y-2.png"}},
		// A name made to look like another's hashed one is kept apart too.
		{[]string{"x y", "x_y-887fcea6"}, []string{"m-x_y-887fcea6.png", "m-x_y-887fcea6-" + hash8("x_y-887fcea6") + ".png"}},
		// One file on APFS (normalization-insensitive): "café" with
		// U+00E9 and with e + U+0301 each get their hash (both were
		// kept whole, the second figure overwriting the first on macOS).
		{[]string{"caf\u00e9", "cafe\u0301"}, []string{"m-caf\u00e9-" + hash8("caf\u00e9") + ".png", "m-cafe\u0301-" + hash8("cafe\u0301") + ".png"}},
		// One file on NTFS, whose upper case of "ς" is "Σ" as of "σ"
		// (strings.ToLower kept them apart).
		{[]string{"ασ", "ας"}, []string{"m-ασ-" + hash8("ασ") + ".png", "m-ας-" + hash8("ας") + ".png"}},
		// Names unlike but for the case of non-ASCII letters.
		{[]string{"Ωmega", "ωmega", "beta"}, []string{"m-Ωmega-" + hash8("Ωmega") + ".png", "m-ωmega-" + hash8("ωmega") + ".png", "m-beta.png"}},
	}
	for _, tc := range tests {
		got := figurePaths("m.png", tc.names)
		if !slices.Equal(got, tc.want) {
			t.Errorf("figurePaths(%q) = %q, want %q", tc.names, got, tc.want)
		}
	}
}

// hash8 returns the first 8 hex digits of the SHA-256 of s.
func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// TestFigurePathsLongNames: a teacher name may be 1,024 bytes, a file name
// 255; report --plot failed with "file name too long" after writing the
// other teachers' figures. Long names are cut, keeping files apart.
func TestFigurePathsLongNames(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("T", 300)
	names := []string{"acme", long, long + "x", strings.Repeat("é", 600), strings.Repeat("T", 1024)}
	paths := figurePaths(filepath.Join(dir, "null.svg"), names)
	seen := map[string]bool{}
	for i, p := range paths {
		base := filepath.Base(p)
		if len(base) > nameMax || !utf8.ValidString(base) || !strings.HasSuffix(base, ".svg") || seen[p] {
			t.Errorf("teacher %d: path %q (%d bytes), want a distinct valid .svg name of at most %d bytes", i, base, len(base), nameMax)
		}
		seen[p] = true
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Errorf("teacher %d: %v", i, err)
		}
	}
	if paths[0] != filepath.Join(dir, "null-acme.svg") {
		t.Errorf("short name: %q, want it whole", paths[0])
	}
}

// TestSharedPath checks that the two figure flags are refused when, named
// per teacher, they would write one file: teachers "x" and "a-x" with
// --plot a.png and --plot-matrix a-a.png both give a-a-x.png.
func TestSharedPath(t *testing.T) {
	ts := []string{"x", "a-x"}
	null, matrix := figurePaths("a.png", ts), figurePaths("a-a.png", ts)
	if p, ok := sharedPath(null, matrix); !ok || p != "a-a-x.png" {
		t.Errorf("sharedPath(%q, %q) = %q, %v; want a-a-x.png, true", null, matrix, p, ok)
	}
	if p, ok := sharedPath(figurePaths("n.png", ts), figurePaths("m.png", ts)); ok {
		t.Errorf("distinct flags: shared %q", p)
	}
	if _, ok := sharedPath([]string{"dir/A.PNG"}, []string{"./dir/a.png"}); !ok {
		t.Error("paths differing in case and ./: not shared")
	}
	if _, ok := sharedPath([]string{"caf\u00e9.png"}, []string{"cafe\u0301.png"}); !ok {
		t.Error("paths differing in the form of an accent (one file on APFS): not shared")
	}
}

// TestReportUnmeasuredTeachers checks that a recorded audit counts, lists
// and plots a suspect only under the teachers it was measured against: a
// teacher whose suite it was not fingerprinted on (INCONCLUSIVE "not
// fingerprinted on this suite") or a result of an enrolment of that name on
// another suite gives no verdict row and no "audited" count.
func TestReportUnmeasuredTeachers(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	ctx := context.Background()
	g := &globalOptions{db: path}
	var suites map[string]string
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		suites = map[string]string{}
		es, err := tx.Enrolments()
		for _, e := range es {
			suites[e.Name] = e.Suite
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	measured := func(teacher string, v audit.Verdict) audit.TeacherResult {
		return audit.TeacherResult{Teacher: teacher, Suite: suites[teacher], Verdict: v, PValue: 0.5, PCombined: 0.5,
			PerKind: map[string]float64{"agreement": 0.8}, TPR: 1, FPR: 0}
	}
	unmeasured := func(teacher string) audit.TeacherResult {
		return audit.TeacherResult{Teacher: teacher, Suite: suites[teacher], Verdict: audit.Inconclusive, PValue: 1, PCombined: 1,
			Reason: "not fingerprinted on this suite", TPR: 1, FPR: 0}
	}
	stale := measured("beta", audit.Derived)
	stale.Suite = suites["acme"] // an earlier "beta" enrolled on another suite
	records := map[string]audit.Result{
		"on-acme": {Suspect: "on-acme", Alpha: 0.01, Results: []audit.TeacherResult{measured("acme", audit.NotDerived), unmeasured("beta")}},
		"on-beta": {Suspect: "on-beta", Alpha: 0.01, Results: []audit.TeacherResult{unmeasured("acme"), measured("beta", audit.Derived)}},
		"stale":   {Suspect: "stale", Alpha: 0.01, Results: []audit.TeacherResult{stale}},
	}
	if err := updateDB(ctx, g, func(tx *store.Tx) error {
		for id, res := range records {
			raw, err := json.Marshal(res)
			if err != nil {
				return err
			}
			rec := &store.AuditRecord{ID: id, Suspect: "acme/teacher", Result: raw}
			if err := tx.PutAudit(rec, store.PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Teachers []struct {
			Teacher string `json:"teacher"`
			Audited int    `json:"suspects_audited"`
			Derived int    `json:"suspects_derived"`
		} `json:"teachers"`
		Verdicts []struct {
			Suspect string `json:"suspect"`
			Teacher string `json:"teacher"`
		} `json:"verdicts"`
	}
	var out bytes.Buffer
	root := newRootCommand()
	root.SetOut(&out)
	root.SetArgs([]string{"--db", path, "report", "--format", "json"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var rows []string
	for _, v := range doc.Verdicts {
		rows = append(rows, v.Suspect+"@"+v.Teacher)
	}
	slices.Sort(rows)
	if want := []string{"on-acme@acme", "on-beta@beta"}; !slices.Equal(rows, want) {
		t.Errorf("verdict rows %q, want %q", rows, want)
	}
	for _, ts := range doc.Teachers {
		if ts.Audited != 1 {
			t.Errorf("teacher %s: %d suspects audited, want 1", ts.Teacher, ts.Audited)
		}
		if want := map[string]int{"acme": 0, "beta": 1}[ts.Teacher]; ts.Derived != want {
			t.Errorf("teacher %s: %d suspects derived, want %d", ts.Teacher, ts.Derived, want)
		}
	}
}

// TestReportPlotNoTeacher checks that a figure asked of a database with no
// enrolled teacher is an error naming the flag: the report used to exit 0
// without the file.
func TestReportPlotNoTeacher(t *testing.T) {
	path := newStore(t)
	for _, flag := range []string{"--plot", "--plot-matrix"} {
		fig := filepath.Join(t.TempDir(), "f.png")
		_, stderr, code := runCLI(t, "--db", path, "report", flag, fig)
		if code != exitError || !strings.Contains(stderr, flag+": "+path+" holds no enrolled teacher") {
			t.Errorf("report %s: exit %d, stderr %q; want 1 and the reason", flag, code, stderr)
		}
		if _, err := os.Stat(fig); err == nil {
			t.Errorf("report %s wrote %s", flag, fig)
		}
	}
}

// TestQuoteSome checks the list of labels the PNG warning quotes: every
// one up to the limit, then an ellipsis (it once said "2 labels" and
// quoted one).
func TestQuoteSome(t *testing.T) {
	for _, tt := range []struct {
		names []string
		want  string
	}{
		{[]string{"a"}, `"a"`},
		{[]string{"a", "b"}, `"a", "b"`},
		{[]string{"a", "b", "c"}, `"a", "b", "c"`},
		{[]string{"a", "b", "c", "d"}, `"a", "b", "c", …`},
	} {
		if got := quoteSome(tt.names, 3); got != tt.want {
			t.Errorf("quoteSome(%q, 3) = %s, want %s", tt.names, got, tt.want)
		}
	}
}

// TestReportFigureDirectory checks that a teacher's figure file that is a
// directory is a usage error naming it, with no figure written and no
// report printed.
func TestReportFigureDirectory(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "null-beta.svg"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"--db", path, "report", "--plot", filepath.Join(dir, "null.svg")})
	err := root.ExecuteContext(context.Background())
	var ue usageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `null-beta.svg" is a directory`) {
		t.Errorf("report: error %v, want a usage error naming null-beta.svg as a directory", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "null-acme.svg")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("null-acme.svg: %v, want it not written", err)
	}
	if out.Len() > 0 {
		t.Errorf("report printed %d bytes, want none", out.Len())
	}
}

// failingWriter fails every write, as stdout on a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestReportWriteError checks that a report that cannot be written says
// what it was writing in every format: JSON said only the writer's error.
func TestReportWriteError(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	for _, f := range []string{"json", "csv", "table"} {
		root := newRootCommand()
		var errw bytes.Buffer
		root.SetArgs([]string{"--db", path, "report", "--format", f})
		root.SetOut(failingWriter{})
		root.SetErr(&errw)
		err := root.Execute()
		code := exitCode(&errw, err)
		want := "report: writing the report as json: no space left on device"
		if f != "json" {
			want = "report: writing tables as " + f + ": no space left on device"
		}
		if code == exitOK || !strings.Contains(errw.String(), want) || strings.Count(errw.String(), "\n") != 1 {
			t.Errorf("report --format %s to a failing writer: exit %d, stderr %q; want one line with %q", f, code, errw.String(), want)
		}
	}
}

// TestJSONWriteError checks that the other commands' --format json output
// (writeJSON) says what it was writing when the writer fails: it said only
// the writer's error.
func TestJSONWriteError(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	for _, args := range [][]string{
		{"db", "verify", "--format", "json"},
		{"db", "ls", "--format", "json"},
		{"reference", "ls", "--format", "json"},
	} {
		root := newRootCommand()
		var errw bytes.Buffer
		root.SetArgs(append([]string{"--db", path}, args...))
		root.SetOut(failingWriter{})
		root.SetErr(&errw)
		err := root.Execute()
		code := exitCode(&errw, err)
		const want = "writing the output as json: no space left on device"
		if code == exitOK || !strings.Contains(errw.String(), want) || strings.Count(errw.String(), "\n") != 1 {
			t.Errorf("%s to a failing writer: exit %d, stderr %q; want one line with %q", strings.Join(args, " "), code, errw.String(), want)
		}
	}
}

// TestReportPlotPortableNames checks report's per-teacher figure file
// names (--plot's and --plot-matrix's, named alike; drawn here with
// --plot-matrix, which needs no controls): a name of ASCII letters, digits, '.', '_' and '-' and of other
// scripts' letters is kept, any other character becomes '_' with a hash of
// the name after it, so that no file name holds what Windows refuses or a
// shell must quote ('"', '|', ',' and spaces were kept), and a teacher whose
// name needs no change keeps it whatever the other teachers are called
// ("x_y" got fig-x_y-2.svg when "x y" sorted first and took fig-x_y.svg).
func TestReportPlotPortableNames(t *testing.T) {
	names := []string{`Ωmega "lab", v2 | β`, "x y", "x_y", "x|y", "Acme", "acme"}
	path := tinyEnrolments(t, 4, names...)
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, "--db", path, "report", "--format", "json", "--plot-matrix", filepath.Join(dir, "fig.svg"))
	if code != exitOK {
		t.Fatalf("report --plot-matrix: exit %d, stderr %q", code, stderr)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	portable := regexp.MustCompile(`^[\p{L}\p{M}\p{Nd}._-]+$`)
	var files []string
	for _, e := range ents {
		files = append(files, e.Name())
		if !portable.MatchString(e.Name()) || strings.ContainsFunc(e.Name(), func(r rune) bool { return r < utf8.RuneSelf && !isPortableASCII(r) }) {
			t.Errorf("figure %q: want only letters, digits, '.', '_' and '-'", e.Name())
		}
	}
	t.Logf("figures %q", files)
	if len(files) != len(names) {
		t.Errorf("%d figures %q, want one per teacher (%d)", len(files), files, len(names))
	}
	lower := map[string]bool{}
	for _, f := range files {
		if lower[strings.ToLower(f)] {
			t.Errorf("figures %q: two differ only in case", files)
		}
		lower[strings.ToLower(f)] = true
	}
	var doc struct {
		Figures  []string
		Matrices []struct{ Teacher string } `json:"similarity"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Figures) != len(names) || len(doc.Matrices) != len(names) {
		t.Fatalf("report lists figures %q for %d matrices, want %d", doc.Figures, len(doc.Matrices), len(names))
	}
	for i, m := range doc.Matrices {
		if got, want := filepath.Base(doc.Figures[i]), "fig-x_y.svg"; m.Teacher == "x_y" && got != want {
			t.Errorf("teacher %q's figure %q, want %q (its name unchanged)", m.Teacher, got, want)
		}
	}
}

// isPortableASCII reports whether r is an ASCII letter, digit, '.', '_' or '-'.
func isPortableASCII(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-'
}
