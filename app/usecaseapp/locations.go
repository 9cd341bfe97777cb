package usecaseapp

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/location"
	"github.com/p2psandbox/hub/rest"
)

// Limits of GET /locations/cities: what a picker shows at once.
const (
	citiesDefault = 10
	citiesMax     = 50
	cityQueryMax  = 100 // runes of q: no city name is longer
)

// mountLocations serves the cities the use case form and the library's "near me" pick from.
func mountLocations(rt *rest.Router, g *location.Gazetteer) {
	rt.API.GET("/locations/cities", rt.Require(), func(c *gin.Context) {
		q := c.Query("q")
		if len([]rune(q)) > cityQueryMax {
			rest.Fail(c, errs.Fields(errs.FieldError{Field: "q", Message: "must be at most 100 characters"}))
			return
		}
		near, ok := point(c)
		if !ok {
			return
		}
		limit, ok := rest.QueryInt(c, "limit")
		if !ok {
			return
		}
		if _, set := c.GetQuery("limit"); !set {
			limit = citiesDefault
		}
		if limit < 1 || limit > citiesMax {
			rest.Fail(c, errs.Fields(errs.FieldError{Field: "limit", Message: "must be between 1 and 50"}))
			return
		}
		c.JSON(http.StatusOK, gin.H{"items": g.Search(q, near, limit)})
	})
}

// point reads ?near=lat,lng; nil when absent.
func point(c *gin.Context) (*location.Point, bool) {
	raw, set := c.GetQuery("near")
	if !set {
		return nil, true
	}
	parts := strings.Split(raw, ",")
	var v [2]float64
	ok := len(parts) == 2
	for i := 0; ok && i < 2; i++ {
		var err error
		v[i], err = strconv.ParseFloat(strings.TrimSpace(parts[i]), 64)
		ok = err == nil
	}
	p := location.Point{Latitude: v[0], Longitude: v[1]}
	if !ok || !p.Valid() {
		rest.Fail(c, errs.Fields(errs.FieldError{Field: "near", Message: "must be latitude,longitude on the globe"}))
		return nil, false
	}
	return &p, true
}
