package authcore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/authcore"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// BenchmarkSignIn measures POST /public/recipe/signin over HTTP at the production bcrypt cost
// (11): one bcrypt comparison dominates it.
func BenchmarkSignIn(b *testing.B) {
	pool, _ := pgtest.NewWith(b, authcore.Migrations())
	core, err := authcore.New(context.Background(), pool, authcore.Config{
		APIKeys: []string{testAPIKey}, BcryptCost: authcore.DefaultBcryptCost, Log: logging.Discard()})
	require.NoError(b, err)
	url := serveHandler(b, core)

	post := func(path string, body any) map[string]any {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", url+path, bytes.NewReader(raw))
		req.Header.Set("api-key", testAPIKey)
		req.Header.Set("cdi-version", "3.1")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(b, err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		var obj map[string]any
		require.NoError(b, json.Unmarshal(out, &obj), string(out))
		return obj
	}
	creds := map[string]any{"email": "bench@example.com", "password": "pass-word-1"}
	require.Equal(b, "OK", post("/public/recipe/signup", creds)["status"])

	for b.Loop() {
		if got := post("/public/recipe/signin", creds)["status"]; got != "OK" {
			b.Fatalf("signin: %v", got)
		}
	}
}
