package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Problem is an RFC 9457 problem document with the project's extensions.
type Problem struct {
	Type      string            `json:"type"`
	Title     string            `json:"title"`
	Status    int               `json:"status"`
	Detail    string            `json:"detail,omitempty"`
	Instance  string            `json:"instance,omitempty"`
	Code      errs.Code         `json:"code"`
	Errors    []errs.FieldError `json:"errors,omitempty"`
	RequestID string            `json:"requestId,omitempty"`
	// Extra carries problem-specific members (for example the failed readiness checks).
	Extra map[string]any `json:"-"`
}

// ProblemContentType is the media type of error responses.
const ProblemContentType = "application/problem+json"

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[errs.Code]int{
	errs.Invalid:         http.StatusBadRequest,
	errs.Validation:      http.StatusUnprocessableEntity,
	errs.Unauthenticated: http.StatusUnauthorized,
	errs.TokenExpired:    http.StatusUnauthorized,
	errs.Forbidden:       http.StatusForbidden,
	errs.NotFound:        http.StatusNotFound,
	errs.Conflict:        http.StatusConflict,
	errs.Stale:           http.StatusPreconditionFailed,
	errs.Gone:            http.StatusGone,
	errs.TooLarge:        http.StatusRequestEntityTooLarge,
	errs.Unsupported:     http.StatusUnsupportedMediaType,
	errs.RateLimited:     http.StatusTooManyRequests,
	errs.Unavailable:     http.StatusServiceUnavailable,
	errs.Internal:        http.StatusInternalServerError,
}

// codeOfStatus is used for problems raised by the router itself (404, 405).
var codeOfStatus = map[int]errs.Code{
	http.StatusMethodNotAllowed: "method_not_allowed",
}

// NewProblem builds a problem for code with a detail message.
func NewProblem(code errs.Code, detail string) Problem {
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return Problem{
		Type:   "urn:p2p:problem:" + string(code),
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	}
}

// writeProblem sends p, filling in the request id and instance, and stops the handler chain.
func writeProblem(c *gin.Context, p Problem) {
	writeProblemTo(c.Writer, c.Request.URL.Path, RequestID(c), p)
	c.Abort()
}

// writeProblemTo writes p on a plain http.ResponseWriter (handlers outside Gin: the auth SDK).
func writeProblemTo(w http.ResponseWriter, path, requestID string, p Problem) {
	p.RequestID = requestID
	if p.Instance == "" {
		p.Instance = path
	}
	body := map[string]any{
		"type":      p.Type,
		"title":     p.Title,
		"status":    p.Status,
		"code":      p.Code,
		"requestId": p.RequestID,
		"instance":  p.Instance,
	}
	if p.Detail != "" {
		body["detail"] = p.Detail
	}
	if len(p.Errors) > 0 {
		body["errors"] = p.Errors
	}
	for k, v := range p.Extra {
		body[k] = v
	}
	b, err := json.Marshal(body)
	if err != nil {
		b = []byte(`{"code":"internal","status":500}`)
	}
	h := w.Header()
	h.Set("Content-Type", ProblemContentType)
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	w.Write(b) //nolint:errcheck // the client went away
}

// AuthAPIError answers the auth SDK's requests that failed with an error the SDK leaves to the
// application: a body that is not JSON, one over the size limit, a failed core call.
func AuthAPIError(log *slog.Logger) func(err error, r *http.Request, w http.ResponseWriter) {
	return func(err error, r *http.Request, w http.ResponseWriter) {
		var (
			syntax   *json.SyntaxError
			typeErr  *json.UnmarshalTypeError
			tooLarge *http.MaxBytesError
			p        Problem
		)
		switch {
		case errors.As(err, &syntax), errors.As(err, &typeErr), errors.Is(err, io.ErrUnexpectedEOF):
			p = NewProblem(errs.Invalid, "the body is not valid JSON: "+err.Error())
		case errors.As(err, &tooLarge):
			p = NewProblem(errs.TooLarge, fmt.Sprintf("the request body exceeds %d bytes", tooLarge.Limit))
		case unavailable(err):
			// The embedded core keeps its sessions in PostgreSQL: a database that is down fails
			// sign-in and refresh the same way it fails the API.
			log.WarnContext(r.Context(), "auth request failed: a backing service is unavailable", "path", r.URL.Path, "err", err,
				"request_id", w.Header().Get(requestIDHeader))
			w.Header().Set("Retry-After", retryAfterUnavailable)
			p = NewProblem(errs.Unavailable, unavailableDetail)
		default:
			log.ErrorContext(r.Context(), "auth request failed", "path", r.URL.Path, "err", err,
				"request_id", w.Header().Get(requestIDHeader))
			p = NewProblem(errs.Internal, "an unexpected error occurred; quote the request id when reporting it")
		}
		writeProblemTo(w, r.URL.Path, w.Header().Get(requestIDHeader), p)
	}
}

// Fail answers the request with the problem that err maps to. Internal errors are logged with
// their cause and shown to the client without it.
func Fail(c *gin.Context, err error) {
	writeProblem(c, problemOf(c, LogOf(c), err))
}

// Respond answers 200 with v, or with the problem of err when there is one.
func Respond(c *gin.Context, v any, err error) {
	if err != nil {
		Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// NoContent answers 204, or the problem of err.
func NoContent(c *gin.Context, err error) {
	if err != nil {
		Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func problemOf(c *gin.Context, log *slog.Logger, err error) Problem {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return NewProblem(errs.TooLarge, fmt.Sprintf("the request body exceeds %d bytes", tooLarge.Limit))
	}
	e, ok := errs.As(err)
	// A store's failure often reaches here wrapped as an internal error; what it wraps still
	// decides whether the request or the database is at fault.
	if (!ok || e.Code == errs.Internal) && unavailable(err) {
		log.WarnContext(c.Request.Context(), "request failed: a backing service is unavailable", "err", err, "request_id", RequestID(c))
		c.Header("Retry-After", retryAfterUnavailable)
		return NewProblem(errs.Unavailable, unavailableDetail)
	}
	if !ok || e.Code == errs.Internal {
		log.ErrorContext(c.Request.Context(), "request failed", "err", err, "request_id", RequestID(c))
		return NewProblem(errs.Internal, "an unexpected error occurred; quote the request id when reporting it")
	}
	p := NewProblem(e.Code, e.Message)
	p.Errors = e.Fields
	if e.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	return p
}

// unavailable reports whether err says a backing service could not serve the request for now (a
// refused or broken connection, a deadline, PostgreSQL's own "not now"): a 503, not a 500.
func unavailable(err error) bool { return errs.Transient(err) || postgres.Unavailable(err) }

// What a request that met an unreachable backing service is told: retry shortly. One second is
// short enough for a restarting database and long enough not to hammer one that is down.
const (
	retryAfterUnavailable = "1"
	unavailableDetail     = "the service is briefly unavailable; retry in a moment"
)

func routerProblem(status int, detail string) Problem {
	code, ok := codeOfStatus[status]
	if !ok {
		code = errs.NotFound
	}
	return Problem{
		Type:   "urn:p2p:problem:" + string(code),
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	}
}

// NotFound answers the 404 problem of a path nothing serves, on a plain http.ResponseWriter
// (handlers outside Gin: the auth SDK's fall-through).
func NotFound(w http.ResponseWriter, r *http.Request) {
	writeProblemTo(w, r.URL.Path, w.Header().Get(requestIDHeader), routerProblem(http.StatusNotFound, "no resource at "+r.URL.Path))
}
