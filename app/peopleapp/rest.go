package peopleapp

import (
	"context"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/rest"
)

// People is what the REST layer needs from the people service.
type People interface {
	Directory(ctx context.Context, p identity.Principal, q people.Query, limit int, cursor string) (page.Page[people.Person], error)
	Follow(ctx context.Context, p identity.Principal, id string, on bool) (people.FollowState, error)
	Follows(ctx context.Context, p identity.Principal, id string, followers bool, limit int, cursor string) (page.Page[people.Person], error)
}

type routes struct{ p People }

func mountREST(rt *rest.Router, p People) {
	r := &routes{p: p}
	read := rt.Require()
	rt.API.GET("/people", read, r.directory)
	rt.API.PUT("/people/:id/follow", read, r.follow(true))
	rt.API.DELETE("/people/:id/follow", read, r.follow(false))
	rt.API.GET("/people/:id/followers", read, r.follows(true))
	rt.API.GET("/people/:id/following", read, r.follows(false))
}

func (r *routes) directory(c *gin.Context) {
	limit, ok := rest.QueryInt(c, "limit")
	if !ok {
		return
	}
	// expertise may repeat (?expertise=IoT&expertise=PLC) or list tags with commas.
	var tags []string
	for _, v := range c.QueryArray("expertise") {
		tags = append(tags, strings.Split(v, ",")...)
	}
	q := people.Query{Q: c.Query("q"), Expertise: tags, Industry: c.Query("industry"), City: c.Query("city")}
	pg, err := r.p.Directory(c.Request.Context(), rest.Principal(c), q, limit, c.Query("cursor"))
	rest.Respond(c, pg, err)
}

func (r *routes) follow(on bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		st, err := r.p.Follow(c.Request.Context(), rest.Principal(c), c.Param("id"), on)
		rest.Respond(c, st, err)
	}
}

func (r *routes) follows(followers bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		limit, ok := rest.QueryInt(c, "limit")
		if !ok {
			return
		}
		pg, err := r.p.Follows(c.Request.Context(), rest.Principal(c), c.Param("id"), followers, limit, c.Query("cursor"))
		rest.Respond(c, pg, err)
	}
}
