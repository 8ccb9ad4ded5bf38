package store

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"

	bolt "go.etcd.io/bbolt"
)

// putDuplicate stores populate's "neg" outputs as fingerprint id, with
// meta key k set to v, and adds it to acme as a reference.
func putDuplicate(tx *Tx, su *probe.Suite, id, k, v string) error {
	fp := newTestFP("neg", su, 2)
	fp.ID, fp.Meta = id, map[string]string{k: v}
	fp.Hash = fp.ComputeHash()
	if err := tx.PutFingerprint(fp, PutOptions{}); err != nil {
		return err
	}
	return tx.AddReference("acme", Control{FP: id})
}

// putServed stores populate's fingerprint of's outputs (its seed, as
// populate gives it) as fingerprint id of a remote model, as probe
// records one (no model hash, meta under hash rule 2), and adds it to
// acme as a reference.
func putServed(tx *Tx, su *probe.Suite, of, id string) error {
	seeds := map[string]uint64{"teacher": 0, "neg": 2}
	fp := newTestFP(of, su, seeds[of])
	fp.ID, fp.Model.Name, fp.Model.Hash = id, id, ""
	fp.Meta = map[string]string{fingerprint.MetaRemote: "url", "source": "http://127.0.0.1:1/v2/models/" + of}
	fp.CoverRemote()
	if err := tx.PutFingerprint(fp, PutOptions{}); err != nil {
		return err
	}
	return tx.AddReference("acme", Control{FP: id})
}

func TestRecords(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	populate(t, s) // rerun after a "crash": every put is a no-op

	su, err := s.Suite(ctx, "acme-suite")
	if err != nil {
		t.Fatal(err)
	}
	want := newTestSuite("acme-suite", 20, 4, 1)
	if su.Hash != want.Hash || !slices.Equal(su.X.Data, want.X.Data) || su.Generators[0].Settings["eps"] != 0.1 {
		t.Errorf("suite round trip differs: hash %s want %s", su.Hash, want.Hash)
	}
	if bh, err := s.Suite(ctx, su.Hash); err != nil || bh.Name != "acme-suite" {
		t.Errorf("suite by hash = %v, %v", bh, err)
	}
	e, err := s.Enrolment(ctx, "acme")
	if err != nil || e.Suite != su.Hash || len(e.Controls) != 2 {
		t.Fatalf("enrolment = %+v, %v; want suite stored as hash and 2 controls", e, err)
	}

	other := newTestSuite("acme-suite", 20, 4, 2)
	tests := []struct {
		name string
		put  func(tx *Tx) error
		want error
	}{
		{"suite name reuse", func(tx *Tx) error { return tx.PutSuite(other) }, ErrExists},
		{"fingerprint id reuse", func(tx *Tx) error { return tx.PutFingerprint(newTestFP("teacher", su, 99), PutOptions{}) }, ErrExists},
		// A probe that outlived its enrolment's purge stored such a one.
		{"fingerprint of a suite not stored", func(tx *Tx) error {
			return tx.PutFingerprint(newTestFP("orphan", newTestSuite("", 20, 4, 77), 5), PutOptions{})
		}, ErrNotFound},
		{"enrolment missing fp", func(tx *Tx) error {
			return tx.PutEnrolment(&Enrolment{Name: "b", TeacherFP: "nope", Suite: su.Hash}, PutOptions{})
		}, ErrNotFound},
		{"enrolment missing suite", func(tx *Tx) error {
			return tx.PutEnrolment(&Enrolment{Name: "b", TeacherFP: "teacher", Suite: "zzz"}, PutOptions{})
		}, ErrNotFound},
		{"enrolment changed", func(tx *Tx) error {
			return tx.PutEnrolment(&Enrolment{Name: "acme", TeacherFP: "pos", Suite: su.Hash}, PutOptions{})
		}, ErrExists},
		{"audit of unknown teacher", func(tx *Tx) error {
			return tx.PutAudit(&AuditRecord{ID: "c2", Suspect: "suspect", Against: []string{"zeta"}}, PutOptions{})
		}, ErrNotFound},
		{"reference to unknown teacher", func(tx *Tx) error { return tx.AddReference("nobody", Control{FP: "neg"}) }, ErrNotFound},
		{"reference already a control", func(tx *Tx) error { return tx.AddReference("acme", Control{FP: "neg"}) }, ErrExists},
		{"reference is the teacher", func(tx *Tx) error { return tx.AddReference("acme", Control{FP: "teacher"}) }, ErrExists},
		{"reference duplicates a control", func(tx *Tx) error {
			fp := newTestFP("neg", su, 2) // populate's "neg" outputs under another ID
			fp.ID, fp.Model.Name = "neg-again", "neg-again"
			fp.Hash = fp.ComputeHash()
			if err := tx.PutFingerprint(fp, PutOptions{}); err != nil {
				return err
			}
			return tx.AddReference("acme", Control{FP: "neg-again"})
		}, ErrExists},
		// The hash covers how the labels were read and which metadata was
		// defaulted: the same outputs recorded with either are the same
		// model still, and would count twice in the null.
		{"reference duplicates a control, read by a label map", func(tx *Tx) error {
			return putDuplicate(tx, su, "neg-mapped", fingerprint.MetaLabelMap, "cat=cat,dog=dog,eel=eel")
		}, ErrExists},
		{"reference duplicates a control, metadata defaulted", func(tx *Tx) error {
			return putDuplicate(tx, su, "neg-defaulted", fingerprint.MetaDefaulted, "labels")
		}, ErrExists},
		// Under hash rule 3 the hash covers the model header too: the
		// same outputs from the model file at another path, recorded by
		// this lineage, are the same model as populate's older record.
		{"reference duplicates a control, under hash rule 3", func(tx *Tx) error {
			fp := newTestFP("neg", su, 2)
			fp.ID, fp.Model.Source = "neg-rule3", "/elsewhere/neg.lnm"
			fp.Meta = map[string]string{fingerprint.MetaHashRule: fingerprint.HashRuleHeader}
			fp.Hash = fp.ComputeHash()
			if err := tx.PutFingerprint(fp, PutOptions{}); err != nil {
				return err
			}
			return tx.AddReference("acme", Control{FP: "neg-rule3"})
		}, ErrExists},
		// A remote model's hash is unknown (""): its answers, bit for bit
		// those of a control's or the teacher's file, are that model
		// still (a reference added by URL and by file was counted twice).
		{"reference duplicates a control, read from a server", func(tx *Tx) error {
			return putServed(tx, su, "neg", "neg-served")
		}, ErrExists},
		{"reference is the teacher, read from a server", func(tx *Tx) error {
			return putServed(tx, su, "teacher", "teacher-served")
		}, ErrExists},
		{"replace an enrolment's teacher", func(tx *Tx) error {
			return tx.PutFingerprint(newTestFP("teacher", su, 99), PutOptions{Replace: true})
		}, ErrInUse},
		{"replace an enrolment's control", func(tx *Tx) error {
			return tx.PutFingerprint(newTestFP("neg", su, 99), PutOptions{Replace: true})
		}, ErrInUse},
		{"replace an audited fingerprint", func(tx *Tx) error {
			return tx.PutFingerprint(newTestFP("suspect", su, 99), PutOptions{Replace: true})
		}, ErrInUse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Update(ctx, tc.put); !errors.Is(err, tc.want) {
				t.Errorf("error = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := s.Enrolment(ctx, "zeta"); err == nil || err.Error() != `teacher "zeta" not found` {
		t.Errorf("missing enrolment error = %v, want teacher \"zeta\" not found", err)
	}
	// Replace (a fingerprint no enrolment or audit uses) and references.
	if err := s.PutFingerprint(ctx, newTestFP("loose", su, 98), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFingerprint(ctx, newTestFP("loose", su, 99), PutOptions{Replace: true}); err != nil {
		t.Error(err)
	}
	if err := s.PutFingerprint(ctx, newTestFP("ref", su, 7), PutOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.AddReference(ctx, "acme", Control{FP: "ref", Recipe: "public"}); err != nil {
			t.Fatal(err)
		}
	}
	e, _ = s.Enrolment(ctx, "acme")
	if got := e.Controls[len(e.Controls)-1]; len(e.Controls) != 3 || got.Role != RoleReference {
		t.Errorf("controls after AddReference = %+v, want 3 with a reference last", e.Controls)
	}
}

func TestUpdateAtomic(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	su := newTestSuite("x", 5, 2, 1)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		if err := tx.PutFingerprint(newTestFP("a", su, 1), PutOptions{}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update error = %v, want boom", err)
	}
	if got, _ := s.List(ctx, ""); len(got) != 0 {
		t.Errorf("after failed Update the store holds %v, want nothing", got)
	}
}

func TestRemove(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	var inUse *InUseError
	if err := s.Remove(ctx, TypeFingerprint, "pos", RemoveOptions{}); !errors.As(err, &inUse) || inUse.By[0] != "enrolment acme" {
		t.Errorf("remove referenced fp = %v, want InUseError by enrolment acme", err)
	}
	if err := s.Remove(ctx, TypeSuite, "acme-suite", RemoveOptions{}); !errors.Is(err, ErrInUse) {
		t.Errorf("remove referenced suite = %v, want ErrInUse", err)
	}
	if err := s.Remove(ctx, TypeAudit, "case-1", RemoveOptions{}); err != nil {
		t.Error(err)
	}
	if err := s.Remove(ctx, TypeAudit, "case-1", RemoveOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("second remove = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, TypeFingerprint, "pos", RemoveOptions{Force: true}); err != nil {
		t.Error(err)
	}
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 1 || r.Problems[0].ID != "acme" {
		t.Errorf("Verify after forced remove = %+v, want one dangling-fingerprint problem on acme", r.Problems)
	}
	if err := s.Remove(ctx, TypeAnswers, "remote-1", RemoveOptions{}); err != nil {
		t.Error(err)
	}
	if err := s.Remove(ctx, "bogus", "x", RemoveOptions{}); err == nil {
		t.Error("remove of unknown type succeeded")
	}
}

func TestAnswers(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	for _, b := range []int{2, 0, 300, 1} {
		if err := s.PutAnswers(ctx, "a", b, []byte{byte(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutAnswers(ctx, "ab", 0, []byte("other job")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Answers(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	var batches []int
	for _, a := range got {
		batches = append(batches, a.Batch)
		if a.Data[0] != byte(a.Batch) {
			t.Errorf("batch %d data = %v", a.Batch, a.Data)
		}
	}
	if want := []int{0, 1, 2, 300}; !slices.Equal(batches, want) {
		t.Errorf("batches = %v, want %v", batches, want)
	}
	jobs := func() (out []string) {
		s.View(ctx, func(tx *Tx) error {
			out = slices.Collect(tx.AnswerJobs())
			return nil
		})
		return out
	}
	if got, want := jobs(), []string{"a", "ab"}; !slices.Equal(got, want) {
		t.Errorf("AnswerJobs = %q, want %q", got, want)
	}
	if err := s.DeleteAnswers(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got, want := jobs(), []string{"ab"}; !slices.Equal(got, want) {
		t.Errorf("AnswerJobs after delete = %q, want %q", got, want)
	}
	if got, _ := s.Answers(ctx, "a"); got != nil {
		t.Errorf("after delete: %v, want nil", got)
	}
	if got, _ := s.Answers(ctx, "ab"); len(got) != 1 || !bytes.Equal(got[0].Data, []byte("other job")) {
		t.Errorf("job ab = %v, want its one batch", got)
	}
}

// TestOpenMissingBucket opens a store a bucket was deleted from, as one of
// an older schema lacks it: a reader reports it; a writer reads it as
// empty and leaves the file byte-identical until a write commits, which
// recreates it.
func TestOpenMissingBucket(t *testing.T) {
	path := tempPath(t)
	s := openTest(t, path, false)
	populate(t, s)
	if err := s.update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketAnswers) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `bucket "answers" is missing`) {
		t.Errorf("read-only open: error = %v, want the missing bucket named", err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w := openTest(t, path, false)
	if r, err := w.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("Verify by a writer = %+v, %v", r, err)
	}
	if a, err := w.Answers(ctx, "job"); err != nil || a != nil {
		t.Errorf("Answers by a writer = %v, %v; want none", a, err)
	}
	boom := errors.New("boom")
	if err := w.Update(ctx, func(tx *Tx) error {
		if err := tx.PutAnswers("job", 0, []byte("x")); err != nil {
			return err
		}
		return boom
	}); err != boom {
		t.Errorf("failing Update = %v, want its error", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
		t.Error("a writer that committed nothing changed the file")
	}
	if ro, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("read-only open after a failed write: error = %v, want the bucket still missing", err)
		if err == nil {
			ro.Close()
		}
	}
	w = openTest(t, path, false)
	if err := w.PutAnswers(ctx, "job", 0, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := w.PutAnswers(ctx, "job", 1, []byte("y")); err != nil { // after the bucket was added
		t.Fatal(err)
	}
	w.Close()
	r := openTest(t, path, true)
	if a, err := r.Answers(ctx, "job"); err != nil || len(a) != 2 {
		t.Errorf("Answers after a committed write = %v, %v; want 2 batches", a, err)
	}
	if rep, err := r.Verify(ctx); err != nil || !rep.OK() {
		t.Errorf("Verify after a committed write = %+v, %v", rep, err)
	}
}

// TestAuditFingerprints checks the fingerprints an audit record measured:
// they must be stored and pair with Against, they are in use while the
// record refers to them, and Verify reports one that is missing.
func TestAuditFingerprints(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	rec := func(fps ...string) *AuditRecord {
		return &AuditRecord{ID: "case-2", Suspect: fps[0], Against: []string{"acme"}, Fingerprints: fps, Result: []byte(`{}`)}
	}
	if err := s.PutAudit(ctx, rec("suspect", "nosuch"), PutOptions{}); err == nil || !strings.Contains(err.Error(), "2 fingerprints for 1 teachers") {
		t.Errorf("PutAudit with more fingerprints than teachers: %v", err)
	}
	r := rec("suspect")
	r.Against, r.Fingerprints = []string{"acme", "acme"}, []string{"suspect", "nosuch"}
	if err := s.PutAudit(ctx, r, PutOptions{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutAudit naming a fingerprint that is not stored: %v, want ErrNotFound", err)
	}
	r.Fingerprints = []string{"suspect", "neg"}
	if err := s.PutAudit(ctx, r, PutOptions{}); err != nil {
		t.Fatal(err)
	}
	// db ls named such an audit by its first fingerprint alone.
	es, err := s.List(ctx, TypeAudit)
	if err != nil || len(es) != 2 || es[1].ID != "case-2" {
		t.Fatalf("List audits: %v, %v; want case-1 and case-2", es, err)
	}
	if got, want := es[1].Detail, "fingerprints suspect,neg against acme,acme"; got != want {
		t.Errorf("List audit detail: got %q, want %q", got, want)
	}
	var inUse *InUseError
	if err := s.Remove(ctx, TypeFingerprint, "neg", RemoveOptions{}); !errors.As(err, &inUse) || !slices.Contains(inUse.By, "audit case-2") {
		t.Errorf("removing a fingerprint an audit measured: %v, want it in use by audit case-2", err)
	}
	if err := s.Remove(ctx, TypeFingerprint, "neg", RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		found = found || p.Type == TypeAudit && p.ID == "case-2" && strings.Contains(p.Problem, `"neg" is missing`)
	}
	if !found {
		t.Errorf("Verify problems %+v: want audit case-2's missing fingerprint neg", rep.Problems)
	}
}
