package model

import (
	"context"
	"slices"
	"testing"
)

func TestInLabelOrder(t *testing.T) {
	m := NewMLP([]int{3, 5, 4}, ActTanh, []string{"d", "a", "c", "b"}, testRNG(7))
	x := randMatrix(testRNG(8), 6, 3, 1)
	own, err := m.Predict(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want []string
		ok   bool
	}{
		{"same order", []string{"d", "a", "c", "b"}, true},
		{"sorted", []string{"a", "b", "c", "d"}, true},
		{"reversed", []string{"b", "c", "a", "d"}, true},
		{"missing label", []string{"a", "b", "c", "e"}, false},
		{"fewer labels", []string{"a", "b", "c"}, false},
		{"label twice", []string{"a", "a", "c", "d"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := InLabelOrder(m, tt.want)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if slices.Equal(tt.want, m.Labels) && got != Model(m) {
				t.Errorf("same order: got a wrapper, want the model itself")
			}
			if l := got.Info().Labels; !slices.Equal(l, tt.want) {
				t.Errorf("labels %v, want %v", l, tt.want)
			}
			p, err := got.Predict(context.Background(), x)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < x.Rows; i++ {
				for j, l := range tt.want {
					k := slices.Index(m.Labels, l)
					if g, w := p.Data[i*p.Stride+j], own.Data[i*own.Stride+k]; g != w {
						t.Errorf("row %d, label %s: got %v, want %v", i, l, g, w)
					}
				}
			}
		})
	}
}
