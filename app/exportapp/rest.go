package exportapp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/export"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/rest"
)

// Exports is what the routes need from the export service.
type Exports interface {
	Create(ctx context.Context, p identity.Principal, r export.Request) (export.Export, error)
	Get(ctx context.Context, p identity.Principal, id string) (export.Export, error)
	Downloaded(ctx context.Context, e export.Export) error
}

// Opener reads stored files.
type Opener interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
}

type routes struct {
	svc     Exports
	files   Opener
	links   *links
	limiter *ratelimit.Limiter
	policy  ratelimit.Policy
}

func mountREST(rt *rest.Router, r routes) {
	read := rt.Require()
	rt.API.POST("/exports", read, r.create)
	rt.API.GET("/exports/:id", read, r.get)
	rt.API.GET("/exports/:id/file", read, r.file)
}

func (r routes) create(c *gin.Context) {
	p := rest.Principal(c)
	var req export.Request
	if !rest.BindJSON(c, &req) {
		return
	}
	if !rest.Throttle(c, r.limiter, "export:"+p.UserID, r.policy, "too many exports; try again in a moment") {
		return
	}
	e, err := r.svc.Create(c.Request.Context(), p, req)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/exports/"+e.ID)
	c.JSON(http.StatusAccepted, e)
}

func (r routes) get(c *gin.Context) {
	e, err := r.svc.Get(c.Request.Context(), rest.Principal(c), c.Param("id"))
	if err == nil && e.Status == export.StatusReady {
		err = r.links.sign(c.Request.Context(), &e)
	}
	rest.Respond(c, e, err)
}

// file serves a ready export to its requester holding a live link; each download of a use
// case's PDF counts in its downloads.
func (r routes) file(c *gin.Context) {
	ctx := c.Request.Context()
	e, err := r.svc.Get(ctx, rest.Principal(c), c.Param("id"))
	if err != nil {
		rest.Fail(c, err)
		return
	}
	if e.Status != export.StatusReady {
		rest.Fail(c, errs.E(errs.Conflict, "the export is not ready"))
		return
	}
	if !r.links.valid(ctx, e.ID, c.Query("token")) {
		rest.Fail(c, errs.E(errs.Forbidden, "the download link expired; ask for the export's status again for a new one"))
		return
	}
	body, err := r.files.Open(ctx, e.FileKey)
	if err != nil {
		rest.Fail(c, fmt.Errorf("opening export %s: %w", e.ID, err))
		return
	}
	defer body.Close()
	if err := r.svc.Downloaded(ctx, e); err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": e.FileName}))
	c.Header("Cache-Control", "private, no-store")
	c.Header("Content-Length", strconv.FormatInt(e.Size, 10))
	c.DataFromReader(http.StatusOK, e.Size, e.ContentType, body, nil)
}

// links are download links: an unguessable token per link, kept in Redis for the link's life,
// so a link copied out of the app stops working when it expires.
type links struct {
	rdb    goredis.UniversalClient
	prefix string
	ttl    time.Duration
}

func newLinks(rdb goredis.UniversalClient, prefix string, ttl time.Duration) *links {
	return &links{rdb: rdb, prefix: prefix + "export:link:", ttl: ttl}
}

// sign gives a ready export a fresh download link.
func (l *links) sign(ctx context.Context, e *export.Export) error {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	if err := l.rdb.Set(ctx, l.prefix+token, e.ID, l.ttl).Err(); err != nil {
		return fmt.Errorf("signing a download link: %w", err)
	}
	at := time.Now().Add(l.ttl).UTC()
	e.DownloadURL, e.ExpiresAt = "/api/v1/exports/"+e.ID+"/file?token="+token, &at
	return nil
}

func (l *links) valid(ctx context.Context, id, token string) bool {
	if token == "" || len(token) > 64 {
		return false
	}
	got, err := l.rdb.Get(ctx, l.prefix+token).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return false
	}
	return got == id
}
