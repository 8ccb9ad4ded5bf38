// Package audit enrols protected teachers and audits suspects against them.
//
// Enroll trains the teacher's positive controls (students made with varied
// recipes) and negative controls (independent models, including students
// of another, independently trained teacher, and replicas of the teacher:
// its own recipe with other seeds), splits them into a selection half and
// a calibration half, crafts conferrable adversarial probes against the
// selection half (inputs the teacher's students follow and independent
// models do not), chooses a probe suite on which the teacher departs from
// the consensus of the selection half's independent models (reserving a
// quarter of it for conferrable probes, a quarter for unselected mixup
// probes, 10 % for held-out data and 30 % for watermark probes: near-ties
// on mixup segments of the training data, chosen by the teacher alone),
// fits a linear discriminant of similarity features on the selection half,
// and measures the true- and false-positive rates on the calibration half.
//
// One feature is the replica contrast (ReplicaFamily): how much more the
// order of a suspect's classes follows the teacher's than it follows the
// selection half's replicas of the teacher. It cancels what any model of
// a given architecture shares with the teacher and keeps what a student
// inherits from this teacher in particular. Another is the replica
// residual: on the same probes, the rank correlation of the suspect's and
// the teacher's log-probabilities once the replicas' mean is taken out,
// which reads the amounts the order leaves out.
//
// Audit scores a suspect's fingerprint with that discriminant, compares the
// score with the calibration negatives (and references) to get a p-value,
// tests the replica residual alone beside it the same way and combines the
// two by a weighted Bonferroni rule (ResidualWeight) into the lineage
// test's p-value, combines that, when the enrolment holds a watermark key,
// with the exact
// decoy-key p-value of the label watermark test (package watermark) by a
// weighted Bonferroni rule (WatermarkWeight), corrects p-values across
// teachers with Holm's method, and returns a
// verdict: DERIVED, NOT_DERIVED or INCONCLUSIVE with the reason.
//
// Recipes (Recipe, Make, ControlRecipes) describe how control and zoo
// models are made; Case is an enrolment as stored.
package audit
