package dataset

import "math"

// StdFloor is the relative floor below which Standardizer treats a feature
// as constant: a feature whose standard deviation is below StdFloor times
// the dataset's global range (hi-lo of Range), or exactly zero, gets std 1.
const StdFloor = 1e-3

// Standardizer returns the per-feature mean and population standard
// deviation of d.X (accumulated in float64), for normalising inputs as
// (x-mean)/std. Near-constant features (std < StdFloor·(hi-lo) or std == 0,
// for example the always-blank corner pixels of digits) get std 1 so they
// map to x-mean instead of blowing up. An empty dataset gives mean 0, std 1.
func Standardizer(d *Dataset) (mean, std []float32) {
	n, D := d.Len(), d.Dim()
	mean = make([]float32, D)
	std = make([]float32, D)
	if n == 0 {
		for j := range std {
			std[j] = 1
		}
		return mean, std
	}
	sum := make([]float64, D)
	for i := 0; i < n; i++ {
		for j, v := range d.Row(i) {
			sum[j] += float64(v)
		}
	}
	for j := range sum {
		sum[j] /= float64(n)
	}
	ss := make([]float64, D)
	for i := 0; i < n; i++ {
		for j, v := range d.Row(i) {
			dv := float64(v) - sum[j]
			ss[j] += dv * dv
		}
	}
	lo, hi := d.Range()
	floor := StdFloor * (float64(hi) - float64(lo))
	for j := range ss {
		s := math.Sqrt(ss[j] / float64(n))
		if s == 0 || s < floor {
			s = 1
		}
		mean[j] = float32(sum[j])
		std[j] = float32(s)
	}
	return mean, std
}
