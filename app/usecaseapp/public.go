package usecaseapp

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/platform/ratelimit"
	"github.com/p2psandbox/hub/rest"
)

// Public is what the landing page's routes need: no session, published use cases only.
type Public interface {
	Map(ctx context.Context, b usecase.Box) (usecase.MapPoints, error)
	Stats(ctx context.Context) (usecase.PublicStats, error)
	Featured(ctx context.Context) ([]usecase.Summary, error)
}

// Public answers are the same for everyone: shared caches may keep them this long.
const publicMaxAge = 60 * time.Second

// publicPerIP bounds how often one address asks the public routes (they need no session, so an
// address is all there is to count).
var publicPerIP = ratelimit.Policy{Events: 120, Per: time.Minute}

// publicCacheBytes bounds the answers a node keeps for the public routes.
const publicCacheBytes = 64 << 20

func mountPublic(rt *rest.Router, bus *events.Bus, p Public, limiter *ratelimit.Limiter) {
	pr := publicRoutes{p: p, cache: newPublicCache(publicMaxAge, publicCacheBytes)}
	events.Listen(bus, func(context.Context, usecase.Reviewed) { pr.cache.clear() })
	events.Listen(bus, func(context.Context, usecase.Marked) { pr.cache.clear() })
	g := rt.API.Group("/public", func(c *gin.Context) {
		if !rest.Throttle(c, limiter, "public:"+c.ClientIP(), publicPerIP, "too many requests from this address; try again in a moment") {
			return
		}
		c.Header("Cache-Control", "public, max-age="+strconv.Itoa(int(publicMaxAge.Seconds())))
		c.Next()
	})
	g.GET("/use-cases/map", pr.mapPoints)
	g.GET("/stats", pr.stats)
	g.GET("/use-cases/featured", pr.featured)
}

// publicRoutes answer the landing page from the cache.
type publicRoutes struct {
	p     Public
	cache *publicCache
}

func (pr publicRoutes) mapPoints(c *gin.Context) {
	box, ok := bbox(c)
	if !ok {
		return
	}
	key := "map:" + strconv.FormatFloat(box.MinLng, 'g', -1, 64) + "," + strconv.FormatFloat(box.MinLat, 'g', -1, 64) +
		"," + strconv.FormatFloat(box.MaxLng, 'g', -1, 64) + "," + strconv.FormatFloat(box.MaxLat, 'g', -1, 64)
	body, err := pr.cache.get(c.Request.Context(), key, func(ctx context.Context) ([]byte, error) {
		points, err := pr.p.Map(ctx, box)
		return points.GeoJSON, err
	})
	serve(c, body, err)
}

func (pr publicRoutes) stats(c *gin.Context) {
	body, err := pr.cache.get(c.Request.Context(), "stats", func(ctx context.Context) ([]byte, error) {
		st, err := pr.p.Stats(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(st)
	})
	serve(c, body, err)
}

func (pr publicRoutes) featured(c *gin.Context) {
	body, err := pr.cache.get(c.Request.Context(), "featured", func(ctx context.Context) ([]byte, error) {
		items, err := pr.p.Featured(ctx)
		if err != nil {
			return nil, err
		}
		return json.Marshal(gin.H{"items": items})
	})
	serve(c, body, err)
}

// serve writes a public answer kept as JSON.
func serve(c *gin.Context, body []byte, err error) {
	if err != nil {
		rest.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// bbox reads ?bbox=minLng,minLat,maxLng,maxLat (GeoJSON's order); absent, the whole map.
func bbox(c *gin.Context) (usecase.Box, bool) {
	raw, set := c.GetQuery("bbox")
	if !set {
		return usecase.Whole, true
	}
	parts := strings.Split(raw, ",")
	var v [4]float64
	ok := len(parts) == 4
	for i := 0; ok && i < 4; i++ {
		var err error
		v[i], err = strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
		ok = err == nil
	}
	if !ok {
		rest.Fail(c, errs.Fields(errs.FieldError{Field: "bbox", Message: "must be four numbers: minLng,minLat,maxLng,maxLat"}))
		return usecase.Box{}, false
	}
	return usecase.Box{MinLng: v[0], MinLat: v[1], MaxLng: v[2], MaxLat: v[3]}, true
}
