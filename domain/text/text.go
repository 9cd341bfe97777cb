// Package text is the one rule for text that comes from outside (JSON bodies, query parameters,
// cursors, socket payloads): valid UTF-8, no NUL (PostgreSQL refuses it in text and answers 500),
// and no control characters other than tab, line feed and carriage return. Transports check it at
// the boundary, so a bad byte is a 4xx naming the field, never a failed statement.
package text

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
)

// Problem says what is wrong with s, or "" when nothing is.
func Problem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == 0:
			return "contains a NUL character"
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r >= 0x7f && r < 0xa0:
			return fmt.Sprintf("contains a control character (U+%04X)", r)
		}
	}
	return ""
}

// Check is Problem as the validation error of field.
func Check(field, s string) error {
	if p := Problem(s); p != "" {
		return errs.Fields(errs.FieldError{Field: field, Message: p})
	}
	return nil
}

// JSONProblem is Problem for every string (names included) of the JSON document b, for bodies
// that are handed on undecoded (the auth SDK's). Malformed JSON is not its business: "" then.
func JSONProblem(b []byte) string {
	if !utf8.Valid(b) {
		return "is not valid UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if s, ok := tok.(string); ok {
			if p := Problem(s); p != "" {
				return p
			}
		}
	}
}
