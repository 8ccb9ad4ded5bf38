package probe

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"

	"github.com/lineage-audit/lineage/internal/digest"

	"gonum.org/v1/gonum/blas/blas32"
)

// Kind names how a probe was generated.
type Kind string

// The probe kinds lineage generates.
const (
	Data        Kind = "data"        // held-out dataset samples
	Noise       Kind = "noise"       // uniform noise over the input range
	Boundary    Kind = "boundary"    // mixup segments bisected to the teacher's decision boundary
	Adversarial Kind = "adversarial" // FGSM/PGD on the teacher's own gradients
	Mistake     Kind = "mistake"     // held-out inputs the teacher gets wrong
	Conferrable Kind = "conferrable" // PGD towards inputs only the teacher's students follow
	Mixup       Kind = "mixup"       // random convex combinations of two held-out samples
	Watermark   Kind = "watermark"   // boundary points on mixup segments of the teacher's training data, where a label watermark is tested
)

// kindOrder is the canonical order of the known kinds, used wherever the
// package iterates over kinds.
var kindOrder = [...]Kind{Data, Noise, Boundary, Adversarial, Mistake, Conferrable, Mixup, Watermark}

// Known reports whether k is one of the kinds lineage generates.
func (k Kind) Known() bool {
	for _, c := range kindOrder {
		if k == c {
			return true
		}
	}
	return false
}

// Generator records one generator's settings, so a suite can be explained
// and regenerated. Settings holds generator-specific numbers (for example
// "eps" for adversarial probes); nil means the generator's defaults.
type Generator struct {
	Kind     Kind               `json:"kind"`
	Count    int                `json:"count"`
	Seed     uint64             `json:"seed"`
	Settings map[string]float64 `json:"settings,omitempty"`
	// Selected is true when the probes were kept by conferrable selection
	// from a larger candidate pool.
	Selected bool `json:"selected,omitempty"`
	// Note explains anything unusual, for example why a generator was
	// skipped (Count 0); empty means nothing to report.
	Note string `json:"note,omitempty"`
}

// Suite is an immutable, content-addressed set of probe inputs. X holds one
// probe per row in the raw input space of the models it is meant for; Kinds
// has one entry per row. Hash is the hex SHA-256 of the canonical probe
// bytes (see CanonicalHash) and is the suite's identity: a published hash
// commits the owner to the probes before any dispute.
type Suite struct {
	Name       string         `json:"name,omitempty"`
	Labels     []string       `json:"labels"`
	X          blas32.General `json:"-"`
	Kinds      []Kind         `json:"kinds"`
	Generators []Generator    `json:"generators"`
	Hash       string         `json:"hash"`
}

// Len returns the number of probes.
func (s *Suite) Len() int { return s.X.Rows }

// Dim returns the number of input features per probe.
func (s *Suite) Dim() int { return s.X.Cols }

// CanonicalHash returns the hex SHA-256 of the suite's canonical bytes: the
// ASCII tag "lineage-suite-v1", rows and cols as uint64 LE, every probe value
// as float32 LE bits row by row, then each kind and each label as a uint64 LE
// length followed by its bytes. Name and generator settings are not part of
// the identity.
func CanonicalHash(x blas32.General, kinds []Kind, labels []string) string {
	h := sha256.New()
	var b [8]byte
	h.Write([]byte("lineage-suite-v1"))
	digest.Uint64(h, uint64(x.Rows))
	digest.Uint64(h, uint64(x.Cols))
	digest.Matrix(h, x)
	str := func(s string) {
		binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
		h.Write(b[:])
		h.Write([]byte(s))
	}
	for _, k := range kinds {
		str(string(k))
	}
	for _, l := range labels {
		str(l)
	}
	return hex.EncodeToString(h.Sum(nil))
}
