// Package mediaapp is the media area: avatar and logo uploads (domain/media) behind REST, their
// processing by the worker, and the processed images served at /media/.
package mediaapp

import (
	"context"
	_ "embed"
	"strings"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/domain/media/mediadb"
	"github.com/p2psandbox/hub/platform/ratelimit"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the media area.
type Area struct{}

// New returns the media area.
func New() *Area { return &Area{} }

// Name is "media".
func (*Area) Name() string { return "media" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// NewService builds the media service on the host's storage with direct uploads enabled as
// configured: the media area's own, and other areas' (their content's attached files).
func NewService(h *area.Host, store *mediadb.Store) *media.Service {
	svc := media.NewService(store, h.Blobs, ImageQueue{Client: h.Tasks, Queue: h.Queue}, h.Identity,
		media.Config{BaseURL: strings.TrimSuffix(h.Config.App.APIDomain, "/") + "/media/"})
	limits := media.DefaultLimits
	if m := h.Config.Media; m.ImageBytes > 0 {
		limits.ImageBytes, limits.VideoBytes, limits.DocumentBytes = m.ImageBytes, m.VideoBytes, m.DocumentBytes
		limits.URLTTL, limits.UnattachedTTL, limits.Retention = m.URLTTL, m.UnattachedTTL, m.Retention
	}
	svc.EnableUploads(media.Uploads{
		Store: store, Storage: storage{h.Blobs}, Signer: signer{h.Blobs}, Events: socketEvents{h.Sockets},
		Limits: limits,
		Tools:  media.Tools{Timeout: limits.ToolTimeout},
	})
	return svc
}

// Register builds the media service on the blob storage. Processed images are served by the API
// itself at <app.api_domain>/media/<key>.
func (*Area) Register(_ context.Context, h *area.Host) error {
	store := mediadb.New(h.Pool)
	svc := NewService(h, store)
	h.Identity.CountStorage(store.StorageUsed)
	if h.REST != nil {
		mountREST(h.REST, svc, h.Blobs)
		mountUploads(h.REST, svc, ratelimit.New(h.Redis, h.Config.Redis.Prefix))
	}
	if h.Worker != nil {
		// One task type processes every kind of file: the service tells them apart.
		h.Worker.Handle(TypeProcessImage, ProcessImage{Images: svc, Log: h.Log})
		h.Worker.Handle(TypeSweep, Sweep{Files: svc, Log: h.Log})
		stop, err := scheduleSweep(h.Redis, h.Queue)
		if err != nil {
			return err
		}
		h.OnClose(stop)
	}
	return nil
}
