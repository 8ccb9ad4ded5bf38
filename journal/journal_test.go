package journal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// counting is a model that counts the rows it answers.
type counting struct {
	model.Model
	rows int
}

func (c *counting) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	c.rows += x.Rows
	return c.Model.Predict(ctx, x)
}

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	db, err := store.Open(path, store.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func batches(n, rows, dim int) []blas32.General {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]blas32.General, n)
	for i := range out {
		x := blas32.General{Rows: rows, Cols: dim, Stride: dim, Data: make([]float32, rows*dim)}
		for j := range x.Data {
			x.Data[j] = r.Float32()
		}
		out[i] = x
	}
	return out
}

func TestResumeNeverAsksTwice(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	m := model.NewMLP([]int{4, 8, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))
	xs := batches(5, 7, 4)

	// First run: killed after 3 batches (the store is simply closed).
	db := openStore(t, path)
	c := &counting{Model: m}
	j, err := New(ctx, c, db, "job")
	if err != nil {
		t.Fatal(err)
	}
	var first []blas32.General
	for _, x := range xs[:3] {
		p, err := j.Predict(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		first = append(first, p)
	}
	db.Close()

	// Second run: the same job from the start.
	db = openStore(t, path)
	defer db.Close()
	c2 := &counting{Model: m}
	j2, err := New(ctx, c2, db, "job")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := j2.Stored(), 3; got != want {
		t.Fatalf("stored batches = %d, want %d", got, want)
	}
	for i, x := range xs {
		p, err := j2.Predict(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := m.Predict(ctx, x)
		for k := range want.Data {
			if p.Data[k] != want.Data[k] {
				t.Fatalf("batch %d entry %d = %v, want %v", i, k, p.Data[k], want.Data[k])
			}
		}
		if i < 3 && fmt.Sprint(p.Data) != fmt.Sprint(first[i].Data) {
			t.Errorf("batch %d replay differs from the first run", i)
		}
	}
	if got, want := c2.rows, 2*7; got != want {
		t.Errorf("rerun asked the model %d rows, want %d (only the missing batches)", got, want)
	}
	asked, replayed := j2.Counts()
	if asked != 14 || replayed != 21 {
		t.Errorf("Counts() = %d asked, %d replayed; want 14, 21", asked, replayed)
	}
}

func TestMismatch(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, filepath.Join(t.TempDir(), "j.db"))
	defer db.Close()
	m := model.NewMLP([]int{4, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))
	xs := batches(2, 2, 4)
	j, _ := New(ctx, m, db, "job")
	if _, err := j.Predict(ctx, xs[0]); err != nil {
		t.Fatal(err)
	}
	j2, _ := New(ctx, m, db, "job")
	_, err := j2.Predict(ctx, xs[1])
	var me *MismatchError
	if !errors.As(err, &me) || !errors.Is(err, ErrMismatch) || *me != (MismatchError{"job", 0, 2, 2}) {
		t.Errorf("Predict with other inputs: err = %v (%+v), want a *MismatchError of job, batch 0, 2 inputs stored and asked", err, me)
	}
	// Another batch size: the error says how many inputs each run put
	// in the batch (the rerun's flags are told apart by them).
	j3, _ := New(ctx, m, db, "job")
	_, err = j3.Predict(ctx, batches(1, 3, 4)[0])
	want := `journal "job" batch 0: journal: inputs differ from the stored batch: it holds the answers to 2 inputs, this run asks 3`
	if !errors.As(err, &me) || *me != (MismatchError{"job", 0, 2, 3}) || err.Error() != want {
		t.Errorf("Predict with a batch of 3: err = %v (%+v), want %q", err, me, want)
	}
}

func FuzzDecode(f *testing.F) {
	var d [32]byte
	f.Add(encode(d, blas32.General{Rows: 1, Cols: 2, Stride: 2, Data: []float32{0.25, 0.75}}))
	f.Add([]byte{})
	f.Add(append(d[:], 0, 0, 0, 0x80, 0, 0, 0, 0x80)) // 2³¹×2³¹: 4·rows·cols wraps to 0
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := decode(data, d)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrMismatch) {
				t.Fatalf("error %v wraps neither ErrCorrupt nor ErrMismatch", err)
			}
			return
		}
		// What decode takes back encodes to the same bytes, with the
		// checksum added to a batch stored without one.
		again := encode(d, p)
		if string(again) != string(data) && string(again[:len(again)-32]) != string(data) {
			t.Fatalf("round trip changed %d bytes into %d", len(data), len(again))
		}
	})
}

// TestConcurrentBatches commits batches out of order from several
// goroutines; a rerun replays every one by number and asks nothing.
func TestConcurrentBatches(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	m := model.NewMLP([]int{4, 8, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))
	xs := batches(6, 5, 4)
	db := openStore(t, path)
	j, err := New(ctx, m, db, "job")
	if err != nil {
		t.Fatal(err)
	}
	first := make([]blas32.General, len(xs))
	var wg sync.WaitGroup
	for k := len(xs) - 1; k >= 0; k-- { // last batch first
		if k == 2 {
			continue // "killed" before batch 2 was asked
		}
		wg.Go(func() {
			p, err := j.PredictBatch(ctx, k, xs[k])
			if err != nil {
				t.Error(err)
			}
			first[k] = p
		})
	}
	wg.Wait()
	db.Close()

	db = openStore(t, path)
	defer db.Close()
	c := &counting{Model: m}
	j2, err := New(ctx, c, db, "job")
	if err != nil {
		t.Fatal(err)
	}
	for k, x := range xs {
		p, err := j2.Predict(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		if k != 2 && !slices.Equal(p.Data, first[k].Data) {
			t.Errorf("batch %d: replayed answer differs", k)
		}
	}
	if asked, replayed := j2.Counts(); c.rows != 5 || asked != 5 || replayed != 25 {
		t.Errorf("rerun asked the model %d rows (counts %d asked, %d replayed), want only batch 2's 5", c.rows, asked, replayed)
	}
}

// cancelling is a model that answers and then cancels the job, as an
// interrupt landing while the answer arrives does.
type cancelling struct {
	counting
	cancel context.CancelFunc
}

func (c *cancelling) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	p, err := c.counting.Predict(ctx, x)
	c.cancel()
	return p, err
}

// TestAnsweredThenCancelled: a batch the model answered is committed even
// when the job's context is cancelled before the commit, so the rerun
// replays it instead of paying for it again.
func TestAnsweredThenCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.db")
	m := model.NewMLP([]int{4, 8, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))
	x := batches(1, 7, 4)[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &cancelling{counting: counting{Model: m}, cancel: cancel}
	db := openStore(t, path)
	j, err := New(context.Background(), c, db, "job")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.PredictBatch(ctx, 0, x); err != nil {
		t.Errorf("PredictBatch with the job cancelled after the answer: %v, want the answer", err)
	}
	db.Close()

	db = openStore(t, path)
	defer db.Close()
	c2 := &counting{Model: m}
	j2, err := New(context.Background(), c2, db, "job")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := j2.Stored(), 1; got != want {
		t.Fatalf("stored batches = %d, want %d (the model answered %d rows)", got, want, c.rows)
	}
	if _, err := j2.PredictBatch(context.Background(), 0, x); err != nil {
		t.Fatal(err)
	}
	if c2.rows != 0 {
		t.Errorf("rerun asked the model %d rows, want 0", c2.rows)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	var d [32]byte
	head := func(rows, cols uint32, floats int) []byte {
		b := append([]byte(nil), d[:]...)
		b = binary.LittleEndian.AppendUint32(b, rows)
		b = binary.LittleEndian.AppendUint32(b, cols)
		return append(b, make([]byte, 4*floats)...)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"short", d[:20]},
		{"2^31 by 2^31", head(1<<31, 1<<31, 0)},         // 4·rows·cols wraps to 0 in 64 bits
		{"2^32-1 by 2^32-1", head(1<<32-1, 1<<32-1, 1)}, // rows·cols wraps to 1 in 64 bits
		{"2^30 by 4", head(1<<30, 4, 0)},                // 4·rows·cols wraps to 0 in 32 bits
		{"rows without columns", head(1<<32-1, 0, 0)},
		{"one float missing", head(2, 3, 5)},
		{"one float too many", head(2, 3, 7)},
		{"ragged tail", append(head(1, 1, 1), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := decode(tt.data, d)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("decode = %d×%d, %v; want ErrCorrupt", p.Rows, p.Cols, err)
			}
		})
	}
	for _, shape := range [][2]uint32{{0, 0}, {0, 3}, {2, 3}} {
		p, err := decode(head(shape[0], shape[1], int(shape[0]*shape[1])), d)
		if err != nil || p.Rows != int(shape[0]) || p.Cols != int(shape[1]) {
			t.Errorf("decode %d×%d = %d×%d, %v; want it back", shape[0], shape[1], p.Rows, p.Cols, err)
		}
	}
}

// TestDamagedBatchAskedAgain checks that a stored batch whose bytes were
// damaged (one bit of an answer) is asked of the model again and stored
// over, not replayed: the fingerprint would hold answers the model never
// gave. A batch stored without a checksum, by an earlier lineage, is still
// replayed.
func TestDamagedBatchAskedAgain(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, filepath.Join(t.TempDir(), "j.db"))
	defer db.Close()
	m := &counting{Model: model.NewMLP([]int{4, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))}
	xs := batches(3, 2, 4)
	j, _ := New(ctx, m, db, "job")
	var want []blas32.General
	for _, x := range xs {
		p, err := j.Predict(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, p)
	}
	ans, err := db.Answers(ctx, "job")
	if err != nil || len(ans) != 3 {
		t.Fatalf("stored %d batches, %v; want 3", len(ans), err)
	}
	flipped := slices.Clone(ans[1].Data)
	flipped[44] ^= 0x01 // a bit of the second answer
	if err := db.PutAnswers(ctx, "job", 1, flipped); err != nil {
		t.Fatal(err)
	}
	old := ans[2].Data[:len(ans[2].Data)-32] // no checksum: an earlier lineage's
	if err := db.PutAnswers(ctx, "job", 2, old); err != nil {
		t.Fatal(err)
	}
	m.rows = 0
	j2, _ := New(ctx, m, db, "job")
	for i, x := range xs {
		p, err := j2.Predict(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Data, want[i].Data) {
			t.Errorf("batch %d: got %v, want the model's %v", i, p.Data, want[i].Data)
		}
	}
	if m.rows != 2 || j2.Damaged() != 1 {
		t.Errorf("the model answered %d rows again and %d batches were damaged; want 2 rows of the 1 damaged batch", m.rows, j2.Damaged())
	}
	ans, _ = db.Answers(ctx, "job")
	if _, err := decode(ans[1].Data, digestOf(xs[1])); err != nil {
		t.Errorf("the damaged batch was not stored over: %v", err)
	}
}

// TestImpossibleBatchAskedAgain checks that a stored batch without a
// checksum (as an earlier lineage stored them) that cannot be the model's
// answer — NaN, a negative entry, a row not summing to 1 (the last row
// alone, too), another shape (rows or labels alone, too) —
// is asked again, not replayed: replayed, it failed the job on every rerun
// with an error blaming the model.
func TestImpossibleBatchAskedAgain(t *testing.T) {
	ctx := context.Background()
	m := &counting{Model: model.NewMLP([]int{4, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))}
	x := batches(1, 2, 4)[0]
	nan := float32(math.NaN())
	tests := []struct {
		name       string
		rows, cols uint32
		vals       []float32
	}{
		{"NaN", 2, 3, []float32{nan, 0.5, 0.5, 0.2, 0.3, 0.5}},
		{"negative", 2, 3, []float32{-1, 1, 1, 0.2, 0.3, 0.5}},
		{"sum", 2, 3, []float32{0.5, 0.5, 0.5, 0.2, 0.3, 0.5}},
		{"shape", 3, 2, []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}},
		// One thing wrong at a time: each check alone must catch it.
		{"last row", 2, 3, []float32{0.2, 0.3, 0.5, 0.5, 0.5, 0.5}},
		{"rows", 1, 3, []float32{0.2, 0.3, 0.5}},
		{"labels", 2, 2, []float32{0.5, 0.5, 0.4, 0.6}},
		{"empty", 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openStore(t, filepath.Join(t.TempDir(), "j.db"))
			defer db.Close()
			d := digestOf(x)
			data := append([]byte(nil), d[:]...)
			data = binary.LittleEndian.AppendUint32(data, tt.rows)
			data = binary.LittleEndian.AppendUint32(data, tt.cols)
			for _, v := range tt.vals {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
			}
			if err := db.PutAnswers(ctx, "job", 0, data); err != nil {
				t.Fatal(err)
			}
			m.rows = 0
			j, _ := New(ctx, m, db, "job")
			p, err := j.Predict(ctx, x)
			if err != nil {
				t.Fatalf("Predict: %v, want the model's answer", err)
			}
			want, _ := m.Model.Predict(ctx, x)
			if !slices.Equal(p.Data, want.Data) || m.rows != 2 || j.Damaged() != 1 {
				t.Errorf("got %v (model asked %d rows, %d damaged), want the model's %v, asked again", p.Data, m.rows, j.Damaged(), want.Data)
			}
		})
	}
}

// failingPut is a Store whose PutAnswers fails from batch from on, as a
// store on a full disk does.
type failingPut struct {
	Store
	from int
}

var errFull = errors.New("write j.db: no space left on device")

func (f failingPut) PutAnswers(ctx context.Context, job string, batch int, data []byte) error {
	if batch >= f.from {
		return errFull
	}
	return f.Store.PutAnswers(ctx, job, batch, data)
}

// TestKeptAfterFailedCommit checks that Kept counts the answers a rerun
// finds, not those asked whose commit failed: a distillation whose store
// filled up said "the teacher's 256 answers so far are kept" of answers
// that were never stored, from Counts.
func TestKeptAfterFailedCommit(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	m := model.NewMLP([]int{4, 8, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(3, 4)))
	xs := batches(3, 7, 4)
	db := openStore(t, path)
	defer db.Close()
	j, err := New(ctx, m, failingPut{db, 2}, "job")
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range xs {
		_, err := j.Predict(ctx, x)
		if wantErr := i == 2; (err != nil) != wantErr || (wantErr && !errors.Is(err, errFull)) {
			t.Fatalf("batch %d: error %v, want one wrapping %v: %v", i, err, errFull, wantErr)
		}
	}
	asked, replayed := j.Counts()
	if got, want := j.Kept(), 14; got != want || asked != 21 || replayed != 0 {
		t.Errorf("Kept() = %d, Counts() = %d asked, %d replayed; want %d kept of 21 asked, 0 replayed", got, asked, replayed, want)
	}
	j2, err := New(ctx, m, db, "job")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := j2.Stored(), 2; got != want {
		t.Errorf("a rerun finds %d batches, want %d", got, want)
	}
	for _, x := range xs {
		if _, err := j2.Predict(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := j2.Kept(), 21; got != want {
		t.Errorf("rerun: Kept() = %d, want %d", got, want)
	}
}
