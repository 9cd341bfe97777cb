package rest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"gopkg.in/yaml.v3"
)

// The OpenAPI 3.1 document is written as YAML next to the handlers it describes and served as
// JSON. The e2e tests validate every response they get against it.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIJSON returns the OpenAPI document as JSON.
func OpenAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return b, nil
}

// docsPage renders the document with Redoc. It is the only page that loads a script, so it
// carries its own Content-Security-Policy.
const docsPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>P2P Sandbox Hub API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/api/v1/openapi.json"></redoc>
<script src="https://cdn.redoc.ly/redoc/v2.1.5/bundles/redoc.standalone.js"></script></body>
</html>`

func mountOpenAPI(r *gin.Engine) error {
	spec, err := OpenAPIJSON()
	if err != nil {
		return err
	}
	r.GET("/api/v1/openapi.json", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.Data(http.StatusOK, "application/json", spec)
	})
	r.GET("/docs", func(c *gin.Context) {
		c.Header("Content-Security-Policy", "default-src 'none'; script-src https://cdn.redoc.ly; "+
			"style-src 'unsafe-inline' https://fonts.googleapis.com; font-src https://fonts.gstatic.com; "+
			"img-src data: https:; connect-src 'self'; worker-src blob:")
		c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(docsPage))
	})
	return nil
}
