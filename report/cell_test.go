package report

import (
	"math"
	"testing"
)

func TestCellString(t *testing.T) {
	tests := []struct {
		c    Cell
		want string
	}{
		{Cell{}, ""},
		{Text("x"), "x"},
		{Int(-42), "-42"},
		{Float(3.14159, 2), "3.14"},
		{Float(-0.0001, 3), "0.000"},
		{Float(-0.001, 3), "-0.001"},
		{Fmt(-1e-9, 'e', 0), "-1e-09"},
		{Fmt(math.Copysign(0, -1), 'e', 1), "0.0e+00"},
		{Float(1.0/3, -1), "0.3333333333333333"},
		{Fmt(math.NaN(), 'g', 3), "NaN"},
		{Float(math.Inf(-1), 2), "-Inf"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.c, got, tt.want)
		}
	}
	if v, ok := Int(7).Number(); !ok || v != 7 {
		t.Errorf("Int(7).Number() = %v, %v", v, ok)
	}
	if _, ok := Text("7").Number(); ok {
		t.Errorf("Text(7).Number() reported a number")
	}
	defer func() {
		if r := recover(); r == nil {
			t.Errorf("Fmt with verb 'x' did not panic")
		}
	}()
	Fmt(1, 'x', 2)
}

func TestMeasured(t *testing.T) {
	if c := Measured(math.NaN(), 2); !c.IsEmpty() {
		t.Errorf("Measured(NaN) = %q, want an empty cell", c.String())
	}
	if got := Measured(1.234, 2).String(); got != "1.23" {
		t.Errorf("Measured(1.234, 2) = %q, want 1.23", got)
	}
}
