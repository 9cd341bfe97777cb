package mediaapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/platform/blob"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/rest"
)

// Socket events to the uploader when processing ends; the payload is the file as GET
// /files/{id} answers it.
const (
	EventReady  = "media:ready"
	EventFailed = "media:failed"
)

// Objects is the storage of direct uploads: blob.Objects, whichever backend.
type Objects interface {
	blob.Store
	blob.Presigner
}

// storage adds StatSize to the blob storage (media.StatStorage).
type storage struct{ Objects }

// StatSize implements media.StatStorage.
func (s storage) StatSize(ctx context.Context, key string) (int64, error) {
	info, err := s.Stat(ctx, key)
	if err != nil {
		return 0, err
	}
	return info.Size, nil
}

type signer struct{ o Objects }

func (s signer) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (media.Presigned, error) {
	p, err := s.o.PresignPut(ctx, key, contentType, size, ttl)
	return media.Presigned(p), err
}

func (s signer) PresignGet(ctx context.Context, key string, ttl time.Duration, filename string) (media.Presigned, error) {
	p, err := s.o.PresignGet(ctx, key, ttl, filename)
	return media.Presigned(p), err
}

// socketEvents tells the uploader's sockets (their user room, on every node).
type socketEvents struct{ s realtime.Sockets }

func (e socketEvents) FileProcessed(ctx context.Context, f media.File) error {
	if e.s == nil {
		return nil
	}
	event := EventReady
	if f.Status == media.Failed {
		event = EventFailed
	}
	return e.s.EmitToUsers(ctx, []string{f.OwnerUserID}, event, f)
}

// Uploads is what the upload routes need from the media service.
type Uploads interface {
	CreateUpload(ctx context.Context, p identity.Principal, req media.UploadRequest) (media.File, media.Presigned, error)
	Complete(ctx context.Context, p identity.Principal, id string) (media.File, error)
}

// UploadsPerHour is how many uploads one user may start in an hour: each may hold up to a
// video's limit in storage until it is swept, so an unbounded number would fill the disk.
const UploadsPerHour = 120

type uploadRoutes struct {
	up      Uploads
	limiter *ratelimit.Limiter // nil: no limit
}

// createdUpload is POST /uploads's answer.
type createdUpload struct {
	File   media.File      `json:"file"`
	Upload media.Presigned `json:"upload"`
}

func mountUploads(rt *rest.Router, up Uploads, limiter *ratelimit.Limiter) {
	r := &uploadRoutes{up: up, limiter: limiter}
	signedIn := rt.Require()
	rt.API.POST("/uploads", signedIn, r.create)
	rt.API.POST("/uploads/:id/complete", signedIn, r.complete)
}

func (r *uploadRoutes) create(c *gin.Context) {
	var req media.UploadRequest
	if !rest.BindJSON(c, &req) {
		return
	}
	p := rest.Principal(c)
	if r.limiter != nil && !rest.Throttle(c, r.limiter, "uploads:"+p.UserID,
		ratelimit.Policy{Events: UploadsPerHour, Per: time.Hour}, "too many uploads started in the last hour; try again later") {
		return
	}
	f, put, err := r.up.CreateUpload(c.Request.Context(), p, req)
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/files/"+f.ID)
	c.JSON(http.StatusCreated, createdUpload{File: f, Upload: put})
}

func (r *uploadRoutes) complete(c *gin.Context) {
	f, err := r.up.Complete(c.Request.Context(), rest.Principal(c), c.Param("id"))
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, f)
}

// TypeSweep removes direct uploads attached to nothing for a day.
const TypeSweep = "media:sweep"

// SweepInterval is how often the sweep runs.
const SweepInterval = time.Hour

// Sweeper is what the sweep task needs.
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time) (int64, error)
}

// Sweep is the handler of TypeSweep.
type Sweep struct {
	Files Sweeper
	Log   *slog.Logger
}

// ProcessTask sweeps.
func (h Sweep) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Files.Sweep(ctx, time.Now())
	if n > 0 {
		h.Log.InfoContext(ctx, "swept unattached uploads", "files", n)
	}
	if err != nil {
		return fmt.Errorf("sweeping uploads: %w", err)
	}
	return nil
}

// scheduleSweep runs TypeSweep every SweepInterval on this worker's queue. Every worker node
// schedules it; Unique keeps one per interval.
func scheduleSweep(rdb goredis.UniversalClient, queue string) (func(), error) {
	sched := asynq.NewSchedulerFromRedisClient(rdb, &asynq.SchedulerOpts{LogLevel: asynq.WarnLevel})
	if _, err := sched.Register("@every "+SweepInterval.String(), asynq.NewTask(TypeSweep, nil),
		asynq.Queue(queue), asynq.Unique(SweepInterval), asynq.MaxRetry(1)); err != nil {
		return nil, fmt.Errorf("media: scheduling the sweep: %w", err)
	}
	if err := sched.Start(); err != nil {
		return nil, errors.Join(errors.New("media: starting the sweep's scheduler"), err)
	}
	return sched.Shutdown, nil
}
