package rest_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/rest"
)

func TestOpenAPIDocumentIsValidJSON(t *testing.T) {
	b, err := rest.OpenAPIJSON()
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc))
	assert.Equal(t, "3.1.0", doc["openapi"])
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/health", "/health/ready", "/api/v1/me", "/auth/signup", "/auth/signin"} {
		assert.Contains(t, paths, p)
	}
}
