package store

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
	"gonum.org/v1/gonum/blas/blas32"
)

func TestExportImportRoundTrip(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var first bytes.Buffer
	if err := a.Export(ctx, &first); err != nil {
		t.Fatal(err)
	}
	b := openTest(t, tempPath(t), false)
	if err := b.Import(ctx, bytes.NewReader(first.Bytes())); err != nil {
		t.Fatal(err)
	}
	var second bytes.Buffer
	if err := b.Export(ctx, &second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Errorf("re-export differs:\n%s\nvs\n%s", first.String()[:200], second.String()[:200])
	}
	if got, want := strings.Count(first.String(), "\n"), 1+1+1+4+1+1+3+1; got != want {
		t.Errorf("export has %d lines, want %d", got, want)
	}
	// Importing again is a no-op.
	if err := b.Import(ctx, bytes.NewReader(first.Bytes())); err != nil {
		t.Errorf("idempotent import: %v", err)
	}
	if r, err := b.Verify(ctx); err != nil || !r.OK() {
		t.Errorf("Verify after import = %+v, %v", r, err)
	}
	if !strings.Contains(first.String(), testMarkKey) {
		t.Errorf("export lacks the watermark key, so import could not restore it")
	}
}

func TestImportErrors(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var buf bytes.Buffer
	a.Export(ctx, &buf)
	lines := strings.SplitAfter(buf.String(), "\n")
	lines = lines[:len(lines)-1] // the empty string after the last newline
	end := func(n int) string { return fmt.Sprintf(`{"type":"end","count":%d}`+"\n", n) }
	all := strings.Join(lines, "")
	fpLine := ""
	for _, l := range lines {
		if strings.HasPrefix(l, `{"type":"fingerprint"`) {
			fpLine = l
			break
		}
	}
	tests := []struct {
		name     string
		input    string
		wantLine int
	}{
		{"malformed", strings.Join(lines[:3], "") + "{not json\n" + strings.Join(lines[3:], ""), 4},
		{"no header", strings.Join(lines[1:], ""), 1},
		{"unknown type", lines[0] + `{"type":"spaceship","id":"x"}` + "\n", 2},
		{"bad fingerprint", lines[0] + `{"type":"fingerprint","id":"x","data":"AAAA"}` + "\n" + end(1), 2},
		{"enrolment without its fingerprints", lines[0] + lines[1] + lines[2] + lines[len(lines)-6] + end(3), 4},
		{"empty file", "", 1},
		{"truncated", strings.Join(lines[:6], ""), 7},
		{"end line miscounts", strings.Join(lines[:6], "") + end(6), 7},
		{"record after the end", all + lines[1], len(lines) + 1},
		{"second header", lines[0] + lines[0], 2},
		// Imported, it failed db verify.
		{"fingerprint without its suite", lines[0] + fpLine + end(1), 2},
		{"unknown field", lines[0] + `{"type":"suite_name","id":"x","suite":"y","colour":"red"}` + "\n", 2},
		{"field name in other case", lines[0] + `{"Type":"suite_name","id":"x","suite":"y"}` + "\n", 2},
		{"not an object", lines[0] + `["suite_name","x"]` + "\n", 2},
		{"no id", lines[0] + `{"type":"suite_name","suite":"y"}` + "\n", 2},
		{"answers batch with other content", all[:len(all)-len(lines[len(lines)-1])] +
			`{"type":"answers","id":"remote-1","batch":0,"data":"AAAA"}` + "\n" + end(len(lines)-1), len(lines)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := openTest(t, tempPath(t), false)
			err := b.Import(ctx, strings.NewReader(tc.input))
			var ie *ImportError
			if !errors.As(err, &ie) || ie.Line != tc.wantLine {
				t.Fatalf("error = %v, want ImportError at line %d", err, tc.wantLine)
			}
			if got, _ := b.List(ctx, ""); len(got) != 0 {
				t.Errorf("failed import left %d records, want none", len(got))
			}
		})
		t.Run(tc.name+"/stream", func(t *testing.T) {
			defer setImportBatch(1)() // a transaction per record
			path := tempPath(t)
			err := Create(ctx, path, func(s *Store) error { return s.ImportStream(ctx, strings.NewReader(tc.input), nil) })
			var ie *ImportError
			if !errors.As(err, &ie) || ie.Line != tc.wantLine {
				t.Fatalf("error = %v, want ImportError at line %d", err, tc.wantLine)
			}
			if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 0 {
				t.Errorf("failed import left %v", ents)
			}
		})
	}
}

// TestImportInvalidSuite imports suites whose ID and hash agree with their
// contents but that are not valid suites: each is refused with ErrCorrupt
// (they used to be stored).
func TestImportInvalidSuite(t *testing.T) {
	labels := []string{"a", "b"}
	for _, tc := range []struct {
		name   string
		values []float32
		kind   probe.Kind
		labels []string
	}{
		{"NaN value", []float32{float32(math.NaN()), 1}, probe.Data, labels},
		{"unknown kind", []float32{0, 1}, "nonsense", labels},
		{"no labels", []float32{0, 1}, probe.Data, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := blas32.General{Rows: 1, Cols: 2, Stride: 2, Data: tc.values}
			kinds := []probe.Kind{tc.kind}
			su := &probe.Suite{X: x, Kinds: kinds, Labels: tc.labels, Hash: probe.CanonicalHash(x, kinds, tc.labels)}
			data, err := EncodeSuite(su)
			if err != nil {
				t.Fatal(err)
			}
			l, _ := json.Marshal(line{Type: TypeSuite, ID: su.Hash, Data: data})
			in := fmt.Sprintf(`{"type":"store","format":%q,"schema":%d}`+"\n%s\n"+`{"type":"end","count":1}`+"\n", formatName, SchemaVersion, l)
			b := openTest(t, tempPath(t), false)
			err = b.Import(ctx, strings.NewReader(in))
			var ie *ImportError
			if !errors.As(err, &ie) || ie.Line != 2 || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error = %v, want an ImportError at line 2 wrapping ErrCorrupt", err)
			}
			if got, _ := b.List(ctx, ""); len(got) != 0 {
				t.Errorf("failed import left %d records, want none", len(got))
			}
		})
	}
}

// TestImportKeepsHistory imports an export taken after an enrolment was
// removed: its audits name it, and stay (Verify accepts them, so must
// Import).
func TestImportKeepsHistory(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	if err := a.Remove(ctx, TypeEnrolment, "acme", RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if r, err := a.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("Verify after removing the enrolment = %+v, %v", r, err)
	}
	var buf bytes.Buffer
	if err := a.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	b := openTest(t, tempPath(t), false)
	if err := b.Import(ctx, &buf); err != nil {
		t.Fatalf("import of a store whose audit outlived its enrolment: %v", err)
	}
	if _, err := b.Audit(ctx, "case-1"); err != nil {
		t.Errorf("audit after import: %v", err)
	}
}

// TestImportWatermarkConflict merges an enrolment that differs only in its
// watermark key: that is a conflict, not the same record.
func TestImportWatermarkConflict(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var buf bytes.Buffer
	if err := a.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(buf.String(), testMarkKey, strings.Repeat("ab", 32), 1)
	// The edited record without its checksum, as lineage before the
	// checksum wrote it (with it, the edit is caught as damage).
	lines := strings.Split(other, "\n")
	for i, l := range lines {
		if strings.Contains(l, strings.Repeat("ab", 32)) {
			lines[i] = regexp.MustCompile(`,"checksum":"[0-9a-f]{64}"`).ReplaceAllString(l, "")
		}
	}
	err := a.Import(ctx, strings.NewReader(strings.Join(lines, "\n")))
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), `teacher "acme"`) {
		t.Errorf("merging an enrolment with another watermark key: error = %v, want ErrExists for teacher acme", err)
	}
}

// TestReadExportNeedsNoStore checks that the records of an export are
// checked as they are read, before any store is involved: ReadExport
// refuses a record that is bad on its own, and ImportRecords adds the
// records it read to several stores alike.
func TestReadExportNeedsNoStore(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var buf bytes.Buffer
	if err := a.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadExport(ctx, bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := recs.Len(), strings.Count(buf.String(), "\n")-2; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
	for range 2 {
		b := openTest(t, tempPath(t), false)
		if err := b.ImportRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
		var again bytes.Buffer
		if err := b.Export(ctx, &again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Error("a store given the records ReadExport read exports other bytes")
		}
	}
	bad := strings.Replace(buf.String(), `"type":"audit","id":"case-1","record":{"id":"case-1"`, `"type":"audit","id":"case-1","record":{"id":"case-2"`, 1)
	if bad == buf.String() {
		t.Fatal("the export has no audit line to spoil")
	}
	if _, err := ReadExport(ctx, strings.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadExport of an audit under another ID: %v, want ErrCorrupt", err)
	}
}

// TestFailedImportLeavesFile checks that an import that fails in its
// transaction, after writing records, leaves the store's file
// byte-identical.
func TestFailedImportLeavesFile(t *testing.T) {
	path := tempPath(t)
	a := openTest(t, path, false)
	populate(t, a)
	var buf bytes.Buffer
	if err := a.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	a.Close()
	// Every record renamed (new to the store) but the last answers batch,
	// which conflicts with the stored one and is applied last.
	lines := strings.SplitAfter(buf.String(), "\n")
	lines = lines[:len(lines)-1]
	var in strings.Builder
	for i, l := range lines {
		switch {
		case i == len(lines)-2:
			l = strings.Replace(l, `"data":"`, `"data":"AAAA`, 1)
		case strings.Contains(l, `"type":"answers"`):
			l = strings.Replace(l, `"id":"remote-1"`, `"id":"remote-2"`, 1)
		}
		in.WriteString(l)
	}
	before := fileSum(t, path)
	b := openTest(t, path, false)
	err := b.Import(ctx, strings.NewReader(in.String()))
	if !errors.Is(err, ErrExists) {
		t.Fatalf("Import = %v, want ErrExists", err)
	}
	b.Close()
	if fileSum(t, path) != before {
		t.Error("a failed import changed the store's file")
	}
}

// TestImportOldFingerprint checks that an export written before a
// fingerprint's JSON said "elapsed_s" imports (its fingerprint's metadata
// holds "elapsed" in nanoseconds), re-exports byte for byte, and shows
// Elapsed in seconds under "elapsed_s".
func TestImportOldFingerprint(t *testing.T) {
	// A fingerprint encoded by the old version: its metadata holds
	// "elapsed":1500000007.
	const data = "TE5GUAEAAAAYAQAAeyJpZCI6ImFjbWUvY29udHJvbC0wMSIsInN1aXRlIjoiNWUxNyIsIm1vZGVsIjp7Im5hbWUiOiJtIiwia2luZCI6IiIsImlucHV0X3NpemUiOjAsImxhYmVscyI6WyJhIiwiYiJdLCJwYXJhbXMiOjMsImhhc2giOiJhYiJ9LCJxdWVyaWVzIjoyLCJlbGFwc2VkIjoxNTAwMDAwMDA3LCJtZXRhIjp7ImVuZHBvaW50IjoibG9jYWwifSwiaGFzaCI6IjRmMjM3ODE2OTE5YTZhOTYyMDBjOTFmMWZmOTI3MDI1MjY2ZDI3ZTZlZDZiNWE2Mjg5YzUxNDJkOWQ2ZDY5NDUiLCJyb3dzIjoyLCJjb2xzIjoyfQAAgD4AAEA/AACAPwAAAAA="
	// Its suite ("5e17") was never stored; import needs one that fits,
	// so the old bytes are given a real suite of 2 probes and labels a, b
	// (the suite ID and the content hash rewritten in its JSON header, the
	// rest — "elapsed" in nanoseconds — kept).
	su := newTestSuite("old", 2, 3, 1)
	su.Labels = []string{"a", "b"}
	su.Hash = probe.CanonicalHash(su.X, su.Kinds, su.Labels)
	fpBytes := oldFingerprintOnSuite(t, data, su.Hash)
	suBytes, err := EncodeSuite(su)
	if err != nil {
		t.Fatal(err)
	}
	suLine, _ := json.Marshal(line{Type: TypeSuite, ID: su.Hash, Data: suBytes})
	old := fmt.Sprintf(`{"type":"store","format":%q,"schema":%d}`+"\n"+string(suLine)+"\n"+
		`{"type":"fingerprint","id":"acme/control-01","data":%q}`+"\n"+
		`{"type":"end","count":2}`+"\n", formatName, SchemaVersion, base64.StdEncoding.EncodeToString(fpBytes))
	s := openTest(t, tempPath(t), false)
	if err := s.Import(ctx, strings.NewReader(old)); err != nil {
		t.Fatalf("Import: %v", err)
	}
	var again bytes.Buffer
	if err := s.Export(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != old {
		t.Errorf("re-export:\n%s\nwant\n%s", again.String(), old)
	}
	out, err := s.Show(ctx, TypeFingerprint, "acme/control-01")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"type": "fingerprint",` + "\n  \"id\": \"acme/control-01\"", `"elapsed_s": 1.500000007,`, `"rows": 2,`, `"cols": 2` + "\n}"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("Show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), `"elapsed":`) {
		t.Errorf("Show has the old field in nanoseconds:\n%s", out)
	}
}

// TestExportDamagedRecord checks that an export meeting a record whose
// stored JSON is damaged fails naming the record (it named a Go type).
func TestExportDamagedRecord(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.tx.Bucket(bucketAudits).Put([]byte("broken"), []byte(`{"id":"broken",g`))
	}); err != nil {
		t.Fatal(err)
	}
	err := s.Export(ctx, io.Discard)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `audit "broken"`) {
		t.Errorf("Export: %v, want ErrCorrupt naming audit \"broken\"", err)
	}
}

// TestReadLine checks the bounded line reader against lines shorter than,
// as long as and longer than its limit, across the reader's buffer size.
func TestReadLine(t *testing.T) {
	const limit = 40
	tests := []struct {
		name  string
		input string
		want  []string // lines read before the error, newline included
		err   error
	}{
		{"short lines", "ab\ncd\n", []string{"ab\n", "cd\n"}, io.EOF},
		{"no final newline", "ab\ncd", []string{"ab\n", "cd"}, io.EOF},
		{"at the limit", strings.Repeat("x", limit-1) + "\n", []string{strings.Repeat("x", limit-1) + "\n"}, io.EOF},
		{"over the limit", strings.Repeat("x", limit) + "\n", nil, errLongLine},
		{"endless line", strings.Repeat("x", 10*limit), nil, errLongLine},
		{"long line after a short one", "ab\n" + strings.Repeat("x", 3*limit) + "\n", []string{"ab\n"}, errLongLine},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A 16-byte buffer (bufio's minimum) makes every long line
			// arrive in pieces.
			br := bufio.NewReaderSize(strings.NewReader(tc.input), 16)
			var got []string
			var err error
			for {
				var l []byte
				l, err = readLine(br, limit)
				if err != nil && err != io.EOF {
					break
				}
				if len(l) > 0 {
					got = append(got, string(l))
				}
				if err != nil {
					break
				}
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("error = %v, want %v", err, tc.err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("lines = %q, want %q", got, tc.want)
			}
		})
	}
}

// oldFingerprintOnSuite rewrites an encoded fingerprint (base64 b64) to
// name suite instead of its own, with its content hash recomputed, keeping
// every other byte of its JSON header: "LNFP", the version and the header
// length as uint32 LE, the header, the probabilities.
func oldFingerprintOnSuite(t *testing.T, b64, suite string) []byte {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint32(raw[8:])
	header, rest := string(raw[12:12+n]), raw[12+n:]
	var meta struct {
		Suite, Hash string
	}
	if err := json.Unmarshal([]byte(header), &meta); err != nil {
		t.Fatal(err)
	}
	build := func(h string) []byte {
		h = strings.Replace(strings.Replace(h, `"suite":"`+meta.Suite+`"`, `"suite":"`+suite+`"`, 1), `"hash":"`+meta.Hash+`"`, `"hash":"%s"`, 1)
		return []byte(h)
	}
	assemble := func(header []byte) []byte {
		out := append([]byte(nil), raw[:8]...)
		out = binary.LittleEndian.AppendUint32(out, uint32(len(header)))
		return append(append(out, header...), rest...)
	}
	tmpl := build(header)
	fp, err := fingerprint.Decode(assemble([]byte(fmt.Sprintf(string(tmpl), meta.Hash))))
	if err != nil {
		t.Fatal(err)
	}
	return assemble([]byte(fmt.Sprintf(string(tmpl), fp.ComputeHash())))
}

// TestImportFingerprintShape checks that a fingerprint whose outputs do
// not fit its suite (another probe count) is refused on import, naming
// both shapes; imported, it failed db verify.
func TestImportFingerprintShape(t *testing.T) {
	su := newTestSuite("s", 5, 3, 1)
	other := newTestSuite("t", 4, 3, 2)
	fp := newTestFP("x", other, 1)
	fp.Suite = su.Hash
	fp.Hash = fp.ComputeHash()
	fpBytes, err := fingerprint.Encode(fp)
	if err != nil {
		t.Fatal(err)
	}
	b := suiteFPExport(t, su, "x", fpBytes)
	s := openTest(t, tempPath(t), false)
	err = s.Import(ctx, strings.NewReader(b))
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Line != 3 || !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "4×3 outputs, but suite") {
		t.Errorf("Import = %v, want an ImportError at line 3 wrapping ErrCorrupt that names the shapes", err)
	}
}

// TestImportByteOrderMark checks that an export given a UTF-8 byte-order
// mark on the way (by an editor) imports as the export itself does.
func TestImportByteOrderMark(t *testing.T) {
	a := openTest(t, tempPath(t), false)
	populate(t, a)
	var buf bytes.Buffer
	if err := a.Export(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	b := openTest(t, tempPath(t), false)
	if err := b.Import(ctx, strings.NewReader("\ufeff"+buf.String())); err != nil {
		t.Fatalf("Import with a byte-order mark: %v", err)
	}
	var again bytes.Buffer
	if err := b.Export(ctx, &again); err != nil {
		t.Fatal(err)
	}
	if again.String() != buf.String() {
		t.Error("the imported store exports other bytes")
	}
}
