package distill

import (
	"bytes"
	"math"
	"testing"
)

// quadratic: f(θ) = ½ Σ a_i (θ_i − c_i)², minimum at c.
var (
	qa = []float32{1, 4, 0.5, 2}
	qc = []float32{3, -1, 2, 0.5}
)

func quadGrad(g, theta []float32) {
	for i := range theta {
		g[i] = qa[i] * (theta[i] - qc[i])
	}
}

func TestOptimizersQuadratic(t *testing.T) {
	tests := []struct {
		name  string
		cfg   OptimizerConfig
		lr    float64
		steps int
		tol   float64
	}{
		{"sgd", OptimizerConfig{Kind: SGD}, 0.2, 200, 1e-4},
		{"momentum", OptimizerConfig{Kind: SGD, Momentum: 0.9}, 0.05, 400, 1e-3},
		{"nesterov", OptimizerConfig{Kind: SGD, Momentum: 0.9, Nesterov: true}, 0.05, 400, 1e-3},
		{"adam", OptimizerConfig{Kind: Adam}, 0.05, 2000, 1e-2},
		{"adamw", OptimizerConfig{Kind: AdamW}, 0.05, 2000, 1e-2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			theta := make([]float32, 4)
			g := make([]float32, 4)
			o := NewOptimizer(tt.cfg, 4)
			for s := 0; s < tt.steps; s++ {
				quadGrad(g, theta)
				o.Step(theta, g, tt.lr)
			}
			for i := range theta {
				if math.Abs(float64(theta[i]-qc[i])) > tt.tol {
					t.Errorf("θ[%d] = %.5f, want %.5f ± %g", i, theta[i], qc[i], tt.tol)
				}
			}
		})
	}
}

// TestOptimizerFirstSteps checks single updates against hand-computed values.
func TestOptimizerFirstSteps(t *testing.T) {
	tests := []struct {
		name string
		cfg  OptimizerConfig
		want float32
	}{
		// θ=1, g=2, lr=0.1.
		{"sgd", OptimizerConfig{Kind: SGD}, 1 - 0.1*2},
		{"sgd-l2", OptimizerConfig{Kind: SGD, WeightDecay: 0.5}, 1 - 0.1*(2+0.5)},
		{"nesterov", OptimizerConfig{Kind: SGD, Momentum: 0.9, Nesterov: true}, 1 - 0.1*(2+0.9*2)},
		{"adam", OptimizerConfig{Kind: Adam}, 1 - 0.1}, // first Adam step moves by lr·sign(g)
		{"adamw", OptimizerConfig{Kind: AdamW, WeightDecay: 0.5}, 1*(1-0.05) - 0.1},
		{"adam-l2", OptimizerConfig{Kind: Adam, WeightDecay: 0.5}, 1 - 0.1}, // g' = 2.5, still sign step
	}
	for _, tt := range tests {
		theta := []float32{1}
		NewOptimizer(tt.cfg, 1).Step(theta, []float32{2}, 0.1)
		if math.Abs(float64(theta[0]-tt.want)) > 1e-6 {
			t.Errorf("%s: θ = %.7f, want %.7f", tt.name, theta[0], tt.want)
		}
	}
}

func TestOptimizerConfigValidate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		cfg  OptimizerConfig
		want string
	}{
		{OptimizerConfig{Kind: SGD, Momentum: nan}, "optimizer: momentum NaN must lie in [0,1)"},
		{OptimizerConfig{Kind: SGD, Momentum: 1}, "optimizer: momentum 1 must lie in [0,1)"},
		{OptimizerConfig{Kind: Adam, Beta1: nan}, "optimizer: betas NaN, 0.999 must lie in [0,1)"},
		{OptimizerConfig{Kind: Adam, WeightDecay: inf}, "optimizer: weight decay +Inf must be a finite number ≥ 0"},
		{OptimizerConfig{Kind: Adam, WeightDecay: nan}, "optimizer: weight decay NaN must be a finite number ≥ 0"},
		{OptimizerConfig{Kind: Adam, Eps: nan}, "optimizer: eps NaN must be a finite number > 0"},
		{OptimizerConfig{Kind: SGD, Momentum: 0.9}, ""},
	}
	for _, tt := range tests {
		got := ""
		if err := tt.cfg.validate(); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%+v: got %q, want %q", tt.cfg, got, tt.want)
		}
	}
}

func TestClipGlobalNorm(t *testing.T) {
	g := []float32{3, 4}
	if n := ClipGlobalNorm(g, 1); n != 5 || math.Abs(float64(g[0])-0.6) > 1e-7 || math.Abs(float64(g[1])-0.8) > 1e-7 {
		t.Errorf("clip: norm %v, g %v; want 5, [0.6 0.8]", n, g)
	}
	g = []float32{3, 4}
	if ClipGlobalNorm(g, 10); g[0] != 3 || g[1] != 4 {
		t.Errorf("clip below bound changed g to %v", g)
	}
}

func TestOptimizerStateRoundTrip(t *testing.T) {
	for _, cfg := range []OptimizerConfig{{Kind: SGD}, {Kind: SGD, Momentum: 0.8}, {Kind: Adam}, {Kind: AdamW, WeightDecay: 0.1}} {
		a := NewOptimizer(cfg, 4)
		theta := make([]float32, 4)
		g := make([]float32, 4)
		for s := 0; s < 3; s++ {
			quadGrad(g, theta)
			a.Step(theta, g, 0.01)
		}
		blob, _ := a.MarshalBinary()
		var b Optimizer
		if err := b.UnmarshalBinary(blob); err != nil {
			t.Fatalf("%s: %v", cfg.Kind, err)
		}
		t2 := append([]float32(nil), theta...)
		quadGrad(g, theta)
		a.Step(theta, g, 0.01)
		b.Step(t2, g, 0.01)
		if !slicesEqual(theta, t2) || a.Steps() != b.Steps() {
			t.Errorf("%s: restored optimizer diverges: %v vs %v", cfg.Kind, theta, t2)
		}
	}
}

func slicesEqual(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func FuzzOptimizerState(f *testing.F) {
	for _, cfg := range []OptimizerConfig{{Kind: SGD, Momentum: 0.5}, {Kind: Adam}} {
		o := NewOptimizer(cfg, 3)
		o.Step([]float32{1, 2, 3}, []float32{1, -1, 0.5}, 0.1)
		b, _ := o.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o Optimizer
		if err := o.UnmarshalBinary(data); err != nil {
			return
		}
		again, _ := o.MarshalBinary()
		var o2 Optimizer
		if err := o2.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		again2, _ := o2.MarshalBinary()
		if !bytes.Equal(again, again2) {
			t.Fatal("optimizer state does not round-trip")
		}
	})
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		s    Schedule
		step int
		want float64
	}{
		{Schedule{Kind: Constant, Base: 0.1}, 50, 0.1},
		{Schedule{Kind: Constant, Base: 0.1, Warmup: 10}, 4, 0.05},
		{Schedule{Kind: Step, Base: 1, StepSize: 10, Gamma: 0.5}, 25, 0.25},
		// Steps count from the end of the warm-up.
		{Schedule{Kind: Step, Base: 1, StepSize: 10, Gamma: 0.5, Warmup: 5}, 14, 1},
		{Schedule{Kind: Step, Base: 1, StepSize: 10, Gamma: 0.5, Warmup: 5}, 15, 0.5},
		{Schedule{Kind: Cosine, Base: 1, Total: 100}, 0, 1},
		{Schedule{Kind: Cosine, Base: 1, Total: 100}, 50, 0.5},
		{Schedule{Kind: Cosine, Base: 1, Min: 0.1, Total: 100}, 100, 0.1},
		{Schedule{Kind: Cosine, Base: 1, Total: 110, Warmup: 10}, 60, 0.5},
		{Schedule{Kind: Cosine, Base: 1, Total: 110, Warmup: 10}, 9, 1},
	}
	for _, tt := range tests {
		if got := tt.s.LR(tt.step); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%+v.LR(%d) = %g, want %g", tt.s, tt.step, got, tt.want)
		}
	}
	if _, err := ParseSchedule("step:2"); err == nil {
		t.Error(`ParseSchedule("step:2"): no error`)
	}
}
