package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"gonum.org/v1/gonum/blas/blas32"
)

var ctx = context.Background()

var labels = []string{"cat", "dog", "eel"}

func openTest(t testing.TB, path string, ro bool) *Store {
	t.Helper()
	s, err := Open(path, Options{ReadOnly: ro, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newTestSuite(name string, n, d int, seed uint64) *probe.Suite {
	rng := rand.New(rand.NewPCG(seed, 9))
	x := blas32.General{Rows: n, Cols: d, Stride: d, Data: make([]float32, n*d)}
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	kinds := make([]probe.Kind, n)
	for i := range kinds {
		kinds[i] = probe.Data
	}
	return &probe.Suite{Name: name, Labels: labels, X: x, Kinds: kinds,
		Generators: []probe.Generator{{Kind: probe.Data, Count: n, Seed: seed, Settings: map[string]float64{"eps": 0.1}}},
		Hash:       probe.CanonicalHash(x, kinds, labels)}
}

// newTestFP makes a fingerprint of random distributions on suite s.
func newTestFP(id string, s *probe.Suite, seed uint64) *fingerprint.Fingerprint {
	rng := rand.New(rand.NewPCG(seed, 10))
	c := len(s.Labels)
	p := blas32.General{Rows: s.Len(), Cols: c, Stride: c, Data: make([]float32, s.Len()*c)}
	for i := 0; i < s.Len(); i++ {
		var sum float32
		for j := 0; j < c; j++ {
			p.Data[i*c+j] = rng.Float32() + 0.01
			sum += p.Data[i*c+j]
		}
		for j := 0; j < c; j++ {
			p.Data[i*c+j] /= sum
		}
	}
	fp := &fingerprint.Fingerprint{ID: id, Suite: s.Hash, P: p, Queries: s.Len(), Elapsed: time.Millisecond,
		Model: model.Info{Name: id, Kind: model.Classifier, InputSize: s.Dim(), Labels: labels, Hash: "h-" + id}}
	fp.Hash = fp.ComputeHash()
	return fp
}

// populate stores a suite, a teacher, two controls, an enrolment "acme",
// a suspect with an audit, and an answers job.
func populate(t testing.TB, s *Store) {
	t.Helper()
	su := newTestSuite("acme-suite", 20, 4, 1)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		for i, id := range []string{"teacher", "pos", "neg", "suspect"} {
			if err := tx.PutFingerprint(newTestFP(id, su, uint64(i)), PutOptions{}); err != nil {
				return err
			}
		}
		if err := tx.PutEnrolment(&Enrolment{Name: "acme", TeacherFP: "teacher", Suite: "acme-suite",
			Teacher: model.Info{Name: "teacher", InputSize: 4, Labels: labels},
			Controls: []Control{{FP: "pos", Role: RolePositive, Half: HalfSelection, Recipe: "kd T=4"},
				{FP: "neg", Role: RoleNegative, Half: HalfCalibration}},
			Report:    []byte(`{"auc":0.97}`),
			Watermark: &Watermark{Key: testMarkKey, Mean: []float32{1, 2, 3, 4}}}, PutOptions{}); err != nil {
			return err
		}
		if err := tx.PutAudit(&AuditRecord{ID: "case-1", Suspect: "suspect", Against: []string{"acme"},
			Result: []byte(`{"p":0.001}`)}, PutOptions{}); err != nil {
			return err
		}
		for b := 0; b < 3; b++ {
			if err := tx.PutAnswers("remote-1", b, []byte{byte(b), 1, 2}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func fileSum(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func tempPath(t testing.TB) string { return filepath.Join(t.TempDir(), "case.db") }

// testMarkKey is the watermark key populate stores.
const testMarkKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// populatedFile makes a populated store, closes it and returns its path,
// the file opened read-write and its current meta page, for tests that
// damage the file.
func populatedFile(t *testing.T) (string, *os.File, boltMeta) {
	t.Helper()
	path := tempPath(t)
	s := openTest(t, path, false)
	populate(t, s)
	s.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := readMeta(f)
	if err != nil {
		t.Fatal(err)
	}
	return path, f, m
}

// suiteFPExport returns an export holding su and the encoded fingerprint
// fp under id, with its end line: a record crafted outside lineage, for
// Import to meet.
func suiteFPExport(t testing.TB, su *probe.Suite, id string, fp []byte) string {
	t.Helper()
	suBytes, err := EncodeSuite(su)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range []line{
		{Type: typeHeader, Format: formatName, Schema: SchemaVersion},
		{Type: TypeSuite, ID: su.Hash, Data: suBytes},
		{Type: TypeFingerprint, ID: id, Data: fp},
	} {
		j, _ := json.Marshal(l)
		b.Write(append(j, '\n'))
	}
	b.WriteString(`{"type":"end","count":2}` + "\n")
	return b.String()
}
