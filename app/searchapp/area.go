// Package searchapp is the search area: GET /api/v1/search over topics, replies, use cases,
// people, organizations and the searcher's own messages, and GET /api/v1/search/suggest while
// typing (domain/search). It owns no data: each area's own search answers, with that area's
// visibility rules, and searchdb reads replies and organizations under the same rules.
package searchapp

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/app/forumapp"
	"github.com/p2psandbox/hub/app/usecaseapp"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/location"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/domain/people/peopledb"
	"github.com/p2psandbox/hub/domain/search"
	"github.com/p2psandbox/hub/domain/search/searchdb"
	"github.com/p2psandbox/hub/rest"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the search area.
type Area struct{}

// New returns the search area.
func New() *Area { return &Area{} }

// Name is "search".
func (*Area) Name() string { return "search" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register mounts the routes where REST is served. The areas' services are built read-only
// here (searching needs their stores and nothing else).
func (*Area) Register(_ context.Context, h *area.Host) error {
	if h.REST == nil {
		return nil
	}
	cities, err := location.New()
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	own := searchdb.New(h.Pool)
	svc := &search.Service{
		Topics:        forum.NewService(forum.Deps{Store: forumapp.NewStore(h)}),
		Replies:       own,
		UseCases:      usecaseapp.Reader(h),
		People:        people.NewService(peopledb.New(h.Pool)),
		Organizations: own,
		Messages:      messaging.NewService(messaging.Deps{Store: messagingdb.New(h.Pool), Directory: h.Identity}),
		Cities:        cities,
		Titles:        own,
	}
	api := h.REST.API
	read := h.REST.Require()
	api.GET("/search", read, func(c *gin.Context) {
		limit, ok := rest.QueryInt(c, "limit")
		if !ok {
			return
		}
		res, err := svc.Search(c.Request.Context(), rest.Principal(c), c.Query("q"), c.Query("type"), limit, c.Query("cursor"))
		rest.Respond(c, res, err)
	})
	api.GET("/search/suggest", read, func(c *gin.Context) {
		res, err := svc.Suggest(c.Request.Context(), rest.Principal(c), c.Query("q"))
		rest.Respond(c, res, err)
	})
	return nil
}
