package model

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseLabelMap(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // Format(nil), or the error's text
		ok       bool
	}{
		{"inline", "zero=0,one=1", "zero=0,one=1", true},
		{"spaces and lines", " zero = 0 ,\n# a comment\n\none=1\r\n", "zero=0,one=1", true},
		{"names with spaces and slashes", "T-shirt/top=0,Ankle boot=9", "T-shirt/top=0,Ankle boot=9", true},
		{"identity pair", "0=0", "0=0", true},
		{"empty", "", "no MODEL_LABEL=TEACHER_LABEL pairs", false},
		{"comments only", "# x\n", "no MODEL_LABEL=TEACHER_LABEL pairs", false},
		{"no =", "zero=0,one", `pair 2 "one": want MODEL_LABEL=TEACHER_LABEL`, false},
		{"two =", "a=b=c", `pair 1 "a=b=c": want MODEL_LABEL=TEACHER_LABEL`, false},
		{"empty label", "a=,b=1", `pair 1 "a=": a label is empty`, false},
		{"trailing comma", "a=0,", "a=0", true},
		{"only commas", ", ,", "no MODEL_LABEL=TEACHER_LABEL pairs", false},
		{"model label twice", "a=0,b=1,a=2", `model label "a" is mapped twice (pairs 1 and 3): the map must be one-to-one`, false},
		{"teacher label twice", "a=0,b=0", `label "0" is the image of two model labels (pairs 1 and 2): the map must be one-to-one`, false},
		{"label too long", "a=" + strings.Repeat("x", MaxNameBytes+1), "longer than 1024 bytes", false},
		// Labels holding ',', '=' or a leading '#', written with a
		// backslash before it; a backslash before anything else is one.
		{"escaped comma and =", `a\,b=x\=y, c = d\,`, `a\,b=x\=y,c=d\,`, true},
		{"escaped #", `\#a=0`, `\#a=0`, true},
		{"# within a label", `a#b=0,#c=1`, `a#b=0,#c=1`, true},
		{"backslashes", `C:\dir=0,a\\=1,x\y=2`, `C:\dir=0,a\\=1,x\y=2`, true},
		{"backslash ending a label", `a\\=b\\`, `a\\=b\\`, true},
		{"unescaped = in a label", "a=b=c", `(a ',', '=' or leading '#' within a label is written with a backslash before it)`, false},
		{"escaped separator", `a\=0`, `pair 1 "a\\=0": want MODEL_LABEL=TEACHER_LABEL`, false},
		{"lines named", "a=0\n\nb=1,c\n", `line 3: pair 3 "c": want`, false},
		{"twice on lines", "a=0\nb=0\n", `(pairs 1 and 2, the second on line 2)`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lm, err := ParseLabelMap(tt.in)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if got := lm.Format(nil); got != tt.want {
					t.Errorf("Format = %q, want %q", got, tt.want)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrLabelMap) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want one line wrapping ErrLabelMap containing %q", err, tt.want)
			}
		})
	}
}

// TestLabelMapFormatUnchanged checks that maps of labels without ',' or
// '=' are written as lineage wrote them before labels could hold them
// (a fingerprint's hash covers the map recorded), and one holding them is
// read back by the same pairs.
func TestLabelMapFormatUnchanged(t *testing.T) {
	for _, tt := range []struct{ from, to, want string }{
		{"zero", "0", "zero=0"},
		{"T-shirt/top", "Ankle boot", "T-shirt/top=Ankle boot"},
		{`a\b`, `#c`, `a\b=#c`},
		{"a,b", "x=y", `a\,b=x\=y`},
		{"#a", `b\`, `\#a=b\\`},
		{`c\,`, `\=`, `c\\\,=\\\=`},
	} {
		lm := LabelMap{pairs: []labelPair{{tt.from, tt.to}}}
		got := lm.Format(nil)
		if got != tt.want {
			t.Errorf("Format of %q=%q = %q, want %q", tt.from, tt.to, got, tt.want)
		}
		back, err := ParseLabelMap(got)
		if err != nil || !slices.Equal(back.pairs, lm.pairs) {
			t.Errorf("ParseLabelMap(%q) = %v, %v; want %q=%q", got, back.pairs, err, tt.from, tt.to)
		}
	}
}

// FuzzLabelMapFormat checks that a map of any two pairs ParseLabelMap can
// hold (names without line breaks or surrounding spaces, distinct) is
// written by Format as text ParseLabelMap reads back to the same pairs.
func FuzzLabelMapFormat(f *testing.F) {
	for _, s := range [][4]string{{"a", "0", "b", "1"}, {"a,b", "x=y", "#c", `d\`}, {`\`, `\\`, `\,`, "=,#"}} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		for _, l := range []string{a, b, c, d} {
			if l == "" || l != strings.TrimSpace(l) || strings.ContainsAny(l, "\r\n") || len(l) > MaxNameBytes {
				return
			}
		}
		if a == c || b == d {
			return
		}
		lm := LabelMap{pairs: []labelPair{{a, b}, {c, d}}}
		out := lm.Format(nil)
		again, err := ParseLabelMap(out)
		if err != nil {
			t.Fatalf("Format %q of %q does not parse: %v", out, lm.pairs, err)
		}
		if !slices.Equal(again.pairs, lm.pairs) {
			t.Fatalf("round trip of %q through %q: %q", lm.pairs, out, again.pairs)
		}
		if !strings.ContainsAny(a+b+c+d, ",=#\\") && out != a+"="+b+","+c+"="+d {
			t.Fatalf("Format of %q = %q, want it as lineage always wrote it", lm.pairs, out)
		}
	})
}

func TestLabelMapRename(t *testing.T) {
	lm, err := ParseLabelMap("zero=0,one=1,two=2")
	if err != nil {
		t.Fatal(err)
	}
	got, err := lm.Rename([]string{"two", "zero", "one"})
	if err != nil || !slices.Equal(got, []string{"2", "0", "1"}) {
		t.Errorf("Rename = %v, %v; want [2 0 1]", got, err)
	}
	if f, w := lm.Format([]string{"two", "zero", "one"}), "two=2,zero=0,one=1"; f != w {
		t.Errorf("Format in the model's order = %q, want %q", f, w)
	}
	for _, tt := range []struct {
		labels []string
		want   string
	}{
		{[]string{"two", "zero", "three"}, `does not say which label the model's label "three" stands for`},
		{[]string{"two", "zero"}, `it maps "one", which the model does not list`},
	} {
		if _, err := lm.Rename(tt.labels); err == nil || !errors.Is(err, ErrLabelMap) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Rename(%v): got %v, want %q", tt.labels, err, tt.want)
		}
		if f, w := lm.Format(tt.labels), "zero=0,one=1,two=2"; f != w {
			t.Errorf("Format(%v) = %q, want the order given %q", tt.labels, f, w)
		}
	}
}

// FuzzParseLabelMap checks that what ParseLabelMap accepts, Format writes
// back as a map it parses to the same pairs, and that nothing panics.
func FuzzParseLabelMap(f *testing.F) {
	for _, s := range []string{"zero=0,one=1", "a=b\n#c\nd=e", "a=b,a=c", "=", ",", "a = b , c=d", ` ,#a=1`, `a\,b=c\=d`, `a\\=b\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lm, err := ParseLabelMap(s)
		if err != nil {
			return
		}
		out := lm.Format(nil)
		again, err := ParseLabelMap(out)
		if err != nil {
			t.Fatalf("Format %q of %q does not parse: %v", out, s, err)
		}
		if !slices.Equal(again.pairs, lm.pairs) {
			t.Fatalf("round trip of %q: %v, want %v", s, again.pairs, lm.pairs)
		}
	})
}

func TestRelabel(t *testing.T) {
	m := NewMLP([]int{3, 5, 3}, ActTanh, []string{"two", "zero", "one"}, testRNG(7))
	lm, err := ParseLabelMap("zero=0,one=1,two=2")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Relabel(m, lm)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Info().Labels; !slices.Equal(got, []string{"2", "0", "1"}) {
		t.Errorf("labels %v, want [2 0 1]", got)
	}
	if !slices.Equal(m.Labels, []string{"two", "zero", "one"}) {
		t.Errorf("Relabel changed the model's own labels to %v", m.Labels)
	}
	aligned, ok := InLabelOrder(r, []string{"0", "1", "2"})
	if !ok {
		t.Fatal("the relabelled model does not align to [0 1 2]")
	}
	x := randMatrix(testRNG(8), 4, 3, 1)
	own, _ := m.Predict(t.Context(), x)
	got, err := aligned.Predict(t.Context(), x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Rows {
		for j, k := range []int{1, 2, 0} { // "0" is the model's column 1, "1" column 2, "2" column 0
			if g, w := got.Data[i*got.Stride+j], own.Data[i*own.Stride+k]; g != w {
				t.Errorf("row %d, label %d: %v, want %v", i, j, g, w)
			}
		}
	}
	if _, err := Relabel(m, mustParse(t, "zero=0,one=1")); err == nil || !errors.Is(err, ErrLabelMap) {
		t.Errorf("a map missing a label: got %v, want ErrLabelMap", err)
	}
}

func mustParse(t *testing.T, s string) LabelMap {
	t.Helper()
	lm, err := ParseLabelMap(s)
	if err != nil {
		t.Fatal(err)
	}
	return lm
}
