package dataset

// MixedScaleRatio is the ratio of a dataset's global range to its median
// feature's range (MedianRange) above which MixedScales reports mixed
// scales.
const MixedScaleRatio = 10

// MixedScales reports whether d's features lie on different scales: its
// global range (d.Range) exceeds MixedScaleRatio times the median range of
// the features that vary. Images (the digits' pixels all span 0–16, a
// ratio of 1) do not; tabular data of unscaled measurements do (the
// breast cancer data's areas reach 4,254 where its median feature spans
// 0.47, a ratio of 9,100). On such data the global range, as a radius or
// as bounds, puts inputs thousands of a small feature's standard
// deviations from any data: take each feature's own range instead
// (FeatureRanges).
func MixedScales(d *Dataset) bool {
	median := MedianRange(d)
	if median == 0 {
		return false
	}
	lo, hi := d.Range()
	return float64(hi)-float64(lo) > MixedScaleRatio*median
}

// FeatureRanges returns each feature's minimum and maximum over d's rows
// (zeros for a dataset of no rows).
func FeatureRanges(d *Dataset) (lo, hi []float32) {
	D := d.Dim()
	lo, hi = make([]float32, D), make([]float32, D)
	if d.Len() == 0 {
		return lo, hi
	}
	copy(lo, d.Row(0))
	copy(hi, d.Row(0))
	for i := 1; i < d.Len(); i++ {
		for j, v := range d.Row(i) {
			lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
		}
	}
	return lo, hi
}

// InputBounds returns per-feature lower and upper limits for inputs made
// up around d (noise drawn between them, perturbed rows clamped to them):
// d's global range (d.Range) for every feature, or, when MixedScales(d),
// each feature's own (FeatureRanges).
func InputBounds(d *Dataset) (lo, hi []float32) {
	if MixedScales(d) {
		return FeatureRanges(d)
	}
	l, h := d.Range()
	lo, hi = make([]float32, d.Dim()), make([]float32, d.Dim())
	for j := range lo {
		lo[j], hi[j] = l, h
	}
	return lo, hi
}
