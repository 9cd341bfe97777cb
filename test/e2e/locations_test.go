package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestCityPicker: the form's city picker answers a prefix in English or Arabic, and "near me"
// the nearest cities with their distance; hostile parameters answer 422 naming the parameter and
// the picker needs a session.
func TestCityPicker(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	hala := seed.Verified(t, env, srv, "cities-hala")
	first := func(res *harness.Response) map[string]any {
		t.Helper()
		require.Equal(t, http.StatusOK, res.Status, res.String())
		items := res.JSON()["items"].([]any)
		require.NotEmpty(t, items)
		return items[0].(map[string]any)
	}

	c := first(hala.Do(http.MethodGet, "/api/v1/locations/cities?q=khob", nil))
	assert.Equal(t, "Khobar", c["name"])
	assert.Equal(t, "الخبر", c["nameAr"])
	assert.Equal(t, "Eastern Province", c["region"])
	assert.Equal(t, "Jeddah", first(hala.Do(http.MethodGet, "/api/v1/locations/cities?q="+url.QueryEscape("جده"), nil))["name"])

	res := hala.Do(http.MethodGet, "/api/v1/locations/cities?near=24.69,46.72&limit=2", nil)
	c = first(res)
	assert.Equal(t, "Riyadh", c["name"])
	assert.Less(t, c["distanceKm"].(float64), 5.0)
	assert.Len(t, res.JSON()["items"], 2)

	for _, q := range []string{"near=95,46", "near=abc", "near=1,2,3", "limit=0", "limit=51", "limit=x"} {
		res := hala.Do(http.MethodGet, "/api/v1/locations/cities?"+q, nil)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, q+": "+res.String())
	}
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/locations/cities?q=r", nil).Status)

	// The library takes the picked city's point as "near me", with the other new filters and sorts.
	for _, q := range []string{"near=26.2654,50.1520", "near=26.2654,50.1520&radiusKm=10", "tech=IoT&city=Dammam",
		"roiMin=10&roiMax=300&sort=roi", "q=vision&sort=relevance", "sort=relevance", "sort=saved"} {
		for _, path := range []string{"/api/v1/use-cases?", "/api/v1/use-cases/facets?"} {
			res := hala.Do(http.MethodGet, path+q, nil)
			assert.Equal(t, http.StatusOK, res.Status, path+q+": "+res.String())
		}
	}
	for _, q := range []string{"radiusKm=10", "near=26,50&radiusKm=0", "near=26,50&radiusKm=9000", "roiMin=x", "roiMin=5&roiMax=1",
		"roiMax=Inf", "sort=random", "tech=" + url.QueryEscape(strings.Repeat("x", 101))} {
		res := hala.Do(http.MethodGet, "/api/v1/use-cases?"+q, nil)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, q+": "+res.String())
	}
}
