package compare

import (
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// Temperature search range and tolerance used by FitTemperature.
const (
	MinTemperature = 1.0 / 16 // smallest temperature FitTemperature considers
	MaxTemperature = 16.0     // largest temperature FitTemperature considers
	logTTolerance  = 1e-4     // golden-section stops when the log T bracket is this narrow
)

// FitTemperature returns the temperature T in [MinTemperature,
// MaxTemperature] that minimises the mean Jensen–Shannon divergence between
// the teacher's rows and the suspect's rows rescaled to T (see Rescale),
//
//	T* = argmin_T (1/n) Σ_r JS(teacher_r, Rescale(suspect_r, T)),
//
// and that minimum. It undoes a suspect that serves sharpened or flattened
// probabilities (a distilled student often is one). The search is
// deterministic: the objective is evaluated on the grid T = 2^k, k = −4…4,
// then golden-section search over log T refines the bracket around the best
// grid point to a width of 1e-4 in log T. T = 1 is kept whenever no other
// temperature is strictly better, so label-only suspects (which rescaling
// cannot change) get T = 1, and the returned divergence is never larger than
// the mean JS at T = 1.
//
// Both matrices must have the same shape. Rows with a negative, NaN or
// infinite entry, or that sum to zero, make the result (1, NaN); an empty
// matrix gives (1, 0). It panics if the shapes differ.
func FitTemperature(teacher, suspect blas32.General) (T, js float64) {
	if teacher.Rows != suspect.Rows || teacher.Cols != suspect.Cols {
		panic("compare: FitTemperature shape mismatch")
	}
	if teacher.Rows == 0 || teacher.Cols == 0 {
		return 1, 0
	}
	f, ok := newTempObjective(teacher, suspect)
	if !ok {
		return 1, math.NaN()
	}
	return f.fit()
}

// tempObjective evaluates the mean JS after rescaling for one pair of
// matrices. logS holds log of the normalised suspect (−Inf for zeros), pt
// the normalised teacher; both float64, row-major with stride cols.
type tempObjective struct {
	rows, cols int
	logS, pt   []float64
	buf        []float64
	rowIdx     []int // rows to average over; nil means all
}

func newTempObjective(teacher, suspect blas32.General) (*tempObjective, bool) {
	r, c := teacher.Rows, teacher.Cols
	f := &tempObjective{rows: r, cols: c, logS: make([]float64, 2*r*c+c)}
	f.pt = f.logS[r*c : 2*r*c]
	f.buf = f.logS[2*r*c:]
	f.logS = f.logS[:r*c]
	for i := 0; i < r; i++ {
		trow := teacher.Data[i*teacher.Stride : i*teacher.Stride+c]
		srow := suspect.Data[i*suspect.Stride : i*suspect.Stride+c]
		st, ok1 := rowSum(trow)
		ss, ok2 := rowSum(srow)
		if !ok1 || !ok2 {
			return nil, false
		}
		for j := 0; j < c; j++ {
			f.pt[i*c+j] = float64(trow[j]) / st
			f.logS[i*c+j] = math.Log(float64(srow[j]) / ss)
		}
	}
	return f, true
}

// eval returns the mean JS at temperature exp(logT) over f.rowIdx (or all rows).
func (f *tempObjective) eval(logT float64) float64 {
	inv := math.Exp(-logT)
	var total float64
	n := f.rows
	if f.rowIdx != nil {
		n = len(f.rowIdx)
		for _, i := range f.rowIdx {
			total += f.rowJS(i, inv)
		}
	} else {
		for i := 0; i < f.rows; i++ {
			total += f.rowJS(i, inv)
		}
	}
	if n == 0 {
		return 0
	}
	return total / float64(n)
}

// rowJS is JSDivergence of row i of the teacher and the suspect row
// rescaled by 1/T = inv, in float64.
func (f *tempObjective) rowJS(i int, inv float64) float64 {
	c := f.cols
	ls := f.logS[i*c : (i+1)*c]
	pt := f.pt[i*c : (i+1)*c]
	q := f.buf
	mx := math.Inf(-1)
	for _, v := range ls {
		mx = math.Max(mx, v*inv)
	}
	var s float64
	for j, v := range ls {
		q[j] = math.Exp(v*inv - mx) // exp(−Inf) = 0 for zero entries
		s += q[j]
	}
	var js float64
	for j := range q {
		a, b := pt[j], q[j]/s
		m := 0.5 * (a + b)
		if a > 0 {
			js += a * math.Log2(a/m)
		}
		if b > 0 {
			js += b * math.Log2(b/m)
		}
	}
	return math.Min(1, math.Max(0, 0.5*js))
}

// fit runs the grid + golden-section search described at FitTemperature.
func (f *tempObjective) fit() (float64, float64) {
	const gridN = 9 // T = 2^-4 … 2^4
	lo, hi := math.Log(MinTemperature), math.Log(MaxTemperature)
	step := (hi - lo) / (gridN - 1)
	bestK, bestV := 0, math.Inf(1)
	at1 := 0.0
	for k := 0; k < gridN; k++ {
		v := f.eval(lo + float64(k)*step)
		if k == gridN/2 {
			at1 = v
		}
		if v < bestV {
			bestK, bestV = k, v
		}
	}
	a := lo + float64(max(bestK-1, 0))*step
	b := lo + float64(min(bestK+1, gridN-1))*step
	const invPhi = 0.6180339887498949 // (√5 − 1)/2
	x1 := b - invPhi*(b-a)
	x2 := a + invPhi*(b-a)
	f1, f2 := f.eval(x1), f.eval(x2)
	for b-a > logTTolerance {
		if f1 <= f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - invPhi*(b-a)
			f1 = f.eval(x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + invPhi*(b-a)
			f2 = f.eval(x2)
		}
	}
	bestLogT := lo + float64(bestK)*step
	if f1 < bestV {
		bestLogT, bestV = x1, f1
	}
	if f2 < bestV {
		bestLogT, bestV = x2, f2
	}
	if !(bestV < at1) {
		return 1, at1
	}
	return math.Exp(bestLogT), bestV
}
