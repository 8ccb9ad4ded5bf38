// Package registry summarises what a lineage store holds about its
// enrolled teachers: for each teacher, its suite and calibration
// ([Teacher]), the similarity matrix of every model fingerprinted on its
// suite ([Matrix]: the teacher, its references, the teachers and controls
// of other enrolments sharing the suite under their roles there, and every
// audited suspect once), and the verdict of every suspect from its latest
// audit ([Verdict]). [Summarize] builds a [Summary] inside one read
// transaction; [Summary.Tables] lays it out for package report, and
// [Teacher.NullFigure] and [Matrix.Figure] give its figures.
//
// The package reads only: it writes nothing to the store and no file.
// Which teachers to summarise, and where figures go, is the caller's
// choice (lineage report's flags).
package registry
