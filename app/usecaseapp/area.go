// Package usecaseapp is the use cases area: drafts, step validation and submission, the
// moderators' review, and the library of published use cases with likes and saves
// (domain/usecase) behind REST.
package usecaseapp

import (
	"context"
	_ "embed"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
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
	svc := usecase.NewService(usecase.Deps{Store: usecasedb.New(h.Pool), Events: h.Events})
	if h.REST != nil {
		mountREST(h.REST, svc)
	}
	return nil
}
