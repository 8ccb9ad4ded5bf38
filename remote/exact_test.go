//go:build !openblas

package remote

// predictTol is the relative difference a served answer may have from the
// test's own prediction of the same row (assertSame): none in the pure-Go
// build, whose kernels give a row the same bits whatever batch it is
// predicted in, so the round trip must carry float32s exactly.
const predictTol = 0.0
