// Package peopleapp is the people area: the directory of professionals and follows between
// people (domain/people) behind REST.
package peopleapp

import (
	"context"
	_ "embed"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/domain/people/peopledb"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the people area.
type Area struct{}

// New returns the people area.
func New() *Area { return &Area{} }

// Name is "people".
func (*Area) Name() string { return "people" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register builds the people service and mounts its routes. The dashboard reads a person's
// follow counts with people.Service.Counts (NewService(peopledb.New(pool)).Counts).
func (*Area) Register(_ context.Context, h *area.Host) error {
	svc := people.NewService(peopledb.New(h.Pool))
	if h.REST != nil {
		mountREST(h.REST, svc)
	}
	return nil
}
