package distill

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/lineage-audit/lineage/internal/tmpfile"
	"github.com/lineage-audit/lineage/model"
)

// Checkpoint file layout: the 8-byte magic, a uint32 LE header length, the
// JSON header, the binary sections named in the header (lengths in bytes, in
// header order), and a SHA-256 of everything before it.
const ckptMagic = "LNCKPT1\n"

// ErrCheckpoint is wrapped by errors about unreadable or mismatched
// checkpoints.
var ErrCheckpoint = errors.New("bad checkpoint")

// ckptState is everything needed to continue a run exactly.
type ckptState struct {
	ConfigHash string       `json:"config_hash"`
	Config     *ckptConfig  `json:"config,omitempty"` // what the hash hashes; nil in older checkpoints
	Epoch      int          `json:"epoch"`            // completed epochs
	Batch      int          `json:"batch"`            // batches done in epoch Epoch+1
	EpochLoss  float64      `json:"epoch_loss"`       // loss sum (row-weighted) so far in that epoch
	EpochRows  int          `json:"epoch_rows"`
	EpochRNG   []byte       `json:"epoch_rng"` // shuffle RNG state at the start of epoch Epoch+1
	Queries    int          `json:"queries"`
	BestVal    float64      `json:"best_val"`
	BestEpoch  int          `json:"best_epoch"`
	SinceBest  int          `json:"since_best"`
	Done       bool         `json:"done"` // stopped early or finished
	Elapsed    float64      `json:"elapsed_s"`
	History    []EpochStats `json:"history"`
	Labels     []int        `json:"labels,omitempty"` // per transfer row
	XRows      int          `json:"x_rows"`
	XCols      int          `json:"x_cols"`
	TCols      int          `json:"t_cols"`

	Sections []int `json:"sections"` // byte lengths: student, optimizer, best theta, X, targets

	student   *model.MLP
	opt       []byte
	bestTheta []float32
	x, tgt    []float32
}

func f32bytes(s []float32) []byte {
	b := make([]byte, 4*len(s))
	for i, v := range s {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func bytesF32(b []byte) []float32 {
	s := make([]float32, len(b)/4)
	for i := range s {
		s[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return s
}

// encodeCheckpoint writes c in the checkpoint format.
func encodeCheckpoint(w io.Writer, c *ckptState) error {
	var stud bytes.Buffer
	if err := model.Encode(&stud, c.student); err != nil {
		return fmt.Errorf("student: %w", err)
	}
	secs := [][]byte{stud.Bytes(), c.opt, f32bytes(c.bestTheta), f32bytes(c.x), f32bytes(c.tgt)}
	c.Sections = c.Sections[:0]
	for _, s := range secs {
		c.Sections = append(c.Sections, len(s))
	}
	hdr, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	h := sha256.New()
	mw := io.MultiWriter(w, h)
	var pre [12]byte
	copy(pre[:], ckptMagic)
	binary.LittleEndian.PutUint32(pre[8:], uint32(len(hdr)))
	for _, b := range append([][]byte{pre[:], hdr}, secs...) {
		if _, err := mw.Write(b); err != nil {
			return err // saveCheckpoint says what was written
		}
	}
	_, err = w.Write(h.Sum(nil))
	return err
}

// decodeCheckpoint parses data written by encodeCheckpoint.
func decodeCheckpoint(data []byte) (*ckptState, error) {
	bad := func(what string) error { return fmt.Errorf("%s: %w", what, ErrCheckpoint) }
	if len(data) < 12+sha256.Size || string(data[:8]) != ckptMagic {
		return nil, bad("not a lineage checkpoint")
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, bad("checksum mismatch")
	}
	hl := binary.LittleEndian.Uint32(data[8:12])
	if uint64(hl) > uint64(len(body)-12) {
		return nil, bad("truncated header")
	}
	c := new(ckptState)
	if err := json.Unmarshal(body[12:12+hl], c); err != nil {
		return nil, bad("header: " + err.Error())
	}
	rest := body[12+hl:]
	if len(c.Sections) != 5 {
		return nil, bad("wrong section count")
	}
	secs := make([][]byte, 5)
	for i, n := range c.Sections {
		if n < 0 || n > len(rest) || (i >= 2 && n%4 != 0) {
			return nil, bad("section lengths do not match the file")
		}
		secs[i], rest = rest[:n], rest[n:]
	}
	if len(rest) != 0 {
		return nil, bad("trailing bytes")
	}
	stud, err := model.Decode(bytes.NewReader(secs[0]))
	if err != nil {
		return nil, fmt.Errorf("student: %w: %w", err, ErrCheckpoint)
	}
	c.student, c.opt = stud, secs[1]
	c.bestTheta, c.x, c.tgt = bytesF32(secs[2]), bytesF32(secs[3]), bytesF32(secs[4])
	// rows·cols is compared by division: the product of two header
	// numbers can overflow and wrap round to the section's length.
	holds := func(n, rows, cols int) bool {
		return rows >= 0 && cols >= 0 && (cols == 0 && n == 0 || cols > 0 && n%cols == 0 && n/cols == rows)
	}
	if !holds(len(c.x), c.XRows, c.XCols) || !holds(len(c.tgt), c.XRows, c.TCols) ||
		(c.Labels != nil && len(c.Labels) != c.XRows) ||
		(len(c.bestTheta) != 0 && len(c.bestTheta) != len(stud.Theta)) {
		return nil, bad("inconsistent shapes")
	}
	return c, nil
}

// saveCheckpoint writes c to path through a locked temporary file in the
// same directory and a rename (tmpfile.Write), so path is never
// half-written and the temporaries of killed runs are removed by the next
// write.
func saveCheckpoint(path string, c *ckptState) error {
	if err := tmpfile.Write(path, 0o644, func(w io.Writer) error { return encodeCheckpoint(w, c) }); err != nil {
		return &SaveError{Path: path, Err: err}
	}
	return nil
}

// SaveError is the error of a checkpoint that could not be written (a
// full disk, the file size limit): Train stops at it. The file at Path,
// if any, is left as it was: the checkpoint of the last epoch saved,
// from which Resume continues.
type SaveError struct {
	Path string // Config.CheckpointPath
	Err  error
}

func (e *SaveError) Error() string { return "save checkpoint: " + e.Err.Error() }

// Unwrap returns e.Err.
func (e *SaveError) Unwrap() error { return e.Err }

// loadCheckpoint reads path; ok is false when the file does not exist.
func loadCheckpoint(path string) (c *ckptState, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("checkpoint: %w", err)
	}
	c, err = decodeCheckpoint(data)
	if err != nil {
		return nil, false, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return c, true, nil
}
