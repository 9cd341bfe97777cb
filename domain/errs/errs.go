// Package errs is the error vocabulary shared by the domain packages. A domain service returns an
// *Error with a Code; the transports (REST, the hub) map the code to a status in one place each.
package errs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// Code is a stable, machine-readable error code. Its string form is what clients see.
type Code string

// Codes.
const (
	Invalid         Code = "invalid_request"   // the request cannot be parsed (bad JSON, wrong types)
	Validation      Code = "validation_failed" // parsed, but fields break the rules
	Unauthenticated Code = "unauthorized"      // no valid session
	TokenExpired    Code = "token_expired"     // the access token expired: refresh, then retry
	Forbidden       Code = "forbidden"         // signed in, not allowed
	NotFound        Code = "not_found"
	Conflict        Code = "conflict"
	Stale           Code = "precondition_failed" // the version the change was made on is no longer current (If-Match)
	Gone            Code = "gone"
	TooLarge        Code = "payload_too_large"
	Unsupported     Code = "unsupported_media_type"
	RateLimited     Code = "rate_limited"
	Unavailable     Code = "unavailable"
	Internal        Code = "internal"
)

// FieldError names one invalid input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is a domain error.
type Error struct {
	Code    Code
	Message string       // safe to show to the user
	Fields  []FieldError // for Validation
	// RetryAfter tells a rate-limited caller when to come back.
	RetryAfter time.Duration
	Err        error // the cause, for logs; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Fields builds a validation error from per-field messages.
func Fields(fields ...FieldError) *Error {
	return &Error{Code: Validation, Message: "some fields are invalid", Fields: fields}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns err's code; Internal for errors that carry none.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}

// Transient reports whether err says a backing service (PostgreSQL, Redis, the auth core) could
// not be reached or answered too late: a refused or broken connection, a deadline. Transports
// answer it as Unavailable (503, retry later), not as an internal error: nothing is wrong with
// the request or the code.
func Transient(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}
