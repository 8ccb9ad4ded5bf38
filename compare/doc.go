// Package compare holds the statistics that decide whether a suspect model
// behaves like a protected teacher: divergence kernels, per-suite
// statistics, calibrated p-values against a null of independent models,
// multiple-testing corrections and calibration measurements. Everything is
// a pure function; there is no I/O.
//
// # From outputs to similarities
//
// Compute takes the teacher's and the suspect's probability rows on the
// same probe suite and measures top-1 agreement, mean Jensen–Shannon
// divergence, JS after fitting a temperature to the suspect (a copy may
// serve sharpened or flattened probabilities), and agreement on the probes
// the teacher gets wrong (shared mistakes are the strongest published
// single signal), over all probes and per probe kind. Similarity turns each
// into a score where bigger means more similar, on a scale where the spread
// of independent models is roughly Gaussian (logit of agreement, −log JS).
//
// # What the p-value means
//
// Test compares the suspect's similarities with those of null models:
// models known to be independent of the teacher (negative controls trained
// by lineage, references supplied by the user), measured on the same suite.
// The p-value is the probability that an independent model like those would
// look at least this similar to the teacher. A small p-value says "this
// suspect is more similar than independent models are"; it is evidence of
// copying only to the extent that the null models represent the
// independent models a suspect could honestly be.
//
// The false-positive rate is a different number: the fraction of truly
// independent models that get flagged at a threshold α. A valid p-value
// keeps it at most α. Calibrate measures it directly (leave-one-out over
// the negative controls) together with the true-positive rate on
// distilled positive controls, and reports an upper confidence bound,
// because with twenty negatives "0 false positives" still allows a true
// rate of about 14 %.
//
// # Why these choices
//
// Each statistic's p-value comes from a Student-t predictive distribution
// fitted to the null similarities, so it can go below 1/(n+1) — a clone
// twelve standard deviations out gets p ≈ 1e-5 from twenty symmetric null
// models, where a rank test could say no more than 1/21. Because real
// agreement statistics are right-skewed, which makes a plain Gaussian fit
// overconfident, the default predictive first reduces upper-tail skew and
// uses fewer degrees of freedom (PredictiveRobust); the package's tests
// simulate skewed nulls and check that the rejection rate stays at or
// below α.
//
// The statistics of one suspect are strongly correlated (a model that
// agrees more also diverges less), so they are combined with Bonferroni,
// m·min p, which is valid under any dependence. Across the teachers one
// suspect is audited against, Holm controls the chance of any false
// accusation; across many suspects screened against a registry, BH
// controls the expected fraction of false leads.
//
// # What it cannot tell
//
// A small p-value does not say how the suspect was made (distillation,
// fine-tuning, stolen weights, or training on the teacher's own data) nor
// prove intent; a large one does not prove independence — a copy trained
// to behave differently on this suite, or one the probes cannot separate
// from independent models, will pass. The p-value is only as good as the
// null: models trained on the same data with the same recipe as the
// teacher are the hardest honest look-alikes, and must be among the null
// models for the verdict to be fair to them. Degenerate suspects (constant
// or identical outputs) are flagged by Compute so the caller can decline a
// verdict, and label-only suspects carry only the agreement statistics'
// information.
package compare
