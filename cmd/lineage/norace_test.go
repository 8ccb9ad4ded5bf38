//go:build !race

package main

// raceEnabled reports whether the tests were built with the race detector;
// see race_test.go.
const raceEnabled = false
