package mediaapp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/rest"
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

type mediaRoutes struct {
	media Media
	blobs Blobs
}

func mountREST(rt *rest.Router, svc Media, blobs Blobs) {
	m := &mediaRoutes{media: svc, blobs: blobs}
	api, signedIn := rt.API, rt.Require()
	orgUpdate := rt.Require(identity.PermOrgUpdate)
	rt.LimitBody("/api/v1"+avatarPath, uploadBodyLimit)
	rt.LimitBody("/api/v1"+logoPath, uploadBodyLimit)
	api.POST(avatarPath, signedIn, m.upload(media.Avatar))
	api.DELETE(avatarPath, signedIn, m.remove(media.Avatar))
	api.POST(logoPath, orgUpdate, m.upload(media.Logo))
	api.DELETE(logoPath, orgUpdate, m.remove(media.Logo))
	api.GET("/files/:id", signedIn, m.file)
	// Public: <img> tags send no bearer token, and the keys hold unguessable ids.
	rt.GET("/media/*key", m.serve)
	rt.HEAD("/media/*key", m.serve)
}

// upload takes the multipart field "file" and answers 202 with the pending file.
func (m *mediaRoutes) upload(kind media.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		part, err := rest.FilePart(c.Request)
		if err != nil {
			rest.Fail(c, err)
			return
		}
		defer part.Close()
		f, err := m.media.Upload(c.Request.Context(), rest.Principal(c), kind, part)
		if err != nil {
			rest.Fail(c, err)
			return
		}
		c.Header("Location", "/api/v1/files/"+f.ID)
		c.JSON(http.StatusAccepted, f)
	}
}

func (m *mediaRoutes) remove(kind media.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := m.media.Remove(c.Request.Context(), rest.Principal(c), kind); err != nil {
			rest.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

func (m *mediaRoutes) file(c *gin.Context) {
	f, err := m.media.File(c.Request.Context(), rest.Principal(c), c.Param("id"))
	rest.Respond(c, f, err)
}

// serve answers a processed image. Its key names a new id on every upload, so the content under
// a key never changes and may be cached for good.
func (m *mediaRoutes) serve(c *gin.Context) {
	ctx := c.Request.Context()
	key := strings.TrimPrefix(c.Param("key"), "/")
	notFound := func() { rest.Fail(c, errs.E(errs.NotFound, "no image at %s", c.Request.URL.Path)) }
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
		rest.Fail(c, err)
		return
	}
	rc, err := m.blobs.Open(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		notFound()
		return
	}
	if err != nil {
		rest.Fail(c, err)
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
