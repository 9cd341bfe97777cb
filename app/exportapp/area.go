// Package exportapp is the exports area. Exports of use cases and members as PDF, Excel and CSV, run as background jobs (domain/export).
package exportapp

import (
	"context"
	_ "embed"
	"time"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/mediaapp"
	"github.com/p2psandbox/hub/app/usecaseapp"
	"github.com/p2psandbox/hub/domain/export"
	"github.com/p2psandbox/hub/domain/export/exportdb"
	"github.com/p2psandbox/hub/domain/media"
	"github.com/p2psandbox/hub/domain/media/mediadb"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/domain/notify/notifydb"
	"github.com/p2psandbox/hub/platform/ratelimit"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the exports area.
type Area struct{}

// New returns the exports area.
func New() *Area { return &Area{} }

// Name is "exports".
func (*Area) Name() string { return "exports" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register builds the export service (serve: the routes) and the runner (where the worker runs:
// the task, with one headless browser for the process).
func (*Area) Register(_ context.Context, h *area.Host) error {
	store := exportdb.New(h.Pool)
	// The exports read use cases as their requester would, through the use cases' own rules.
	useCases := usecaseapp.Reader(h)
	svc := export.NewService(store, useCases, Queue{Client: h.Tasks, Queue: h.Queue, Timeout: h.Config.Export.Timeout})
	if h.REST != nil {
		mountREST(h.REST, routes{
			svc: svc, files: h.Blobs, links: newLinks(h.Redis, h.Config.Redis.Prefix, h.Config.Export.LinkTTL),
			limiter: ratelimit.New(h.Redis, h.Config.Redis.Prefix),
			policy:  ratelimit.Policy{Events: h.Config.Export.PerHour, Per: time.Hour},
		})
	}
	if h.Worker != nil {
		chrome := NewChrome(h.Config.Export.Chromium, h.Config.Export.Timeout)
		h.OnClose(chrome.Close)
		// Notifications written from here reach the bell through notifyapp's bridge, which
		// follows notify.Arrived on the bus.
		notes := notify.NewService(notify.Deps{Store: notifydb.New(h.Pool), Events: h.Events, Log: h.Log.With("component", "exports")})
		runner := export.NewRunner(export.RunnerDeps{
			Store: store, UseCases: useCases, Members: h.Identity, Files: h.Blobs, Printer: chrome,
			Images:   useCaseImages{mediaapp.NewService(h, mediadb.New(h.Pool))},
			Listener: listener{sockets: h.Sockets, notes: notes, log: h.Log}, Timeout: h.Config.Export.Timeout,
			Log: h.Log.With("component", "exports"),
		})
		h.Worker.Handle(TypeExportRun, RunTask{Runner: runner})
	}
	return nil
}

// useCaseImages reads a use case's images, card-sized, for its PDF.
type useCaseImages struct{ files *media.Service }

func (i useCaseImages) Read(ctx context.Context, fileID string) ([]byte, string, error) {
	return i.files.ReadAttached(ctx, usecaseapp.AttachedType, fileID, "card")
}
