package rest

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
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
	errs.Forbidden:       http.StatusForbidden,
	errs.NotFound:        http.StatusNotFound,
	errs.Conflict:        http.StatusConflict,
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

// writeProblem sends p, filling in the request id and instance.
func writeProblem(c *gin.Context, p Problem) {
	p.RequestID = RequestID(c)
	if p.Instance == "" {
		p.Instance = c.Request.URL.Path
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
	c.Header("Content-Type", ProblemContentType)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(p.Status, body)
	// gin's JSON render would overwrite the content type; keep ours.
	c.Writer.Header().Set("Content-Type", ProblemContentType)
}

// Fail answers the request with the problem that err maps to. Internal errors are logged with
// their cause and shown to the client without it.
func Fail(c *gin.Context, log *slog.Logger, err error) {
	writeProblem(c, problemOf(c, log, err))
}

func problemOf(c *gin.Context, log *slog.Logger, err error) Problem {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return NewProblem(errs.TooLarge, fmt.Sprintf("the request body exceeds %d bytes", tooLarge.Limit))
	}
	e, ok := errs.As(err)
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
