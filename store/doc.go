// Package store is lineage's persistent registry: a single bbolt file
// holding protected teachers' probe suites, the fingerprints of teachers,
// controls and suspects, enrolments, audit records and resumable remote
// answers.
//
// Layout (bucket → key → value):
//
//	meta         "format" → "lineage-store", "schema" → uint64 BE version
//	suites       suite hash → suite encoding (EncodeSuite: JSON + float32 LE X)
//	suite_names  suite name → suite hash
//	fingerprints ID → fingerprint.Encode bytes
//	enrolments   teacher name → Enrolment JSON
//	audits       audit ID → AuditRecord JSON
//	answers      job → nested bucket: uint64 BE batch index → raw bytes
//
// Every logical unit is written in one bbolt transaction (Store.Update), so
// a process killed at any point leaves either the whole unit or nothing.
// Puts are idempotent: putting a record equal in content to the stored one
// is a no-op, so a killed command can simply be rerun; putting a different
// record under an existing key fails with ErrExists unless replacing was
// asked for.
//
// Open refuses files that are not lineage stores (ErrNotStore) by checking
// the bbolt meta pages itself before handing the file to bbolt, returns
// ErrLocked instead of waiting forever when another process holds the
// file, and ErrSchema for stores written by a newer lineage. Read-only
// stores never modify the file. A store of an older schema, lacking
// buckets, is refused read-only (ErrCorrupt, naming the bucket); a writer
// reads the buckets as empty and adds them in its first committed
// transaction, so a command that fails leaves the file byte-identical.
// A file of an older schema version is marked SchemaVersion (2:
// fingerprints under fingerprint.MetaHashRule, which version-1 lineage
// would take for damaged: remote ones under hash rule 2 and, since rule 3,
// every new one) by the transaction that stores its first such
// fingerprint, and not before; its records are kept as they are.
// Fingerprints under fingerprint.HashRuleHeader came without a new
// version: lineage of version 2 refuses them naming their rule as one it
// does not know (see SchemaVersion).
package store
