//go:build openblas

package remote

// predictTol is the relative difference a served answer may have from the
// test's own prediction of the same row (assertSame). OpenBLAS rounds a
// row differently with the batch's row count on some CPUs (its AVX-512
// sgemm kernels), and the softmax carries a logit's last-bit difference
// into its probabilities: 8.676264e-05 against 8.676279e-05 (1.7e-6
// apart, relatively) when the server predicted batches of 5 to 10 rows and
// the test one of 23. So this build allows 1e-5; the pure-Go build checks
// the round trip bit for bit.
const predictTol = 1e-5
