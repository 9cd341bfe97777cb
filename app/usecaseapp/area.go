// Package usecaseapp is the use cases area: drafts, step validation and submission, the
// moderators' review, and the library of published use cases with likes and saves
// (domain/usecase) behind REST.
package usecaseapp

import (
	"context"
	_ "embed"
	"time"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/platform/viewcount"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the use cases area.
type Area struct{}

// New returns the use cases area.
func New() *Area { return &Area{} }

// Name is "usecases".
func (*Area) Name() string { return "usecases" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register builds the use cases service and mounts its routes. Who is told of a review is
// app/notifyapp's business: it follows usecase.Reviewed.
func (*Area) Register(_ context.Context, h *area.Host) error {
	store := usecasedb.New(h.Pool)
	deps := usecase.Deps{Store: store, Events: h.Events}
	if h.REST != nil {
		// Views are counted where use cases are read, and flushed from there.
		v := viewcount.New(h.Redis, h.Config.Redis.Prefix, "usecase", h.Log)
		deps.Views = v
		h.OnClose(v.Start(viewFlush, store.AddViews))
	}
	svc := usecase.NewService(deps)
	if h.REST != nil {
		mountREST(h.REST, svc)
	}
	return nil
}

// viewFlush is how often counted views reach the use cases.
const viewFlush = 2 * time.Second
