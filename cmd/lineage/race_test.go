//go:build race

package main

// raceEnabled reports whether the tests were built with the race detector
// (go test -race), which makes training several times slower. A test may
// skip itself under -race only if what it checks is no concurrency and it
// runs in full in CI's other two test stages (pure Go and -tags openblas).
const raceEnabled = true
