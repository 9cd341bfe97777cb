package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
)

// BindJSON decodes the request body into dst strictly: one JSON object, no unknown fields, the
// right types. A bad body answers 400 (or 413) and false.
func BindJSON(c *gin.Context, dst any) bool {
	if ct := c.ContentType(); ct != "application/json" {
		Fail(c, errs.E(errs.Unsupported, "send the body as application/json"))
		return false
	}
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			Fail(c, err)
		} else {
			Fail(c, errs.E(errs.Invalid, "the body cannot be read"))
		}
		return false
	}
	// encoding/json would turn bytes that are not UTF-8 into U+FFFD without a word.
	if !utf8.Valid(body) {
		Fail(c, errs.E(errs.Invalid, "the body is not valid UTF-8"))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err = dec.Decode(dst)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("the body holds more than one JSON value")
		}
	}
	if err == nil {
		if where, bad := badStrings(reflect.ValueOf(dst), ""); bad != "" {
			if where == "" {
				where = "body"
			}
			Fail(c, errs.Fields(errs.FieldError{Field: where, Message: bad}))
			return false
		}
		return true
	}
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooLarge):
		Fail(c, err)
	case errors.As(err, &typeErr):
		Fail(c, errs.Fields(errs.FieldError{Field: typeErr.Field, Message: fmt.Sprintf("must be %s, not %s", jsonKind(typeErr.Type.Kind().String()), typeErr.Value)}))
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		Fail(c, errs.E(errs.Invalid, "the body is not valid JSON"))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		Fail(c, errs.E(errs.Invalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field ")))
	default:
		Fail(c, errs.E(errs.Invalid, "the body cannot be read: %v", err))
	}
	return false
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int64", "int32", "float64", "uint", "uint64":
		return "a number"
	}
	return "another type"
}
