package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// explainNonFinite adds to err, the error of json.Unmarshal of data, what
// a NaN or infinity written where a number goes means: Python's json
// module and numpy write a model's non-finite outputs as NaN, Infinity or
// -Infinity, which are not JSON, and the syntax error alone ("invalid
// character 'N' looking for beginning of value") does not say so. Other
// errors are returned as they are.
func explainNonFinite(err error, data []byte) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) || se.Offset < 1 || se.Offset > int64(len(data)) {
		return err
	}
	rest := data[se.Offset-1:]
	// The offset is past the bad byte: the I of -Infinity, its '-' read.
	for _, tok := range []string{"NaN", "Infinity"} {
		if bytes.HasPrefix(rest, []byte(tok)) {
			return fmt.Errorf("%w: the answer holds %s, which JSON cannot carry: the model's output is not a finite number", err, tok)
		}
	}
	return err
}
