package main

import (
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// addTinyReference stores a copy of teacher's fingerprint, its outputs
// changed, under id and adds it to teacher's null as a reference.
func addTinyReference(t *testing.T, path, teacher, id string) {
	t.Helper()
	addTinyReferenceMeta(t, path, teacher, id, nil)
}

// addTinyReferenceMeta is addTinyReference with meta added to the
// reference's fingerprint.
func addTinyReferenceMeta(t *testing.T, path, teacher, id string, meta map[string]string) {
	t.Helper()
	updateStore(t, path, func(tx *store.Tx) error {
		fp, err := tx.Fingerprint(teacher + "/teacher")
		if err != nil {
			return err
		}
		fp.ID = id
		fp.Model.Name = "model-of-" + id
		v := float32(id[len(id)-1]%8+1) / 10 // other outputs than the teacher's and other references'
		fp.P.Data[0], fp.P.Data[1], fp.P.Data[2] = v, 1-v, 0
		for k, v := range meta {
			if fp.Meta == nil {
				fp.Meta = map[string]string{}
			}
			fp.Meta[k] = v
		}
		fp.Hash = fp.ComputeHash()
		if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
			return err
		}
		return tx.AddReference(teacher, store.Control{FP: id, Recipe: "bought from " + id})
	})
}

// TestReferenceRmErrors pins the exit status and message of reference rm
// given a reference or teacher that does not exist, a teacher's own
// fingerprint or bad flags, and checks that none of them changes the file.
func TestReferenceRmErrors(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	addTinyReference(t, path, "acme", "vendor")
	before := fileSum(t, path)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"reference", "rm", "ghost"}, 1, `reference rm "ghost": reference "ghost" not found`},
		{[]string{"reference", "rm", "vendor", "--for", "beta"}, 1, `reference "vendor" not found for teacher beta`},
		{[]string{"reference", "rm", "vendor", "--for", "nobody"}, 1, `teacher "nobody" not found`},
		{[]string{"reference", "rm", "acme/teacher", "--for", "acme"}, 1, `reference "acme/teacher" not found for teacher acme`},
		{[]string{"reference", "rm", "vendor", "--for", ""}, 2, "--for is empty"},
		{[]string{"reference", "rm"}, 2, "want NAME, got 0 arguments"},
		{[]string{"reference", "rm", "vendor", "--format", "xml"}, 2, "xml"},
	} {
		code, stderr := runLineage(t, append([]string{"--db", path}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("lineage %q: exit %d, stderr %q; want exit %d and one line containing %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if fileSum(t, path) != before {
		t.Error("a refused reference rm changed the database file")
	}
	if code, stderr := runLineage(t, "--db", path, "reference", "rm", "vendor"); code != 0 {
		t.Fatalf("reference rm vendor: exit %d, %s", code, stderr)
	}
	if code, stderr := runLineage(t, "--db", path, "db", "verify"); code != 0 {
		t.Errorf("db verify after reference rm: exit %d, %s", code, stderr)
	}
}
