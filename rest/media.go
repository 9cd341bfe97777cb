package rest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/platform/auth"
	"github.com/p2psandbox/hub/platform/blob"
)

// Media is what the REST layer needs from the media service.
type Media interface {
	Upload(ctx context.Context, p identity.Principal, kind media.Kind, r io.Reader) (media.File, error)
	File(ctx context.Context, p identity.Principal, id string) (media.File, error)
	Remove(ctx context.Context, p identity.Principal, kind media.Kind) error
}

// Blobs is the storage GET /media/{key} reads processed images from.
type Blobs interface {
	Stat(ctx context.Context, key string) (blob.Info, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

// Upload routes and their body limit: the image's limit plus room for the multipart framing
// (boundaries, part headers, other small fields).
const (
	avatarPath       = "/me/avatar"
	logoPath         = "/organizations/current/logo"
	uploadBodyLimit  = media.MaxBytes + 64<<10
	mediaCacheHeader = "public, max-age=31536000, immutable"
)

// UploadBodyLimits are the per-route body limits of the upload routes (Deps.BodyLimits): images
// and message attachments.
func UploadBodyLimits() map[string]int64 {
	return map[string]int64{
		"/api/v1" + avatarPath:                  uploadBodyLimit,
		"/api/v1" + logoPath:                    uploadBodyLimit,
		"/api/v1/conversations/:id/attachments": AttachmentBodyLimit,
	}
}

type mediaRoutes struct {
	log   *slog.Logger
	media Media
	blobs Blobs
}

func mountMedia(r *gin.Engine, api *gin.RouterGroup, h *authRoutes, d Deps) {
	m := &mediaRoutes{log: d.Log, media: d.Media, blobs: d.Blobs}
	orgUpdate := h.require(auth.Permission(auth.PermOrgUpdate))
	api.POST(avatarPath, h.require(), m.upload(media.Avatar))
	api.DELETE(avatarPath, h.require(), m.remove(media.Avatar))
	api.POST(logoPath, orgUpdate, m.upload(media.Logo))
	api.DELETE(logoPath, orgUpdate, m.remove(media.Logo))
	api.GET("/files/:id", h.require(), m.file)
	// Public: <img> tags send no bearer token, and the keys hold unguessable ids.
	r.GET("/media/*key", m.serve)
	r.HEAD("/media/*key", m.serve)
}

// upload takes the multipart field "file" and answers 202 with the pending file.
func (m *mediaRoutes) upload(kind media.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		part, err := filePart(c.Request)
		if err != nil {
			Fail(c, m.log, err)
			return
		}
		defer part.Close()
		f, err := m.media.Upload(c.Request.Context(), principal(c), kind, part)
		if err != nil {
			Fail(c, m.log, err)
			return
		}
		c.Header("Location", "/api/v1/files/"+f.ID)
		c.JSON(http.StatusAccepted, f)
	}
}

// filePart streams the request's multipart body up to the part named "file", so the image is
// read once, from the socket, and never spooled to a temporary file.
func filePart(r *http.Request) (*multipart.Part, error) {
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

func (m *mediaRoutes) remove(kind media.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := m.media.Remove(c.Request.Context(), principal(c), kind); err != nil {
			Fail(c, m.log, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func (m *mediaRoutes) file(c *gin.Context) {
	f, err := m.media.File(c.Request.Context(), principal(c), c.Param("id"))
	respond(c, m.log, f, err)
}

// serve answers a processed image. Its key names a new id on every upload, so the content under
// a key never changes and may be cached for good.
func (m *mediaRoutes) serve(c *gin.Context) {
	ctx := c.Request.Context()
	key := strings.TrimPrefix(c.Param("key"), "/")
	notFound := func() { writeProblem(c, NewProblem(errs.NotFound, "no image at "+c.Request.URL.Path)) }
	if !media.Public(key) || !blob.ValidKey(key) {
		notFound()
		return
	}
	info, err := m.blobs.Stat(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		notFound()
		return
	}
	if err != nil {
		Fail(c, m.log, err)
		return
	}
	rc, err := m.blobs.Open(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		notFound()
		return
	}
	if err != nil {
		Fail(c, m.log, err)
		return
	}
	defer rc.Close()

	h := c.Writer.Header()
	sum := sha256.Sum256([]byte(key + "\x00" + strconv.FormatInt(info.Size, 10)))
	h.Set("Content-Type", info.ContentType)
	h.Set("Cache-Control", mediaCacheHeader)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	// The React app may run on another site than the API; images are public anyway.
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if rs, ok := rc.(io.ReadSeeker); ok {
		// Conditional requests (If-None-Match: 304) and ranges come for free.
		http.ServeContent(c.Writer, c.Request, "", info.ModTime, rs)
		return
	}
	c.DataFromReader(http.StatusOK, info.Size, info.ContentType, rc, nil)
}
