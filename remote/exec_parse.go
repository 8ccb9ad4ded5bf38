package remote

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/serve"
)

// parseProbabilities parses the "probabilities" of an exec answer, a JSON
// array of n rows of k numbers each, into dst (n×k, row-major). The
// numbers of rows and of values in every row are checked before anything
// is written, and a row is parsed into its own k slots only, so an answer
// of another shape never writes past its place in dst (nor past dst).
func parseProbabilities(dst []float32, data []byte, n, k int) error {
	rows, count, err := splitRows(data, n)
	if err != nil {
		return err
	}
	if count != n {
		unit := "rows"
		if count == 1 {
			unit = "row"
		}
		return fmt.Errorf("answer has %d %s for a batch of %d", count, unit, n)
	}
	for i, row := range rows {
		if c := countValues(row); c != k {
			return fmt.Errorf("answer row %d has %d values for %d labels", i, c, k)
		}
	}
	for i, row := range rows {
		// Capacity k: even a miscounted row could not write past its slots.
		if _, err := serve.ParseFloats(dst[i*k:i*k:(i+1)*k], row); err != nil {
			if ve := (*serve.ValueError)(nil); errors.As(err, &ve) {
				return fmt.Errorf("answer row %d, value %d: %w", i, ve.Index, ve.Err)
			}
			return fmt.Errorf("answer row %d: %w", i, err)
		}
	}
	return nil
}

// splitRows splits data, a JSON array of arrays of numbers, into its rows
// (each with its brackets): the first keep rows, and the count of all.
func splitRows(data []byte, keep int) (rows [][]byte, count int, err error) {
	i := skipSpace(data, 0)
	if i == len(data) {
		return nil, 0, errors.New("answer has no probabilities")
	}
	if data[i] != '[' {
		return nil, 0, fmt.Errorf("probabilities are not an array of rows (%q at offset %d)", data[i], i)
	}
	if i = skipSpace(data, i+1); i < len(data) && data[i] == ']' {
		i++ // no rows
	} else {
		for {
			if i == len(data) || data[i] != '[' {
				return nil, 0, fmt.Errorf("answer row %d is not an array of numbers", count)
			}
			end := bytes.IndexByte(data[i:], ']')
			if end < 0 {
				return nil, 0, fmt.Errorf("answer row %d is not terminated", count)
			}
			row := data[i : i+end+1]
			if bytes.IndexByte(row[1:], '[') >= 0 {
				return nil, 0, fmt.Errorf("answer row %d is not an array of numbers", count)
			}
			if count < keep {
				rows = append(rows, row)
			}
			count++
			i = skipSpace(data, i+end+1)
			if i < len(data) && data[i] == ',' {
				i = skipSpace(data, i+1)
				continue
			}
			if i < len(data) && data[i] == ']' {
				i++
				break
			}
			return nil, 0, fmt.Errorf("probabilities: want ',' or ']' after row %d at offset %d", count-1, i)
		}
	}
	if i = skipSpace(data, i); i != len(data) {
		return nil, 0, fmt.Errorf("probabilities: trailing data at offset %d", i)
	}
	return rows, count, nil
}

// countValues counts the values of row, a JSON array of numbers (not
// nested): its commas plus one, or none for an empty array.
func countValues(row []byte) int {
	inner := row[1 : len(row)-1]
	if skipSpace(inner, 0) == len(inner) {
		return 0
	}
	return bytes.Count(inner, []byte{','}) + 1
}

// skipSpace returns the index of the first byte of data at or after i
// that is not JSON white space.
func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}
