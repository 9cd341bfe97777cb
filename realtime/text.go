package realtime

import (
	"strconv"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/text"
)

// checkText refuses a payload whose strings (keys included) hold what no text field takes: bytes
// that are not UTF-8, NUL (PostgreSQL refuses it in text) and control characters other than tab,
// line feed and carriage return. It answers the invalid_request ack's fields, naming where.
func checkText(v any) error {
	if where, bad := badText(v, ""); bad != "" {
		field := where
		if field == "" {
			field = "payload"
		}
		return errs.Fields(errs.FieldError{Field: field, Message: bad})
	}
	return nil
}

func badText(v any, path string) (string, string) {
	switch v := v.(type) {
	case string:
		return path, text.Problem(v)
	case map[string]any:
		for k, x := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if bad := text.Problem(k); bad != "" {
				return p, "the name " + bad
			}
			if where, bad := badText(x, p); bad != "" {
				return where, bad
			}
		}
	case []any:
		for i, x := range v {
			if where, bad := badText(x, path+"["+strconv.Itoa(i)+"]"); bad != "" {
				return where, bad
			}
		}
	}
	return "", ""
}
