package e2e

import (
	"net/http"
	"net/url"
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
	assert.Equal(t, "Al Khobar", c["name"])
	assert.Equal(t, "الخبر", c["nameAr"])
	assert.Equal(t, "Eastern Province", c["region"])
	assert.Equal(t, "Jeddah", first(hala.Do(http.MethodGet, "/api/v1/locations/cities?q="+url.QueryEscape("جده"), nil))["name"])

	res := hala.Do(http.MethodGet, "/api/v1/locations/cities?near=24.71,46.67&limit=2", nil)
	c = first(res)
	assert.Equal(t, "Riyadh", c["name"])
	assert.Less(t, c["distanceKm"].(float64), 5.0)
	assert.Len(t, res.JSON()["items"], 2)

	for _, q := range []string{"near=95,46", "near=abc", "near=1,2,3", "limit=0", "limit=51", "limit=x"} {
		res := hala.Do(http.MethodGet, "/api/v1/locations/cities?"+q, nil)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, q+": "+res.String())
	}
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/locations/cities?q=r", nil).Status)
}
