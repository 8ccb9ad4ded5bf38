// Package probe generates probe suites: the inputs lineage asks a suspect
// model about. An owner builds a suite for a teacher, publishes its Hash
// before any dispute, and audits suspects on exactly those probes.
//
// The generators each produce a Batch of one Kind, deterministically from
// an explicit seed (math/rand/v2 PCG), and record their settings in a
// Generator:
//
//   - DataProbes: held-out dataset rows, stratified by class.
//   - NoiseProbes: uniform noise over the input range.
//   - BoundaryProbes: mixup segments between two inputs the teacher labels
//     differently, bisected until the teacher's top-2 margin p1−p2 is small
//     (black-box: only Predict is used).
//   - AdversarialProbes: FGSM/PGD on the teacher's own input gradients
//     (white-box: needs a *model.MLP), untargeted and/or targeted to the
//     runner-up class, kept when they flip or nearly flip the teacher.
//   - MistakeProbes: held-out rows the teacher misclassifies (the QuRD/AKH
//     baseline signal).
//   - ConferrableProbes: conferrable adversarial examples (Lukas et al.,
//     ICLR 2021): PGD on the gradients of the teacher and of control
//     models (needs *model.MLP controls) towards inputs the teacher's
//     students label like the teacher and independent models do not,
//     cross-fitted so each probe is scored on controls it was not
//     optimised against.
//
// Build mixes them into a candidate pool; Finalize concatenates batches into
// an immutable Suite with its CanonicalHash. Select then keeps the
// candidates that best separate the teacher's students (positive controls)
// from independent models (negative controls), in the spirit of
// "Conferrable adversarial examples" (Lukas et al., ICLR 2021), with
// per-kind quotas so the suite stays diverse. Subset, Validate, Encode and
// Decode complete the package.
package probe
