// Package deploy holds the production deployment files; its test checks docker-compose.yml with
// the compose-spec loader, because no Docker engine runs where the tests do.
package deploy_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/config"
)

func loadProject(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithWorkingDirectory(".."),
		cli.WithEnv([]string{}), // defaults from the file only, not this machine's environment
	)
	require.NoError(t, err)
	p, err := opts.LoadProject(context.Background())
	require.NoError(t, err, "docker-compose.yml must load under the compose spec")
	return p
}

func TestComposeServices(t *testing.T) {
	p := loadProject(t)
	want := []string{"postgres", "redis", "supertokens", "mailpit", "migrate", "hub1", "hub2", "worker", "nginx"}
	assert.ElementsMatch(t, want, p.ServiceNames())

	for _, name := range want {
		svc := p.Services[name]
		if name == "migrate" {
			assert.Nil(t, svc.HealthCheck, "a one-shot job needs no healthcheck")
			continue
		}
		if assert.NotNil(t, svc.HealthCheck, "%s needs a healthcheck", name) {
			assert.NotEmpty(t, svc.HealthCheck.Test, name)
			assert.False(t, svc.HealthCheck.Disable, name)
		}
	}
}

func TestComposeApplicationEnvironment(t *testing.T) {
	p := loadProject(t)
	known := map[string]bool{}
	for _, k := range config.Keys {
		known[config.EnvName(k.Name)] = true
	}
	for _, name := range []string{"migrate", "hub1", "hub2", "worker"} {
		svc := p.Services[name]
		assert.Equal(t, "p2p-sandbox-hub:latest", svc.Image, name)
		for key, value := range svc.Environment {
			if strings.HasPrefix(key, "P2P_") {
				assert.True(t, known[key], "%s sets %s, which is not a configuration key", name, key)
				require.NotNil(t, value, "%s: %s has no value", name, key)
			}
		}
		env := func(k string) string {
			if v := svc.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		assert.Equal(t, "production", env("P2P_ENV"), name)
		assert.Contains(t, env("P2P_POSTGRES_URL"), "@postgres:5432/", name)
		assert.Equal(t, "redis://redis:6379/0", env("P2P_REDIS_URL"), name)
		assert.Equal(t, "false", env("P2P_RUN_WORKER"), "%s: the worker runs as its own service", name)
		assert.Equal(t, "false", env("P2P_MIGRATE_ON_START"), "%s: migrate runs once, before the replicas", name)
		assert.Equal(t, "http://supertokens:3567", env("P2P_SUPERTOKENS_CONNECTION_URI"), "%s: production uses the real core", name)
		assert.Equal(t, *p.Services["supertokens"].Environment["API_KEYS"], env("P2P_SUPERTOKENS_API_KEY"), "%s: the core's key", name)
		assert.Equal(t, "mailpit", env("P2P_MAIL_SMTP_HOST"), name)

		// The values must pass the same validation the binary applies at start.
		var vars []string
		for k, v := range svc.Environment {
			if v != nil {
				vars = append(vars, k+"="+*v)
			}
		}
		_, err := config.Load("", vars)
		assert.NoError(t, err, "%s's environment must be a valid configuration", name)
	}

	for _, hub := range []string{"hub1", "hub2"} {
		deps := p.Services[hub].DependsOn
		assert.Equal(t, types.ServiceConditionCompletedSuccessfully, deps["migrate"].Condition, hub)
		assert.Equal(t, types.ServiceConditionHealthy, deps["redis"].Condition, hub)
		assert.Equal(t, types.ServiceConditionHealthy, deps["supertokens"].Condition, hub)
		assert.Equal(t, []string{"serve"}, []string(p.Services[hub].Command), hub)
	}
	assert.Equal(t, []string{"worker"}, []string(p.Services["worker"].Command))
	assert.Equal(t, []string{"migrate", "up"}, []string(p.Services["migrate"].Command))
}

func TestNginxIsStickyAndProxiesWebsockets(t *testing.T) {
	p := loadProject(t)
	nginx := p.Services["nginx"]
	assert.Equal(t, types.ServiceConditionHealthy, nginx.DependsOn["hub1"].Condition)
	assert.Equal(t, types.ServiceConditionHealthy, nginx.DependsOn["hub2"].Condition)

	conf, err := os.ReadFile("nginx.conf")
	require.NoError(t, err)
	text := string(conf)
	for _, want := range []string{"ip_hash;", "server hub1:8080", "server hub2:8080", "location /socket.io/",
		"proxy_set_header Upgrade $http_upgrade", "proxy_set_header Connection $connection_upgrade"} {
		assert.Contains(t, text, want)
	}
	var mounted bool
	for _, v := range nginx.Volumes {
		mounted = mounted || (strings.HasSuffix(v.Source, "deploy/nginx.conf") && v.Target == "/etc/nginx/nginx.conf")
	}
	assert.True(t, mounted, "nginx mounts deploy/nginx.conf")
}

func TestSupertokensCoreUsesPostgres(t *testing.T) {
	p := loadProject(t)
	st := p.Services["supertokens"]
	assert.Contains(t, st.Image, "supertokens-postgresql")
	require.NotNil(t, st.Environment["POSTGRESQL_CONNECTION_URI"])
	assert.Contains(t, *st.Environment["POSTGRESQL_CONNECTION_URI"], "@postgres:5432/supertokens")
	require.NotNil(t, st.Environment["API_KEYS"])
	assert.GreaterOrEqual(t, len(*st.Environment["API_KEYS"]), 20, "the real core wants API keys of 20 characters or more")
}
