package app_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/app"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/rest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestEveryRouteIsDocumented builds the serving process as `p2p serve` does, every area
// registered, and keeps its routes and the assembled OpenAPI document in step: every /api/v1
// route and method served is documented, and the other way round.
func TestEveryRouteIsDocumented(t *testing.T) {
	_, prefix := redistest.New(t)
	cfg, err := config.Load("", []string{
		"P2P_ENV=test",
		"P2P_POSTGRES_URL=" + pgtest.Empty(t),
		"P2P_REDIS_URL=" + redistest.URL(),
		"P2P_REDIS_PREFIX=" + prefix,
		"P2P_WORKER_QUEUE=" + prefix + "queue",
		"P2P_BLOB_DIR=" + t.TempDir(),
		"P2P_AUTH_BCRYPT_COST=4",
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := app.Build(ctx, app.Options{Config: cfg, Log: logging.Discard(), Build: rest.Build{Version: "test"}, Serve: true})
	require.NoError(t, err)
	t.Cleanup(s.Close)

	spec, err := app.OpenAPI()
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(spec, &doc))
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}

	param := regexp.MustCompile(`:([A-Za-z]+)`)
	served := map[string]bool{}
	for _, rt := range s.Router().Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Path == "/api/v1/openapi.json" {
			continue
		}
		key := rt.Method + " " + param.ReplaceAllString(rt.Path, "{$1}")
		served[key] = true
		assert.True(t, documented[key], "%s is served but not in its area's openapi.yaml", key)
	}
	require.NotEmpty(t, served)
	for key := range documented {
		if strings.Contains(key, " /api/v1/") {
			assert.True(t, served[key], "%s is documented but not served", key)
		}
	}
}
