package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/platform/auth"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/metrics"
	"github.com/p2psandbox/hub/rest"
)

// refuseAll is an Authenticator for the route table only: no request reaches it.
type refuseAll struct{}

func (refuseAll) Middleware(next http.Handler) http.Handler { return next }
func (refuseAll) Verify(http.ResponseWriter, *http.Request, ...auth.Requirement) (identity.Principal, error) {
	return identity.Principal{}, errors.New("not used")
}
func (refuseAll) EmailVerified(context.Context, string, string) (bool, error) { return false, nil }

// TestEveryRouteIsDocumented keeps the OpenAPI document and the router in step: every /api/v1
// route and method the router serves is in the document, and the other way round.
func TestEveryRouteIsDocumented(t *testing.T) {
	cfg, err := config.Load("", nil)
	require.NoError(t, err)
	r := rest.NewRouter(rest.Deps{Log: logging.Discard(), HTTP: cfg.HTTP, Registry: metrics.NewRegistry(), Auth: refuseAll{},
		Messaging: (*messaging.Service)(nil)})

	spec, err := rest.OpenAPIJSON()
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
	for _, rt := range r.Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Path == "/api/v1/openapi.json" {
			continue
		}
		key := rt.Method + " " + param.ReplaceAllString(rt.Path, "{$1}")
		served[key] = true
		assert.True(t, documented[key], "%s is served but not in rest/openapi.yaml", key)
	}
	for key := range documented {
		if strings.Contains(key, " /api/v1/") {
			assert.True(t, served[key], "%s is documented but not served", key)
		}
	}
}
