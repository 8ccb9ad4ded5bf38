package jsonnum

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
)

// MarshalIndent marshals v as json.MarshalIndent(v, "", "  ") does, but
// writes NaN and ±Inf float fields (float64 or float32, at any depth:
// structs, pointers, interfaces, slices, arrays, maps) as null, where
// encoding/json refuses them. v is not modified. Read back into Float
// fields, those nulls are NaN again; every finite number, the largest
// included, is written as encoding/json writes it.
//
// How: when v holds a non-finite float, it is marshalled twice from
// copies with every such float set to the type's most negative finite
// value, then to its largest; the two texts differ exactly in those
// numbers, which become null.
func MarshalIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	var uve *json.UnsupportedValueError
	if err == nil || !errors.As(err, &uve) {
		return b, err
	}
	var texts [2][]byte
	for i, sign := range []float64{-1, 1} {
		c := reflect.New(reflect.TypeOf(v)).Elem()
		c.Set(scrub(reflect.ValueOf(v), sign))
		if texts[i], err = json.MarshalIndent(c.Interface(), "", "  "); err != nil {
			return nil, err
		}
	}
	return nullDiffering(texts[0], texts[1])
}

// nullDiffering merges two JSON texts that differ only in some number
// tokens: the numbers that differ become null. Strings are compared
// whole, so a string that spells a number is never touched.
func nullDiffering(a, b []byte) ([]byte, error) {
	out := make([]byte, 0, len(a))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := a[i]; {
		case c == '"':
			n := stringEnd(a, i)
			if !bytes.Equal(a[i:n], b[j:min(j+n-i, len(b))]) {
				return nil, errors.New("jsonnum: marshalled texts differ outside numbers")
			}
			out = append(out, a[i:n]...)
			j += n - i
			i = n
		case c == '-' || c >= '0' && c <= '9':
			ni, nj := numberEnd(a, i), numberEnd(b, j)
			if bytes.Equal(a[i:ni], b[j:nj]) {
				out = append(out, a[i:ni]...)
			} else {
				out = append(out, "null"...)
			}
			i, j = ni, nj
		default:
			if b[j] != c {
				return nil, errors.New("jsonnum: marshalled texts differ outside numbers")
			}
			out = append(out, c)
			i++
			j++
		}
	}
	if i != len(a) || j != len(b) {
		return nil, errors.New("jsonnum: marshalled texts differ outside numbers")
	}
	return out, nil
}

// stringEnd returns the index just past the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for k := i + 1; k < len(b); k++ {
		switch b[k] {
		case '\\':
			k++
		case '"':
			return k + 1
		}
	}
	return len(b)
}

// numberEnd returns the index just past the JSON number starting at b[i].
func numberEnd(b []byte, i int) int {
	k := i
	for k < len(b) && isNumberByte(b[k]) {
		k++
	}
	return k
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// scrub returns a deep copy of v with every non-finite float replaced by
// the largest finite value of its type times sign (−1 or 1).
func scrub(v reflect.Value, sign float64) reflect.Value {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			n := reflect.New(v.Type()).Elem()
			if v.Kind() == reflect.Float32 {
				n.SetFloat(sign * math.MaxFloat32)
			} else {
				n.SetFloat(sign * math.MaxFloat64)
			}
			return n
		}
		return v
	case reflect.Array:
		n := reflect.New(v.Type()).Elem()
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(scrub(v.Index(i), sign))
		}
		return n
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(scrub(v.Elem(), sign))
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(scrub(v.Elem(), sign))
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		n.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if n.Field(i).CanSet() {
				n.Field(i).Set(scrub(v.Field(i), sign))
			}
		}
		return n
	case reflect.Slice:
		if v.IsNil() || v.Type().Elem().Kind() == reflect.Uint8 {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			n.Index(i).Set(scrub(v.Index(i), sign))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			n.SetMapIndex(it.Key(), scrub(it.Value(), sign))
		}
		return n
	}
	return v
}
