package registry

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/store"
)

// TestSummaryLabelMap checks that the report of a suspect audited with a
// label map (audit --label-map) says so, with the map, in the verdict
// table's notes and its JSON, as the audit's own table and JSON do, and
// that a suspect read by its labels' names gets no such note.
func TestSummaryLabelMap(t *testing.T) {
	db := registryStore(t, []string{"acme"}, 20, 2)
	const lm = "zero=0,one=1,two=2,three=3,four=4,five=5,six=6,seven=7,eight=8,nine=9"
	err := db.Update(context.Background(), func(tx *store.Tx) error {
		rec, err := tx.Audit("s0")
		if err != nil {
			return err
		}
		var res audit.Result
		if err := json.Unmarshal(rec.Result, &res); err != nil {
			return err
		}
		res.Results[0].LabelMap = lm
		if rec.Result, err = json.Marshal(res); err != nil {
			return err
		}
		return tx.PutAudit(rec, store.PutOptions{Replace: true})
	})
	if err != nil {
		t.Fatal(err)
	}
	sum := summarize(t, db, Options{})
	var notes []string
	for _, tb := range sum.Tables() {
		notes = append(notes, tb.Notes...)
	}
	all := strings.Join(notes, "\n")
	if want := "s0 (against acme): its outputs were relabelled by the label map the auditor stated (suspect label=teacher label, --label-map), not read by their names: " + lm; !strings.Contains(all, want) {
		t.Errorf("notes %q\nlack %q", all, want)
	}
	if strings.Contains(all, "s1 (against acme): its outputs were relabelled") {
		t.Errorf("a note of a label map for s1, read by its labels' names: %q", all)
	}
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), `"label_map":"`+lm+`"`); got != 1 {
		t.Errorf("the summary's JSON holds the map %d times, want once (s0's verdict): %s", got, b)
	}
}
