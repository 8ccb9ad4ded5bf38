package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/store"
)

// forgeReport edits the report of e as someone who wants its enrolment to
// look more powerful would, consistently, so that every range and count
// check passes: the first calibration positive the enrolment missed at
// 0.01 gets p = 0.0001, the rates are counted again from the p-values and
// its recipe family counts one more flagged. It returns that positive's
// index in pos_p.
func forgeReport(t *testing.T, e *store.Enrolment) int {
	t.Helper()
	var rep audit.EnrolReport
	if err := json.Unmarshal(e.Report, &rep); err != nil {
		t.Fatal(err)
	}
	cal := &rep.Calibration
	k := slices.IndexFunc(cal.PosP, func(p float64) bool { return p > 0.01 })
	if k < 0 {
		t.Fatal("the enrolment detects every calibration positive: nothing to forge")
	}
	var fams []string
	for _, c := range e.Controls {
		if c.Role == store.RolePositive && c.Half == store.HalfCalibration {
			fams = append(fams, strings.Fields(c.Recipe)[0])
		}
	}
	cal.PosP[k] = 0.0001
	cal.Rates = compare.RatesOf(cal.PosP, cal.NegP, audit.DefaultAlphas)
	f := rep.Families[fams[k]]
	f.Flagged++
	rep.Families[fams[k]] = f
	var err error
	if e.Report, err = json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	return k
}

// reseal sets e's checksum as store/seal.go does: the plain SHA-256 of its
// JSON with the checksum empty, which anyone can recompute.
func reseal(t *testing.T, e *store.Enrolment) {
	t.Helper()
	e.Checksum = ""
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	e.Checksum = hex.EncodeToString(s[:])
}

// forgeExport writes to out the export in, its enrolment called name
// forged (forgeReport) and sealed again; it returns forgeReport's index.
func forgeExport(t *testing.T, in, out, name string) int {
	t.Helper()
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	k := -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		line := sc.Bytes()
		var l struct {
			Type   string           `json:"type"`
			ID     string           `json:"id"`
			Record *store.Enrolment `json:"record"`
		}
		if json.Unmarshal(line, &l) == nil && l.Type == store.TypeEnrolment && l.ID == name {
			k = forgeReport(t, l.Record)
			reseal(t, l.Record)
			if line, err = json.Marshal(l); err != nil {
				t.Fatal(err)
			}
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if k < 0 {
		t.Fatalf("%s holds no enrolment %q", in, name)
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

// TestForgedReportRefused checks that an enrolment report edited
// consistently (a missed calibration positive given p = 0.0001, the rates
// and its family's count edited to match, the record sealed again) is
// refused by db import of the export, into a new file (which it does not
// leave) and into an existing one (left byte for byte as it was), naming
// the enrolment, the field and both values; and that db verify of a store
// holding it names it. Before, all three passed (db verify said OK), and
// audits against it read a TPR the suite does not have.
func TestForgedReportRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols a teacher")
	}
	dir := t.TempDir()
	useFixture(t, "acme", dir) // TPR 0 at 0.01: both calibration positives missed
	db := filepath.Join(dir, "case.db")
	if out, stderr, code := runCLI(t, "--db", db, "db", "verify"); code != 0 {
		t.Fatalf("db verify of the enrolment as made: exit %d\n%s%s", code, out, stderr)
	}
	export := filepath.Join(dir, "x.jsonl")
	if _, stderr, code := runCLI(t, "--db", db, "db", "export", export); code != 0 {
		t.Fatalf("db export: %s", stderr)
	}
	forged := filepath.Join(dir, "forged.jsonl")
	k := forgeExport(t, export, forged, "acme")
	want := regexp.MustCompile(fmt.Sprintf(`^lineage: import %s: enrolment "acme": report calibration\.pos_p\[%d\] is 0\.0001, but its fingerprints give 0\.\d+\n$`,
		regexp.QuoteMeta(forged), k))

	fresh := filepath.Join(dir, "fresh.db")
	if _, stderr, code := runCLI(t, "--db", fresh, "db", "import", forged); code != exitError || !want.MatchString(stderr) {
		t.Errorf("db import into a new file: exit %d, stderr %q; want 1 and %s", code, stderr, want)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Error("a refused import left a database")
	}
	existing := newStore(t)
	before := fileSum(t, existing)
	if _, stderr, code := runCLI(t, "--db", existing, "db", "import", forged); code != exitError || !want.MatchString(stderr) {
		t.Errorf("db import into an existing file: exit %d, stderr %q; want 1 and %s", code, stderr, want)
	}
	if fileSum(t, existing) != before {
		t.Error("a refused import changed the existing database")
	}

	// The same edit made in the store (PutEnrolment seals it).
	updateStore(t, db, func(tx *store.Tx) error {
		e, err := tx.Enrolment("acme")
		if err != nil {
			return err
		}
		forgeReport(t, e)
		return tx.PutEnrolment(e, store.PutOptions{Replace: true})
	})
	wantRow := regexp.MustCompile(fmt.Sprintf(`\| enrolment \| acme \| report calibration\.pos_p\[%d\] is 0\.0001, but its fingerprints give 0\.\d+ +\|`, k))
	if out, _, code := runCLI(t, "--db", db, "db", "verify"); code != exitError || !wantRow.MatchString(out) {
		t.Errorf("db verify: exit %d, output\n%s\nwant 1 and a row matching %s", code, out, wantRow)
	}
}

// TestRecheckWithReference checks that an enrolment with a reference
// added after it (which enrolment's calibration did not have) still
// verifies, exports and imports.
func TestRecheckWithReference(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols a teacher")
	}
	dir := t.TempDir()
	useFixture(t, "acme-c6", dir)
	useFixture(t, "suspects", dir)
	db := filepath.Join(dir, "case.db")
	if _, stderr, code := runCLI(t, "--db", db, "reference", "add", "ind", "--model", filepath.Join(dir, "indep.lnm"), "--for", "acme"); code != 0 {
		t.Fatalf("reference add: exit %d: %s", code, stderr)
	}
	if out, stderr, code := runCLI(t, "--db", db, "db", "verify"); code != 0 {
		t.Fatalf("db verify with a reference: exit %d\n%s%s", code, out, stderr)
	}
	export := filepath.Join(dir, "x.jsonl")
	if _, stderr, code := runCLI(t, "--db", db, "db", "export", export); code != 0 {
		t.Fatalf("db export: %s", stderr)
	}
	if _, stderr, code := runCLI(t, "--db", filepath.Join(dir, "copy.db"), "db", "import", export); code != 0 {
		t.Errorf("db import with a reference: exit %d: %s", code, stderr)
	}
}

// TestRecheckOlderStores checks that exports of enrolments made by older
// lineage (testdata/old: `train --data digits --hidden 16 --epochs 3
// --seed 1`, then `enroll acme --data digits --seed 1 --controls 3
// --suite-size 30` and `db export` with lineage at each commit) import
// and verify: one of 5 December 22:50 (eff11c7) as it is; one of 10:35
// that day (955ddd5), measured by the rule for the under-trained controls
// replaced at 10:59, and one of 4 December (f947ac3), made before them,
// each with a note.
func TestRecheckOlderStores(t *testing.T) {
	tests := []struct {
		rev, note string
	}{
		{"eff11c7", ""},
		{"955ddd5", `enrolment "acme" was measured by lineage of 5 December 2026 10:35–10:59`},
		{"f947ac3", `enrolment "acme" was made before the under-trained controls`},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			export, err := filepath.Abs(filepath.Join("testdata", "old", "enroll-"+tt.rev+".jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			db := filepath.Join(t.TempDir(), "case.db")
			_, stderr, code := runCLI(t, "--db", db, "db", "import", export)
			if code != 0 || !strings.Contains(stderr, tt.note) || (tt.note == "") != !strings.Contains(stderr, "note: ") {
				t.Errorf("db import: exit %d, stderr %q; want 0 and note %q", code, stderr, tt.note)
			}
			out, stderr, code := runCLI(t, "--db", db, "db", "verify")
			if code != 0 || !strings.Contains(out, tt.note) || !strings.Contains(out, "OK: no problems found") {
				t.Errorf("db verify: exit %d, output\n%s%s\nwant 0, OK and note %q", code, out, stderr, tt.note)
			}
			out, _, _ = runCLI(t, "--db", db, "db", "verify", "--format", "json")
			var v struct {
				OK    bool     `json:"ok"`
				Notes []string `json:"recompute_notes"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("db verify --format json: %v\n%s", err, out)
			}
			if !v.OK || (tt.note == "") != (len(v.Notes) == 0) || (tt.note != "" && !strings.HasPrefix(v.Notes[0], tt.note)) {
				t.Errorf("db verify --format json: ok %v, recompute_notes %q; want ok and %q", v.OK, v.Notes, tt.note)
			}
		})
	}
}
