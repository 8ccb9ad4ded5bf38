package audit

// This file holds diffReports, which finds the first field where a stored
// report and its recomputation differ (see Case.Recheck).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// diffReports returns the first field, in JSON order, where stored and got
// differ (numbers beyond RecheckTolerance), or nil when none does. Both are
// compared as their JSON, which is what audits read back. The error is for
// a report that has no JSON (a number not finite where the report writes
// it as a number, as the discriminant's): Enroll could not have stored
// such a report, so records that give one are not what it measured.
func diffReports(stored, got measuredReport) (*RecheckError, error) {
	s, err := toNode(stored)
	if err != nil {
		return nil, fmt.Errorf("stored report: %w", err)
	}
	g, err := toNode(got)
	if err != nil {
		return nil, fmt.Errorf("recomputed report: %w", err)
	}
	return diffNodes("", s, g), nil
}

// node is a JSON value that keeps its object's keys in order.
type node struct {
	keys []string         // an object's keys, in order
	obj  map[string]*node // nil unless an object
	arr  []*node          // nil unless an array (or an empty one, non-nil)
	val  any              // a scalar: nil, bool, string or json.Number
}

func toNode(v any) (*node, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return readNode(dec)
}

func readNode(dec *json.Decoder) (*node, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t {
	case json.Delim('{'):
		n := &node{obj: map[string]*node{}}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := readNode(dec)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.(string))
			n.obj[k.(string)] = v
		}
		_, err = dec.Token()
		return n, err
	case json.Delim('['):
		n := &node{arr: []*node{}}
		for dec.More() {
			v, err := readNode(dec)
			if err != nil {
				return nil, err
			}
			n.arr = append(n.arr, v)
		}
		_, err = dec.Token()
		return n, err
	}
	return &node{val: t}, nil
}

// diffNodes returns the first difference between s (stored) and g
// (recomputed) at path, nil for none.
func diffNodes(path string, s, g *node) *RecheckError {
	bad := func() *RecheckError { return &RecheckError{Field: path, Stored: s.String(), Recomputed: g.String()} }
	switch {
	case g.obj != nil:
		if s.obj == nil {
			return bad()
		}
		for _, k := range g.keys {
			sv, ok := s.obj[k]
			if !ok {
				sv = &node{}
			}
			if d := diffNodes(join(path, k), sv, g.obj[k]); d != nil {
				return d
			}
		}
		for _, k := range s.keys {
			if _, ok := g.obj[k]; !ok {
				return diffNodes(join(path, k), s.obj[k], &node{})
			}
		}
		return nil
	case g.arr != nil:
		if s.arr == nil || len(s.arr) != len(g.arr) {
			return bad()
		}
		for i := range g.arr {
			if d := diffNodes(fmt.Sprintf("%s[%d]", path, i), s.arr[i], g.arr[i]); d != nil {
				return d
			}
		}
		return nil
	case s.obj != nil || s.arr != nil:
		return bad()
	}
	sn, sok := s.val.(json.Number)
	gn, gok := g.val.(json.Number)
	if sok && gok {
		if !closeEnough(sn, gn) {
			return bad()
		}
		return nil
	}
	if s.val != g.val {
		return bad()
	}
	return nil
}

// closeEnough reports whether two JSON numbers agree within
// RecheckTolerance.
func closeEnough(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, errX := strconv.ParseFloat(string(a), 64)
	y, errY := strconv.ParseFloat(string(b), 64)
	if errX != nil || errY != nil {
		return false
	}
	d := math.Abs(x - y)
	return d <= RecheckTolerance*max(math.Abs(x), math.Abs(y)) || d <= RecheckTolerance/1000
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// String is n as a short phrase for a message: a scalar as JSON (null
// for none), an array or object by its size.
func (n *node) String() string {
	switch {
	case n.obj != nil:
		return fmt.Sprintf("an object of %d fields", len(n.keys))
	case n.arr != nil:
		return fmt.Sprintf("a list of %d", len(n.arr))
	case n.val == nil:
		return "null"
	}
	b, _ := json.Marshal(n.val)
	return string(b)
}
