// Package fingerprint records a model's output distributions on a probe
// suite and encodes them compactly.
//
// Take queries a model on every probe of a probe.Suite in batches, checks
// each answer (shape, finite, non-negative, rows summing to 1 within
// RowSumTolerance) and returns a *Fingerprint whose Hash is the hex SHA-256
// of its canonical content (see [Fingerprint.ComputeHash]): the suite hash,
// the model hash, TopK, the float32 bits of P and the Meta keys that bear
// on what the outputs mean (the label map, defaulted model metadata, and
// under MetaHashRule what a remote model's fingerprint records of how it
// was asked and answered), and under HashRuleHeader, which Take records,
// the model header (name, kind, input size, labels, parameter count,
// source). Identity fields such as ID, Queries and Elapsed, and Meta's
// counts and messages, are not part of the hash.
//
// A Fingerprint's JSON form (what `lineage db show` prints) holds its
// fields but P, with Elapsed in seconds under "elapsed_s"; JSON written
// by older versions, with nanoseconds under "elapsed", still reads.
//
// Encode and Decode use a binary format: the 4-byte magic "LNFP", a uint16
// LE format version (1), a form byte (dense, or sparse with uint16 or
// uint32 indices), a reserved byte, a uint32 LE metadata length, the JSON
// metadata (the fields but P, Elapsed in integer nanoseconds under
// "elapsed", and the shape as "rows" and "cols"), then the probabilities. The dense form stores Rows×Cols float32
// LE values. The sparse form, used when TopK > 0 and every row really has at
// most TopK distinct kept entries, stores per row TopK (index, float32 value)
// pairs in increasing index order followed by the float32 fill value shared
// by every other entry of the row (the row's tail mass divided by the number
// of other entries), so decoding reproduces P bit for bit.
package fingerprint
