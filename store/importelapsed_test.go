package store

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
)

// TestImportSameButElapsed imports into a store the export of a store made
// by the same work run again: its fingerprints differ from the stored ones
// in the time the model took to answer alone (as two runs of one `enroll
// --seed` do), which is no conflict, and the stored records are kept. A
// fingerprint that differs in anything else still is one.
func TestImportSameButElapsed(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var before bytes.Buffer
	if err := a.Export(ctx, &before); err != nil {
		t.Fatal(err)
	}
	// rerun returns the export with every fingerprint record edited.
	rerun := func(t *testing.T, edit func(fp *fingerprint.Fingerprint)) string {
		t.Helper()
		var out strings.Builder
		for _, l := range strings.SplitAfter(before.String(), "\n") {
			var rec map[string]any
			if l == "" || json.Unmarshal([]byte(l), &rec) != nil || rec["type"] != TypeFingerprint {
				out.WriteString(l)
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(rec["data"].(string))
			if err != nil {
				t.Fatal(err)
			}
			fp, err := fingerprint.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			edit(fp)
			enc, err := fingerprint.Encode(fp)
			if err != nil {
				t.Fatal(err)
			}
			rec["data"] = base64.StdEncoding.EncodeToString(enc)
			b, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(append(b, '\n'))
		}
		return out.String()
	}
	slower := rerun(t, func(fp *fingerprint.Fingerprint) { fp.Elapsed += 1234 * time.Microsecond })
	if slower == before.String() {
		t.Fatal("the edited export is the export: the test tests nothing")
	}
	if err := a.Import(ctx, strings.NewReader(slower)); err != nil {
		t.Fatalf("import of the same records but for their elapsed time: %v, want none", err)
	}
	var after bytes.Buffer
	if err := a.Export(ctx, &after); err != nil {
		t.Fatal(err)
	}
	if after.String() != before.String() {
		t.Errorf("import changed the store: its records were not kept")
	}

	other := rerun(t, func(fp *fingerprint.Fingerprint) { fp.Elapsed++; fp.Queries++ })
	if err := a.Import(ctx, strings.NewReader(other)); !errors.Is(err, ErrExists) {
		t.Errorf("import of fingerprints with other query counts: %v, want ErrExists", err)
	}
}
