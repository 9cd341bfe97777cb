package rest

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/text"
)

// cleanInput refuses a request whose path or query holds what no text takes (domain/text): NUL,
// bytes that are not UTF-8, control characters. It runs before every route, the auth SDK's
// included, so none of them hands such a string to PostgreSQL.
func cleanInput() gin.HandlerFunc {
	return func(c *gin.Context) {
		if p := text.Problem(c.Request.URL.Path); p != "" {
			Fail(c, errs.E(errs.Invalid, "the path %s", p))
			return
		}
		raw := c.Request.URL.RawQuery
		if raw == "" {
			c.Next()
			return
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			Fail(c, errs.E(errs.Invalid, "the query string is malformed: %s", strings.TrimPrefix(err.Error(), "invalid URL escape ")))
			return
		}
		for name, values := range q {
			if p := text.Problem(name); p != "" {
				Fail(c, errs.Fields(errs.FieldError{Field: strconv.Quote(name), Message: "the parameter name " + p}))
				return
			}
			for _, v := range values {
				if p := text.Problem(v); p != "" {
					Fail(c, errs.Fields(errs.FieldError{Field: name, Message: p}))
					return
				}
			}
		}
		c.Next()
	}
}

// badStrings walks a decoded body and returns the JSON path of the first string (or map key)
// that text.Problem refuses, with the problem.
func badStrings(v reflect.Value, path string) (string, string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "", ""
		}
		return badStrings(v.Elem(), path)
	case reflect.String:
		return path, text.Problem(v.String())
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			var any any
			if json.Unmarshal(v.Bytes(), &any) != nil {
				return "", ""
			}
			return badStrings(reflect.ValueOf(&any).Elem(), path)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "", "" // bytes, not text
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			if where, bad := badStrings(v.Index(i), path+"["+strconv.Itoa(i)+"]"); bad != "" {
				return where, bad
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			name := ""
			if k.Kind() == reflect.String {
				name = k.String()
				if p := text.Problem(name); p != "" {
					return join(path, strconv.Quote(name)), "the name " + p
				}
			}
			if where, bad := badStrings(iter.Value(), join(path, name)); bad != "" {
				return where, bad
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			p := path
			if !f.Anonymous || name != "" {
				if name == "" {
					name = f.Name
				}
				p = join(path, name)
			}
			if where, bad := badStrings(v.Field(i), p); bad != "" {
				return where, bad
			}
		}
	}
	return "", ""
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
