package authcore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
)

// errBadRequest is input the core refuses with 400 and a text body, as the real core does.
type errBadRequest struct{ msg string }

func (e *errBadRequest) Error() string { return e.msg }

func badRequest(msg string) error { return &errBadRequest{msg: msg} }

func invalidField(name string) error {
	return badRequest(fmt.Sprintf("Field name '%s' is invalid in JSON input", name))
}

// body reads the fields of a JSON request body. Each getter consumes its field; the first
// problem is kept and reported by done, which also refuses fields no getter asked for.
type body struct {
	m    map[string]json.RawMessage
	used map[string]bool
	err  error
}

func parseBody(raw []byte) (*body, error) {
	b := &body{m: map[string]json.RawMessage{}, used: map[string]bool{}}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return b, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if err := dec.Decode(&b.m); err != nil || dec.More() {
		return nil, badRequest("Invalid Json Input")
	}
	return b, nil
}

func (b *body) take(name string) (json.RawMessage, bool) {
	b.used[name] = true
	raw, ok := b.m[name]
	if ok && bytes.Equal(raw, []byte("null")) {
		return nil, false
	}
	return raw, ok
}

func (b *body) fail(name string) {
	if b.err == nil {
		b.err = invalidField(name)
	}
}

// str is a required string.
func (b *body) str(name string) string {
	raw, ok := b.take(name)
	var s string
	if !ok || json.Unmarshal(raw, &s) != nil {
		b.fail(name)
	}
	return s
}

// optStr is an optional string: nil when absent or null.
func (b *body) optStr(name string) *string {
	raw, ok := b.take(name)
	if !ok {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		b.fail(name)
		return nil
	}
	return &s
}

// boolean is a bool that takes def when absent.
func (b *body) boolean(name string, def bool) bool {
	raw, ok := b.take(name)
	if !ok {
		return def
	}
	var v bool
	if json.Unmarshal(raw, &v) != nil {
		b.fail(name)
	}
	return v
}

// object is a JSON object, {} when absent or null (the SDK sends null for a nil map).
func (b *body) object(name string) json.RawMessage {
	raw, ok := b.take(name)
	if !ok {
		return json.RawMessage("{}")
	}
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		b.fail(name)
		return json.RawMessage("{}")
	}
	return raw
}

// strings is a list of strings; present reports whether it was given (null counts as absent).
func (b *body) strings(name string) (list []string, present bool) {
	raw, ok := b.take(name)
	if !ok {
		return nil, false
	}
	if json.Unmarshal(raw, &list) != nil {
		b.fail(name)
	}
	return list, true
}

// done reports the first problem, or a field that no getter consumed.
func (b *body) done() error {
	if b.err != nil {
		return b.err
	}
	var extra []string
	for k := range b.m {
		if !b.used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return badRequest(fmt.Sprintf("Field name '%s' is not expected in JSON input", extra[0]))
	}
	return nil
}

// query reads GET parameters; unknown parameters are ignored (the SDK adds some only with a
// network interceptor).
type query struct {
	v   url.Values
	err error
}

func (q *query) str(name string) string {
	if !q.v.Has(name) {
		if q.err == nil {
			q.err = badRequest(fmt.Sprintf("Field name '%s' is missing in GET request", name))
		}
		return ""
	}
	return q.v.Get(name)
}

// boolean is "true"/"false", def when absent.
func (q *query) boolean(name string, def bool) bool {
	switch q.v.Get(name) {
	case "":
		return def
	case "true":
		return true
	case "false":
		return false
	}
	if q.err == nil {
		q.err = badRequest(fmt.Sprintf("Field name '%s' must be true or false", name))
	}
	return def
}
