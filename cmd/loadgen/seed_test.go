package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }

// TestSeedFillsANewServerOnce: what make run seeds is there for a demo person signing in (topics
// with replies, likes and a best answer; published use cases on the map), and seeding again
// changes nothing; the mixed load (make perf-mixed) runs on it without an error.
func TestSeedFillsANewServerOnce(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_HTTP_DEV_ENDPOINTS=true", "P2P_AUTH_MODERATORS="+demoPeople[0].email)
	require.NoError(t, runSeed([]string{"-url", srv.URL}))
	require.NoError(t, runSeed([]string{"-url", srv.URL}), "a seeded server is left alone")

	c := srv.Client(t)
	c.SignIn(demoPeople[2].email, DemoPassword)
	res := c.Do(http.MethodGet, "/api/v1/forum/topics", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	topics := res.JSON()["items"].([]any)
	require.Len(t, topics, len(demoTopics), "seeded once")
	answered := 0
	for _, it := range topics {
		if it.(map[string]any)["hasBestAnswer"] == true {
			answered++
		}
	}
	assert.Equal(t, 1, answered)
	stats := c.Do(http.MethodGet, "/api/v1/forum/stats", nil).JSON()
	assert.EqualValues(t, 6, stats["replies"])
	assert.EqualValues(t, 3, stats["activeMembers"])

	// A living library: published by the moderator, on the map, a few featured (fewer than the
	// six the landing page shows, so that all of them are there).
	res = c.Do(http.MethodGet, "/api/v1/use-cases", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.EqualValues(t, len(demoUseCases), res.JSON()["total"])
	anon := srv.Client(t)
	assert.Len(t, anon.Do(http.MethodGet, "/api/v1/public/use-cases/map", nil).JSON()["features"], len(demoUseCases))
	featured := 0
	for _, d := range demoUseCases {
		if d.featured {
			featured++
		}
	}
	require.LessOrEqual(t, featured, 6)
	assert.Len(t, anon.Do(http.MethodGet, "/api/v1/public/use-cases/featured", nil).JSON()["items"], featured)

	// The mixed load runs on a seeded server, every kind of action without an error.
	require.NoError(t, runMixed([]string{"-url", srv.URL, "-users", "6", "-writers", "2", "-rate", "20",
		"-duration", "2s", "-warmup", "0s"}))
}
