package model

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/internal/tmpfile"
)

// safetensors metadata keys written by SaveSafetensors; all values are
// strings, the structured ones JSON.
const (
	stFormat     = "format"        // "lineage-mlp"
	stName       = "name"          // model name
	stActivation = "activation"    // "relu" | "tanh" | "gelu"
	stLabels     = "labels"        // JSON array of strings
	stNorm       = "normalization" // JSON {"mean":[...],"std":[...]}
	stProv       = "provenance"    // JSON Provenance
)

// maxSafetensorsHeader bounds the JSON header LoadSafetensors accepts.
const maxSafetensorsHeader = 100 << 20

// MaxSafetensorsSize is the largest safetensors file LoadSafetensors
// reads: the largest header and MaxParams values of the widest dtype (F64).
const MaxSafetensorsSize = 8 + maxSafetensorsHeader + 8*MaxParams

type stTensor struct {
	Dtype   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// EncodeSafetensors returns m in the safetensors format: tensors
// "layers.{i}.weight" (F32, shape [out, in]) and "layers.{i}.bias" (F32,
// [out]), stored in Theta order, and a __metadata__ map with the keys
// format ("lineage-mlp"), name, activation, labels (JSON array),
// normalization (JSON object) and provenance (JSON object). The header
// keys are in a fixed order, so the encoding is deterministic.
func EncodeSafetensors(m *MLP) ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("encode safetensors %q: %w", m.Name, err)
	}
	act, _ := ParseActivation(string(m.Act))
	labels, _ := json.Marshal(m.Labels)
	norm, err := json.Marshal(m.Norm)
	if err != nil {
		return nil, fmt.Errorf("encode safetensors %q: %w", m.Name, err)
	}
	prov, err := json.Marshal(m.Prov)
	if err != nil {
		return nil, fmt.Errorf("encode safetensors %q: %w", m.Name, err)
	}
	meta := [][2]string{ // sorted by key
		{stActivation, string(act)}, {stFormat, "lineage-mlp"}, {stLabels, string(labels)},
		{stName, m.Name}, {stNorm, string(norm)}, {stProv, string(prov)},
	}
	var h bytes.Buffer
	h.WriteString(`{"__metadata__":{`)
	for i, kv := range meta {
		if i > 0 {
			h.WriteByte(',')
		}
		k, _ := json.Marshal(kv[0])
		v, _ := json.Marshal(kv[1])
		h.Write(k)
		h.WriteByte(':')
		h.Write(v)
	}
	h.WriteByte('}')
	off := int64(0)
	for l := 0; l < m.NumLayers(); l++ {
		in, out := m.Sizes[l], m.Sizes[l+1]
		for _, t := range []struct {
			name  string
			shape []int
		}{{"weight", []int{out, in}}, {"bias", []int{out}}} {
			n := int64(4)
			for _, d := range t.shape {
				n *= int64(d)
			}
			desc, _ := json.Marshal(stTensor{Dtype: "F32", Shape: t.shape, Offsets: [2]int64{off, off + n}})
			fmt.Fprintf(&h, `,"layers.%d.%s":%s`, l, t.name, desc)
			off += n
		}
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	out := make([]byte, 8, 8+h.Len()+4*len(m.Theta))
	binary.LittleEndian.PutUint64(out, uint64(h.Len()))
	out = append(out, h.Bytes()...)
	for _, v := range m.Theta {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out, nil
}

// SaveSafetensors writes m to path in the safetensors format (see
// EncodeSafetensors), through a temporary file and a rename like Save.
func SaveSafetensors(path string, m *MLP) error {
	data, err := EncodeSafetensors(m)
	if err != nil {
		return err
	}
	err = tmpfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		return fmt.Errorf("save safetensors %q: %w", path, err)
	}
	return nil
}

// LoadSafetensors reads an MLP from a safetensors file (see
// DecodeSafetensors). Malformed files give a *FormatError naming the file
// (wrapping ErrTooLarge for files over MaxSafetensorsSize bytes); paths
// that are not regular files are refused.
func LoadSafetensors(path string) (*MLP, error) {
	data, err := readModelFile(path, MaxSafetensorsSize, stHead(path))
	if err != nil {
		return nil, readError("load safetensors", err)
	}
	m, err := decodeSafetensors(path, data)
	if err != nil {
		return nil, err
	}
	m.source = path
	return m, nil
}

// DecodeSafetensors reads an MLP from safetensors bytes. It needs the
// tensors layers.{i}.weight ([out, in]) and layers.{i}.bias ([out]) for
// i = 0, 1, ... with matching shapes, in F32, F64, F16 or BF16 (converted
// to float32); a layer tensor after a gap in that numbering is refused
// (see strayLayer), other tensors are ignored. The lineage metadata written by
// EncodeSafetensors is used when present; without it the labels default
// to "0".."K-1", the activation to relu, the normalisation to the identity
// and the name to "" (DefaultedMetadata lists the keys defaulted).
func DecodeSafetensors(data []byte) (*MLP, error) {
	return decodeSafetensors("", data)
}

func decodeSafetensors(path string, data []byte) (*MLP, error) {
	p, err := stLayout(path, data, int64(len(data)))
	if err != nil {
		return nil, err
	}
	buf := data[p.data:]
	m := &MLP{Sizes: p.sizes, Act: ActReLU, Theta: make([]float32, 0, NumParams(p.sizes))}
	for l := range p.ws {
		for k, t := range []*stTensor{p.ws[l], p.bs[l]} {
			var err error
			if m.Theta, err = appendTensor(m.Theta, t, buf); err != nil {
				return nil, stError(path, ErrHeader, "layers.%d.%s: %v", l, [2]string{"weight", "bias"}[k], err)
			}
		}
	}
	if err := applyMeta(m, p.meta); err != nil {
		return nil, stError(path, ErrHeader, "metadata: %v", err)
	}
	if err := m.Validate(); err != nil {
		return nil, &FormatError{Path: path, Problem: "safetensors: " + err.Error(), Err: fmt.Errorf("%w: %w", ErrHeader, err)}
	}
	return m, nil
}

// stError is the *FormatError of a malformed safetensors file.
func stError(path string, sentinel error, format string, args ...any) error {
	return &FormatError{Path: path, Problem: "safetensors: " + fmt.Sprintf(format, args...), Err: sentinel}
}

// stPlan is the layout of a safetensors file, read from its header.
type stPlan struct {
	data   int64 // where the data buffer starts in the file
	sizes  []int
	ws, bs []*stTensor // each layer's weight and bias
	meta   map[string]string
}

// stLayout reads the layout of a safetensors file of size bytes from
// head, the file's first bytes: its 8-byte header length and the header,
// or the whole file when it is shorter. It checks every layer tensor
// against the data buffer's length without reading the buffer, so a
// large file that is not a model of lineage's is refused unread.
func stLayout(path string, head []byte, size int64) (*stPlan, error) {
	bad := func(sentinel error, format string, args ...any) (*stPlan, error) {
		return nil, stError(path, sentinel, format, args...)
	}
	if size < 8 {
		return bad(ErrTruncated, "truncated (%d bytes)", size)
	}
	hlen := binary.LittleEndian.Uint64(head)
	if hlen > maxSafetensorsHeader {
		return bad(ErrHeader, "header length %d is absurd", hlen)
	}
	if uint64(size-8) < hlen {
		return bad(ErrTruncated, "truncated (header needs %d bytes, file has %d)", hlen, size-8)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(head[8:8+hlen], &raw); err != nil {
		return bad(ErrHeader, "invalid JSON header: %v", err)
	}
	p := &stPlan{data: 8 + int64(hlen), meta: map[string]string{}}
	bufLen := size - p.data
	if mm, ok := raw["__metadata__"]; ok {
		var err error
		if p.meta, err = decodeMeta(mm); err != nil {
			return bad(ErrHeader, "%v", err)
		}
	}
	tensor := func(name string) (*stTensor, error) {
		r, ok := raw[name]
		if !ok {
			return nil, nil
		}
		var t stTensor
		if err := json.Unmarshal(r, &t); err != nil {
			return nil, fmt.Errorf("tensor %s: %v", name, err)
		}
		return &t, nil
	}
	for l := 0; ; l++ {
		if l == MaxLayers && raw[fmt.Sprintf("layers.%d.weight", l)] != nil {
			return bad(ErrHeader, "tensor layers.%d.weight makes more than %d layers, the most lineage reads", l, MaxLayers)
		}
		w, err := tensor(fmt.Sprintf("layers.%d.weight", l))
		if err != nil {
			return bad(ErrHeader, "%v", err)
		}
		if w == nil {
			break
		}
		b, err := tensor(fmt.Sprintf("layers.%d.bias", l))
		if err != nil {
			return bad(ErrHeader, "%v", err)
		}
		if b == nil {
			return bad(ErrHeader, "tensor layers.%d.bias is missing (an nn.Linear(bias=False)? write a bias of zeros)", l)
		}
		if len(w.Shape) != 2 || len(b.Shape) != 1 || w.Shape[0] != b.Shape[0] {
			hint := ""
			if len(w.Shape) == 2 && len(b.Shape) == 1 && w.Shape[1] == b.Shape[0] {
				hint = transposedWeight
			}
			return bad(ErrHeader, "layer %d has weight shape %v and bias shape %v, want [out, in] and [out]%s", l, w.Shape, b.Shape, hint)
		}
		if l == 0 {
			p.sizes = append(p.sizes, w.Shape[1])
		} else if w.Shape[1] != p.sizes[l] {
			return bad(ErrHeader, "layer %d takes %d inputs but layer %d has %d outputs%s", l, w.Shape[1], l-1, p.sizes[l], transposedHint(raw))
		}
		p.sizes = append(p.sizes, w.Shape[0])
		p.ws, p.bs = append(p.ws, w), append(p.bs, b)
	}
	if name, ok := batchNormTensor(raw); ok {
		return bad(ErrHeader, "tensor %s is a batch norm's: lineage reads nn.Linear layers and activations only, so fold the batch norm into the nn.Linear next to it before exporting", name)
	}
	if len(p.ws) == 0 {
		return bad(ErrHeader, "no tensor layers.0.weight (want layers.{i}.weight and layers.{i}.bias)%s", missingLayersHint(raw))
	}
	if name, ok := strayLayer(raw, len(p.ws)); ok {
		// nn.Sequential numbers its modules, activations included, so
		// its linear layers are layers.0, layers.2, ...: reading the
		// first alone would be another model.
		return bad(ErrHeader, "tensor %s comes after a missing layers.%d.weight (want layers numbered 0, 1, 2, … without gaps: rename an nn.Sequential's linear layers in order)", name, len(p.ws))
	}
	if np := NumParams(p.sizes); np < 0 || np > MaxParams {
		return bad(ErrHeader, "invalid layer sizes %v", p.sizes)
	}
	for l := range p.ws { // check before allocating what the header claims
		for _, t := range []*stTensor{p.ws[l], p.bs[l]} {
			if err := checkTensor(t, bufLen); err != nil {
				return bad(ErrHeader, "layer %d: %v", l, err)
			}
		}
	}
	if err := checkCoverage(raw, bufLen); err != nil {
		return bad(ErrHeader, "%v", err)
	}
	return p, nil
}

// checkCoverage checks, as the format's reference implementation does,
// that the data offsets of every tensor in the header (raw, layers or
// not) tile the data buffer of bufLen bytes: no two tensors overlap and
// no byte belongs to none. Bytes after the last tensor (a file with
// something appended) or a tensor written over another are corruption,
// not a model.
func checkCoverage(raw map[string]json.RawMessage, bufLen int64) error {
	type span struct {
		name   string
		lo, hi int64
	}
	var spans []span
	for _, name := range slices.Sorted(maps.Keys(raw)) { // the same error every time
		if name == "__metadata__" {
			continue
		}
		var t struct {
			Offsets *[2]int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw[name], &t); err != nil || t.Offsets == nil {
			return fmt.Errorf("tensor %s has no data_offsets", name)
		}
		spans = append(spans, span{name, t.Offsets[0], t.Offsets[1]})
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.lo, b.lo), cmp.Compare(a.hi, b.hi), strings.Compare(a.name, b.name))
	})
	at := int64(0)
	for i, s := range spans {
		switch {
		case s.hi < s.lo:
			return fmt.Errorf("tensor %s has data offsets [%d, %d], which end before they start", s.name, s.lo, s.hi)
		case s.lo < 0 || s.hi > bufLen:
			return fmt.Errorf("tensor %s has data offsets [%d, %d] outside the buffer of %d bytes", s.name, s.lo, s.hi, bufLen)
		case s.lo < at:
			return fmt.Errorf("tensors %s and %s overlap in the data buffer", spans[i-1].name, s.name)
		case s.lo > at:
			return fmt.Errorf("bytes %d to %d of the data buffer belong to no tensor", at, s.lo)
		}
		at = s.hi
	}
	if at != bufLen {
		return fmt.Errorf("the data buffer has %d bytes after its last tensor (%d bytes, tensors end at %d)", bufLen-at, bufLen, at)
	}
	return nil
}

// stHead is LoadSafetensors' early check (see readModelFile): the
// errors of stLayout, from the header alone.
func stHead(path string) func(f *os.File, size int64) error {
	return func(f *os.File, size int64) error {
		if size < 8 {
			return nil // the whole file is read anyway
		}
		head := make([]byte, 8)
		if _, err := f.ReadAt(head, 0); err != nil {
			return err
		}
		if hlen := binary.LittleEndian.Uint64(head); hlen <= maxSafetensorsHeader && hlen <= uint64(size-8) {
			head = make([]byte, 8+hlen)
			if _, err := f.ReadAt(head, 0); err != nil {
				return err
			}
		}
		_, err := stLayout(path, head, size)
		return err
	}
}

// strayLayer returns the name of a tensor layers.{i}.weight or
// layers.{i}.bias of raw with i ≥ n, the number of layers read, if there
// is one (the smallest such name, so the error is the same every time).
func strayLayer(raw map[string]json.RawMessage, n int) (string, bool) {
	var stray string
	for name := range raw {
		rest, ok := strings.CutPrefix(name, "layers.")
		if !ok {
			continue
		}
		idx, kind, ok := strings.Cut(rest, ".")
		if !ok || (kind != "weight" && kind != "bias") {
			continue
		}
		if i, err := strconv.Atoi(idx); err == nil && i >= n && (stray == "" || name < stray) {
			stray = name
		}
	}
	return stray, stray != ""
}

// checkTensor reports whether t has a supported dtype and data offsets
// inside a data buffer of bufLen bytes that match its shape.
func checkTensor(t *stTensor, bufLen int64) error {
	n := int64(1)
	for _, d := range t.Shape {
		if d < 0 || d > MaxParams {
			return fmt.Errorf("bad dimension in shape %v", t.Shape)
		}
		n *= int64(d)
		if n > MaxParams {
			return fmt.Errorf("shape %v is too large", t.Shape)
		}
	}
	width := map[string]int64{"F32": 4, "F64": 8, "F16": 2, "BF16": 2}[t.Dtype]
	if width == 0 {
		return fmt.Errorf("dtype %s is not supported (want F32, F64, F16 or BF16)", t.Dtype)
	}
	lo, hi := t.Offsets[0], t.Offsets[1]
	if lo < 0 || hi < lo || hi > bufLen {
		return fmt.Errorf("data offsets [%d, %d] outside the %d-byte buffer", lo, hi, bufLen)
	}
	if hi-lo != n*width {
		return fmt.Errorf("data offsets [%d, %d] hold %d bytes, shape %v of %s needs %d", lo, hi, hi-lo, t.Shape, t.Dtype, n*width)
	}
	return nil
}

// applyMeta fills m's name, activation (in any case), labels,
// normalisation and provenance from safetensors metadata, leaving defaults
// for absent keys (recorded for DefaultedMetadata). A key that stands for
// one of these under another spelling is refused (see checkMetaKeys).
func applyMeta(m *MLP, meta map[string]string) error {
	if err := checkMetaKeys(meta); err != nil {
		return err
	}
	m.defaulted = nil
	for _, k := range []string{stActivation, stLabels, stNorm} {
		if _, ok := meta[k]; !ok {
			m.defaulted = append(m.defaulted, k)
		}
	}
	m.Name = meta[stName]
	// PyTorch names its modules ReLU, Tanh and GELU.
	act, err := ParseActivation(strings.ToLower(meta[stActivation]))
	if err != nil {
		return err
	}
	m.Act = act
	k := m.Sizes[len(m.Sizes)-1]
	m.Labels = DefaultLabels(k)
	if s, ok := meta[stLabels]; ok {
		if err := json.Unmarshal([]byte(s), &m.Labels); err != nil {
			return fmt.Errorf("labels: %v", err)
		}
	}
	if s, ok := meta[stNorm]; ok {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields() // a "scale" ignored would feed raw inputs
		if err := dec.Decode(&m.Norm); err != nil {
			return fmt.Errorf(`normalization: want {"mean":[…],"std":[…]}, one number per input each, inputs read as (x-mean)/std: %v`, err)
		}
	}
	if s, ok := meta[stProv]; ok {
		if err := json.Unmarshal([]byte(s), &m.Prov); err != nil {
			return fmt.Errorf("provenance: %v", err)
		}
	}
	return nil
}
