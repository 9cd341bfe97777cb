package main

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/p2psandbox/hub/platform/config"
)

// The load tool's open room kind exists only in the test environment.
func TestLoadRoomsOnlyInTest(t *testing.T) {
	for env, want := range map[string][]string{
		config.EnvTest:        {"conversation", "load"},
		config.EnvDevelopment: {"conversation"},
		config.EnvProduction:  {"conversation"},
	} {
		a := &app{cfg: config.Config{Env: env}}
		kinds := make([]string, 0, 2)
		for k := range a.joinAuthorizers(nil) {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		assert.Equal(t, want, kinds, env)
	}
}
