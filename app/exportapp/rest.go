package exportapp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/export"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/rest"
)

// Exports is what the routes need from the export service.
type Exports interface {
	Create(ctx context.Context, p identity.Principal, r export.Request) (export.Export, error)
	Get(ctx context.Context, p identity.Principal, id string) (export.Export, error)
	Downloaded(ctx context.Context, e export.Export) error
}

// Signer hands out short-lived URLs that read one stored file (blob.Objects: a presigned S3
// GET, or the disk backend's signed URL).
type Signer interface {
	PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (blob.Presigned, error)
}

// handoffTTL is the life of the presigned GET a download link redirects to: the client follows
// the redirect at once, so it only has to outlive that hop; a copied URL dies with it.
const handoffTTL = 2 * time.Minute

type routes struct {
	svc     Exports
	files   Signer
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

// file counts a download of a ready export by its requester holding a live link, then hands the
// transfer to the storage: a 303 to a presigned GET of the file (as an attachment), so the bytes
// go from the bucket to the browser, not through the hub. Each download of a use case's PDF counts
// in its downloads.
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
	get, err := r.files.PresignGet(ctx, e.FileKey, handoffTTL, e.FileName)
	if err != nil {
		rest.Fail(c, fmt.Errorf("signing export %s: %w", e.ID, err))
		return
	}
	if err := r.svc.Downloaded(ctx, e); err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "private, no-store")
	c.Redirect(http.StatusSeeOther, get.URL)
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
