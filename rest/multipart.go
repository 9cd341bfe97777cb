package rest

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/p2psandbox/hub/domain/errs"
)

// FilePart streams the request's multipart body up to the part named "file", so the image is
// read once, from the socket, and never spooled to a temporary file.
func FilePart(r *http.Request) (*multipart.Part, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, errs.E(errs.Unsupported, `send the file as multipart/form-data, in the field "file"`)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, &errs.Error{Code: errs.Invalid, Message: "the multipart body cannot be read", Err: err}
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, &errs.Error{Code: errs.Validation, Message: `the file is missing: send it in the field "file"`,
				Fields: []errs.FieldError{{Field: "file", Message: "is required"}}}
		}
		if err != nil {
			// A body over the route's limit keeps its *http.MaxBytesError in the chain: 413.
			return nil, &errs.Error{Code: errs.Invalid, Message: "the multipart body cannot be read", Err: err}
		}
		if p.FormName() == "file" {
			return p, nil
		}
		p.Close()
	}
}
