// Package report renders lineage results for people and for programs: result
// tables ([Table]) and single-result summaries ([KV]) in four text formats
// (aligned ASCII table, GitHub markdown, CSV and JSON, see [Format]), figures
// of audit statistics as PNG or SVG ([NullFigure], [Matrix], [WriteFigure]),
// and a terminal progress bar ([Progress]) that is a no-op when disabled.
//
// The package only presents: it computes no statistics and reads no flags or
// environment. Text output is deterministic byte for byte, so it is tested
// against golden files (testdata/*.golden, regenerated with
// `go test ./report -update`).
//
// Numbers are carried as numbers ([Float], [Int], [Fmt]): the table and
// markdown formats show them with the cell's precision and right-aligned,
// while CSV and JSON write them in full precision so they re-parse to the
// same float64. In JSON, NaN and ±Inf become null.
package report
