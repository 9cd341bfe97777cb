// Package forumapp is the forum area: platform-wide topics, threaded replies, likes, bookmarks
// and best answers (domain/forum) behind REST.
package forumapp

import (
	"context"
	_ "embed"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/platform/markdown"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the forum area.
type Area struct{}

// New returns the forum area.
func New() *Area { return &Area{} }

// Name is "forum".
func (*Area) Name() string { return "forum" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register builds the forum service and mounts its routes.
func (*Area) Register(_ context.Context, h *area.Host) error {
	svc := forum.NewService(forumdb.New(h.Pool), forum.Markdown{MD: markdown.New()})
	if h.REST != nil {
		mountREST(h.REST, svc)
	}
	return nil
}
