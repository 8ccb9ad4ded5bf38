package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/registry"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"
)

// reportOptions are the flags of `lineage report`.
type reportOptions struct {
	suite     string
	statistic string
	plot      string
	matrix    string // --plot-matrix: a heat map of each similarity matrix
	controls  bool   // include the controls in the similarity matrix
	format    report.Format
}

// newReportCommand builds `lineage report`.
func newReportCommand(g *globalOptions) *cobra.Command {
	o := &reportOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "report [--suite NAME] [--plot FILE.png|FILE.svg]",
		Short: "Summarise enrolled teachers, similarity matrices and the verdicts of audited suspects",
		Long: `report reads the database (read-only) and prints, for every enrolled teacher (or only the
one whose suite --suite names):
  - a summary: suite, probes, controls, null size, calibration TPR/FPR and AUC, suspects
    audited and flagged;
  - the similarity matrix of the teacher, its references and every suspect fingerprinted on
    the suite (and with --controls every control): top-1 agreement, or mean JS divergence
    with --statistic js; when several enrolments share the suite, the others' teachers and
    references (and with --controls their controls) are in it under their role "of" their
    enrolment, never as suspects;
  - the verdict table of the recorded audits (see 'lineage audit'): one row per suspect per
    teacher it was fingerprinted for (not those it got INCONCLUSIVE from only for having no
    fingerprint on their suite), from its latest audit, with its p-value and a q-value
    (Benjamini–Hochberg over every pair listed: flagging the pairs with q ≤ Q keeps the
    expected share of independent models among them at most Q, across the registry).
A suspect audited as a model against several teachers is listed under its name, not as its
fingerprints NAME@TEACHER, however it was audited since (an audit of NAME@TEACHER is one of
NAME's); in a matrix its row shows the fingerprint its verdict was measured on.
With --plot, a figure per teacher shows the null distribution (calibration negatives and, as
squares, the references that serve probabilities), the calibration half's positive controls and
each audited suspect on the lineage score, or on the replica residual when that decided more of the teacher's
audits than the score did (a suspect that answered with labels only against the controls' values
from their labels, on strips of their own: its value is on another scale); with several teachers the files are named FILE-TEACHER.png,
TEACHER portable: a name of ASCII letters and digits, '.', '_', '-' and other scripts' letters,
marks and digits is kept; in any other, each other character becomes '_' and '-' and 8 hex digits
of the name's SHA-256 follow (FILE-x_y-887fcea6.png for teacher "x y"), as they do a name cut to
fit a file name or alike another's but for case.
With --plot-matrix, a heat map per teacher draws its similarity matrix (named the same way;
names longer than 24 characters are shortened in the middle on its axes).`,
		Example: `  lineage --db case.db report --format markdown
  lineage --db case.db report --suite acme --plot null.png
  lineage --db case.db report --statistic js --plot-matrix similarity.svg`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runReport(c.Context(), c, g, o) },
	}
	g.bindDB(c, dbUsage)
	f := c.Flags()
	f.StringVar(&o.suite, "suite", "", "only this teacher's suite (enrolment name, suite hash or its first 8+ digits)")
	f.StringVar(&o.statistic, "statistic", "agreement", "similarity shown in the matrix: agreement or js")
	f.BoolVar(&o.controls, "controls", false, "include every control model in the similarity matrix (156 with enroll's defaults)")
	f.StringVar(&o.plot, "plot", "", "write a null-distribution figure per teacher to this .png or .svg file")
	f.StringVar(&o.matrix, "plot-matrix", "", "write a heat map of each teacher's similarity matrix to this .png or .svg file")
	f.Var(&o.format, "format", formatUsage)
	return c
}

// reportPrecomputed, when set (by tests), runs once report has computed
// the null figures' statistics, with the store closed.
var reportPrecomputed func()

// reportRead, when set (by tests), runs once report has read the store and
// closed it, before it computes the similarity matrices.
var reportRead func()

func runReport(ctx context.Context, c *cobra.Command, g *globalOptions, o *reportOptions) error {
	if o.statistic != "agreement" && o.statistic != "js" {
		return usageError{fmt.Errorf("--statistic %q: want agreement or js", o.statistic)}
	}
	if o.suite == "" && c.Flags().Changed("suite") {
		// Not "every suite", which is what leaving --suite out means.
		return usageError{errors.New("--suite: an empty name")}
	}
	for _, f := range []struct{ flag, path string }{{"--plot", o.plot}, {"--plot-matrix", o.matrix}} {
		if f.path == "" {
			continue
		}
		if _, err := report.ParseImageFormat(filepath.Ext(f.path)); err != nil {
			return usageError{fmt.Errorf("%s %q: the file must end in .png or .svg", f.flag, f.path)}
		}
		// Per-teacher names (figurePaths) keep the directory.
		if err := checkDest(f.flag, f.path); err != nil {
			return err
		}
	}
	if o.plot != "" && o.matrix != "" && filepath.Clean(o.plot) == filepath.Clean(o.matrix) {
		return usageError{fmt.Errorf("--plot and --plot-matrix name the same file %q", o.plot)}
	}
	// The null figures' statistics take seconds on a large suite: they
	// are computed with the store closed, so that writers do not wait on
	// this reader (a probe's commit waits only seconds), and used below
	// for the enrolments found unchanged.
	var warm []*audit.Case
	if o.plot != "" {
		if err := viewDB(ctx, g, func(tx *store.Tx) error {
			names, err := reportNames(tx, o)
			if err == nil && names != nil {
				warm, err = loadCases(tx, names)
			}
			return err
		}); err != nil {
			return err
		}
		if _, err := interruptible(ctx, func() (struct{}, error) {
			for _, cs := range warm {
				// An error is left for the report itself to meet.
				_ = cs.Precompute()
			}
			return struct{}{}, nil
		}); err != nil {
			return err
		}
		if reportPrecomputed != nil {
			reportPrecomputed()
		}
	}
	db, err := openDB(g, true)
	if err != nil {
		return err
	}
	defer db.Close()
	fpEntries, err := db.List(ctx, store.TypeFingerprint)
	if err != nil {
		return err
	}
	doc := &registry.Summary{Teachers: []registry.Teacher{}, Matrices: []registry.Matrix{}, Verdicts: []registry.Verdict{}}
	var nullPaths, matrixPaths []string
	err = db.View(ctx, func(tx *store.Tx) error {
		names, err := reportNames(tx, o)
		if err != nil {
			return err
		}
		// The table and markdown formats show a wide matrix's teacher and
		// reference columns only: the rest is not computed, unless the
		// heat map draws it.
		narrow := (o.format == report.FormatTable || o.format == report.FormatMarkdown) && o.matrix == ""
		opts := registry.Options{Statistic: o.statistic, Controls: o.controls, Figures: o.plot != "", Narrow: narrow}
		if names == nil {
			// No teacher: an empty report (which still says whether
			// audit records of removed teachers remain).
			doc, err = registry.Read(tx, nil, fpEntries, opts)
			return err
		}
		cases, err := loadCases(tx, names)
		if err != nil {
			return err
		}
		for i, cs := range cases {
			// Changed since (a reference added, say): computed again.
			if j := slices.IndexFunc(warm, cs.SameAs); j >= 0 {
				cases[i] = warm[j]
			}
		}
		// The figures' files are checked before the report is computed,
		// which may take a while.
		teachers := make([]string, len(cases))
		for i, cs := range cases {
			teachers[i] = cs.Enrolment.Name
		}
		if nullPaths, matrixPaths, err = figureDests(g, o, teachers); err != nil {
			return err
		}
		doc, err = registry.Read(tx, cases, fpEntries, opts)
		return err
	})
	if err != nil {
		return err
	}
	// The figures and the report may take a while or go to a pipe that
	// blocks (a pager): the lock is let go first, so that writers are not
	// kept waiting on the reader.
	if err := db.Close(); err != nil {
		return err
	}
	if reportRead != nil {
		reportRead()
	}
	// n² pairs of a registry's n suspects: computed with the store
	// closed, and Ctrl-C stops the report meanwhile.
	if _, err := interruptible(ctx, func() (struct{}, error) {
		doc.ComputeMatrices()
		return struct{}{}, nil
	}); err != nil {
		return err
	}
	if (o.plot != "" || o.matrix != "") && len(doc.Teachers) == 0 {
		// A figure asked for and not drawn must not pass for one written.
		flag := "--plot"
		if o.plot == "" {
			flag = "--plot-matrix"
		}
		return fmt.Errorf("%s: %s holds no enrolled teacher, so there is no figure to draw", flag, g.dbPath())
	}
	if o.plot != "" {
		paths := nullPaths
		for i := range doc.Teachers {
			if err := ctx.Err(); err != nil {
				return err // Ctrl-C: no more figures, and no report
			}
			if err := saveFigure(c.ErrOrStderr(), "--plot", paths[i], doc.Teachers[i].NullFigure()); err != nil {
				return err
			}
			doc.Figures = append(doc.Figures, paths[i])
		}
	}
	if o.matrix != "" {
		paths := matrixPaths
		for i, m := range doc.Matrices {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := saveFigure(c.ErrOrStderr(), "--plot-matrix", paths[i], m.Figure()); err != nil {
				return err
			}
			doc.Figures = append(doc.Figures, paths[i])
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.format == report.FormatJSON {
		// The context the tables' errors have (report.RenderAll).
		if err := doc.WriteJSON(c.OutOrStdout()); err != nil {
			return fmt.Errorf("report: writing the report as json: %w", err)
		}
		return nil
	}
	return report.RenderAll(c.OutOrStdout(), doc.TablesFor(o.format), o.format)
}

// reportNames returns the enrolments the report covers: those on the
// suite --suite names, else every one (an empty, non-nil list when they
// cannot be read: loadCases reports why); nil when the store holds none.
func reportNames(tx *store.Tx, o *reportOptions) ([]string, error) {
	es, err := tx.Enrolments()
	if o.suite == "" {
		if err != nil {
			return []string{}, nil
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name)
		}
		return names, nil
	}
	h, err := tx.SuiteHash(o.suite)
	if err != nil {
		return nil, notFoundHint(tx, o.suite, err)
	}
	if es, err = tx.Enrolments(); err != nil {
		return nil, err
	}
	var names []string
	for _, e := range es {
		if e.Suite == h {
			names = append(names, e.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("suite %q belongs to no enrolment", o.suite)
	}
	return names, nil
}

// saveFigure writes fig to path (named by flag in an error) and, for a PNG
// figure whose names hold characters its font lacks, says on stderr that
// they are drawn as '?' and that an SVG figure keeps them.
func saveFigure(stderr io.Writer, flag, path string, fig report.Figure) error {
	if err := report.SaveFigure(path, fig); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if strings.EqualFold(filepath.Ext(path), ".png") {
		if bad := report.Undrawable(fig); len(bad) > 0 {
			fmt.Fprintf(stderr, "lineage report: %s: the PNG font cannot draw some characters of %d label%s (%s), shown as '?'; an .svg figure keeps them\n",
				path, len(bad), plural(len(bad)), quoteSome(bad, 3))
		}
	}
	return nil
}

// quoteSome returns the first n of names quoted and comma-separated, with
// ", …" when there are more.
func quoteSome(names []string, n int) string {
	q := make([]string, 0, min(n, len(names)))
	for _, s := range names[:min(n, len(names))] {
		q = append(q, strconv.Quote(s))
	}
	out := strings.Join(q, ", ")
	if len(names) > n {
		out += ", …"
	}
	return out
}

// figureDests returns the files --plot and --plot-matrix write for the
// teachers named (nil for a flag not given), checked: not the database,
// not both flags', and writable places (see checkDest).
func figureDests(g *globalOptions, o *reportOptions, teachers []string) (nullPaths, matrixPaths []string, err error) {
	if o.plot != "" {
		nullPaths = figurePaths(o.plot, teachers)
	}
	if o.matrix != "" {
		matrixPaths = figurePaths(o.matrix, teachers)
	}
	// With several teachers the two flags' files are named per teacher,
	// and with teacher names such as "x" and "a-x" one flag's file can be
	// the other's: refuse before writing either.
	if p, ok := sharedPath(nullPaths, matrixPaths); ok {
		return nil, nil, usageError{fmt.Errorf("--plot and --plot-matrix would both write %q", p)}
	}
	for _, f := range []struct {
		flag  string
		paths []string
	}{{"--plot", nullPaths}, {"--plot-matrix", matrixPaths}} {
		for _, p := range f.paths {
			if err := notTheDB(g, f.flag, p); err != nil {
				return nil, nil, err
			}
			if err := checkDest(f.flag, p); err != nil {
				return nil, nil, err
			}
		}
	}
	return nullPaths, matrixPaths, nil
}

// figurePaths returns a figure path per teacher: plot itself for one
// teacher, else plot with "-NAME" before its extension, NAME the teacher's
// name as figureName makes it portable. Teachers whose NAMEs would still
// name one file on a case-insensitive or normalization-insensitive file
// system ("Acme" and "acme"; "caf\u00e9" and "cafe\u0301" on APFS) get
// the hash of their name too, and any left alike (a name chosen to look like
// another's hashed one) "-2", "-3", … after it, so no figure overwrites
// another.
func figurePaths(plot string, teachers []string) []string {
	if len(teachers) == 1 {
		return []string{plot}
	}
	ext := filepath.Ext(plot)
	base := strings.TrimSuffix(plot, ext)
	// A teacher name may be 1,024 bytes; a file name at most nameMax.
	room := nameMax - len(filepath.Base(base)) - len("-") - len(ext) - len("-99")
	names := make([]string, len(teachers))
	count := map[string]int{} // by fileKey
	for i, t := range teachers {
		names[i] = figureName(t, room, false)
		count[fileKey(names[i])]++
	}
	for i, t := range teachers {
		if count[fileKey(names[i])] > 1 {
			names[i] = figureName(t, room, true)
		}
	}
	used := map[string]bool{}
	out := make([]string, len(teachers))
	for i, name := range names {
		p := base + "-" + name + ext
		for n := 2; used[fileKey(p)]; n++ {
			p = base + "-" + name + "-" + strconv.Itoa(n) + ext
		}
		used[fileKey(p)] = true
		out[i] = p
	}
	return out
}

// fileKey returns a file name as a file system that ignores case and the
// form of accents compares it (APFS, HFS+, NTFS for case): decomposed
// (NFD), each character folded to the least of its case variants
// ("Σ", "σ" and "ς" alike; strings.ToLower kept "ς" apart, which NTFS
// does not).
func fileKey(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, norm.NFD.String(s))
}

// sharedPath returns a path of a that b also has (compared as a
// case- and normalization-insensitive file system would), if any.
func sharedPath(a, b []string) (string, bool) {
	for _, p := range a {
		for _, q := range b {
			if fileKey(filepath.Clean(p)) == fileKey(filepath.Clean(q)) {
				return p, true
			}
		}
	}
	return "", false
}

// nameMax is the longest file name (path component) in bytes that common
// file systems take (ext4, XFS, APFS, NTFS in UTF-16 units).
const nameMax = 255

// figureName returns teacher's name as a figure's file name holds it, in
// at most room bytes: the name itself when it holds only ASCII letters and
// digits, '.', '_', '-', and letters, combining marks and digits of other
// scripts, else the name with each other character replaced by '_' and,
// after a '-', the first 8 hex digits of the SHA-256 of the name, which
// keep apart names that differ only in replaced characters ("x y", "x|y");
// the hash is added too when hash is set, and a name longer than room is
// cut at a character's start before it. Such a name is a valid file name
// on Linux, macOS and Windows, and a shell word needing no quotes (the
// characters it keeps are no shell's syntax, and "-" + the name follows
// the figure's own file name, so it never starts a word).
func figureName(teacher string, room int, hash bool) string {
	changed := false
	name := strings.Map(func(r rune) rune {
		if portableRune(r) {
			return r
		}
		changed = true
		return '_'
	}, teacher)
	if !changed && !hash && len(name) <= room {
		return name
	}
	const tag = len("-") + 8
	cut := max(0, min(len(name), room-tag))
	for cut > 0 && cut < len(name) && !utf8.RuneStart(name[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(teacher))
	return name[:cut] + "-" + hex.EncodeToString(sum[:4])
}

// portableRune reports whether figureName keeps r: an ASCII letter,
// digit, '.', '_' or '-', or a letter, combining mark or decimal digit of
// another script (Windows refuses only ASCII characters in file names,
// and no shell gives these a meaning).
func portableRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-'
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}
