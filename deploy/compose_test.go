// Package deploy holds the production deployment files; its test checks docker-compose.yml with
// the compose-spec loader, because no Docker engine runs where the tests do.
package deploy_test

import (
	"context"
	"encoding/json"
	"net/url"
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
	want := []string{"postgres", "redis", "supertokens", "mailpit", "seaweedfs", "migrate", "blobs-bucket", "hub1", "hub2", "worker", "nginx"}
	assert.ElementsMatch(t, want, p.ServiceNames())

	for _, name := range want {
		svc := p.Services[name]
		if name == "migrate" || name == "blobs-bucket" {
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
	for _, name := range []string{"migrate", "blobs-bucket", "hub1", "hub2", "worker"} {
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
		assert.Equal(t, "s3", env("P2P_BLOB_BACKEND"), "%s: files live in SeaweedFS", name)

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
	for _, name := range []string{"hub1", "hub2", "worker"} {
		assert.Equal(t, types.ServiceConditionCompletedSuccessfully, p.Services[name].DependsOn["blobs-bucket"].Condition,
			"%s starts once its bucket exists", name)
	}
}

// TestSeaweedFSServesTheHubsBucket checks the object storage wiring: SeaweedFS runs its S3
// gateway on the port and under the name the hubs' and the worker's blob.s3_endpoint names (an
// alias on the project's network, published on the host for the browsers' presigned URLs), with
// exactly the hubs' key pair as its identity, so that it checks signatures; the bucket is created
// by a one-shot `p2p blobs ensure-bucket` once SeaweedFS is healthy.
func TestSeaweedFSServesTheHubsBucket(t *testing.T) {
	p := loadProject(t)
	sw := p.Services["seaweedfs"]
	assert.True(t, strings.HasPrefix(sw.Image, "chrislusf/seaweedfs:"), sw.Image)
	assert.NotEqual(t, "chrislusf/seaweedfs:latest", sw.Image, "a pinned version")
	cmd := []string(sw.Command)
	require.NotEmpty(t, cmd)
	assert.Equal(t, "server", cmd[0], "master, volume, filer and S3 in one process")
	assert.Contains(t, cmd, "-s3")
	assert.Contains(t, cmd, "-s3.port=8333")

	hub := p.Services["hub1"]
	env := func(svc types.ServiceConfig, k string) string {
		if v := svc.Environment[k]; v != nil {
			return *v
		}
		return ""
	}
	endpoint, err := url.Parse(env(hub, "P2P_BLOB_S3_ENDPOINT"))
	require.NoError(t, err)
	assert.Equal(t, "8333", endpoint.Port(), "the endpoint is the S3 gateway's port")
	require.NotNil(t, sw.Networks["default"])
	assert.Contains(t, sw.Networks["default"].Aliases, endpoint.Hostname(), "the endpoint's name resolves to SeaweedFS inside the network")
	var published bool
	for _, port := range sw.Ports {
		published = published || (port.Target == 8333 && port.Published == "8333")
	}
	assert.True(t, published, "browsers reach the same host:port")
	assert.Equal(t, "true", env(hub, "P2P_BLOB_S3_PATH_STYLE"))
	assert.NotEmpty(t, env(hub, "P2P_BLOB_S3_BUCKET"))
	for _, name := range []string{"hub2", "worker", "blobs-bucket"} {
		for _, k := range []string{"P2P_BLOB_BACKEND", "P2P_BLOB_S3_ENDPOINT", "P2P_BLOB_S3_BUCKET", "P2P_BLOB_S3_ACCESS_KEY", "P2P_BLOB_S3_SECRET_KEY"} {
			assert.Equal(t, env(hub, k), env(p.Services[name], k), "%s: %s as the hubs'", name, k)
		}
	}

	// The S3 identities: mounted where -s3.config points, the hubs' key pair, allowed to create
	// the bucket and to read and write.
	require.Len(t, sw.Configs, 1)
	assert.Contains(t, cmd, "-s3.config="+sw.Configs[0].Target)
	cfg, ok := p.Configs[sw.Configs[0].Source]
	require.True(t, ok)
	var s3cfg struct {
		Identities []struct {
			Name        string
			Credentials []struct{ AccessKey, SecretKey string }
			Actions     []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(cfg.Content), &s3cfg), "the S3 config is JSON:\n%s", cfg.Content)
	require.Len(t, s3cfg.Identities, 1, "one identity: anonymous requests are refused")
	id := s3cfg.Identities[0]
	require.Len(t, id.Credentials, 1)
	assert.Equal(t, env(hub, "P2P_BLOB_S3_ACCESS_KEY"), id.Credentials[0].AccessKey)
	assert.Equal(t, env(hub, "P2P_BLOB_S3_SECRET_KEY"), id.Credentials[0].SecretKey)
	assert.Subset(t, id.Actions, []string{"Admin", "Read", "List", "Write"})

	bucket := p.Services["blobs-bucket"]
	assert.Equal(t, "p2p-sandbox-hub:latest", bucket.Image)
	assert.Equal(t, []string{"blobs", "ensure-bucket", "--wait", "2m"}, []string(bucket.Command))
	assert.Equal(t, types.ServiceConditionHealthy, bucket.DependsOn["seaweedfs"].Condition)
	assert.Equal(t, "no", bucket.Restart)
	require.NotNil(t, sw.HealthCheck)
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
		"proxy_set_header Upgrade $http_upgrade", "proxy_set_header Connection $connection_upgrade",
		"location = /metrics {\n      return 404;"} { // metrics only for Prometheus, on the internal network
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

// TestComposeMongoProfile: MongoDB 7 runs only with the mongo profile; the hubs and the worker
// then wait for it to be healthy and reach it by P2P_MONGO_URL. Without the profile nothing
// points at it and the documents stay in PostgreSQL.
func TestComposeMongoProfile(t *testing.T) {
	plain := loadProject(t)
	assert.NotContains(t, plain.ServiceNames(), "mongo", "MongoDB is optional")
	for _, name := range []string{"hub1", "hub2", "worker"} {
		assert.Empty(t, *plain.Services[name].Environment["P2P_MONGO_URL"], "%s: PostgreSQL only by default", name)
	}

	const url = "mongodb://p2p:a-password@mongo:27017/?authSource=admin"
	opts, err := cli.NewProjectOptions([]string{"../docker-compose.yml"},
		cli.WithWorkingDirectory(".."),
		cli.WithEnv([]string{"P2P_MONGO_URL=" + url, "MONGO_PASSWORD=a-password"}),
		cli.WithProfiles([]string{"mongo"}),
	)
	require.NoError(t, err)
	p, err := opts.LoadProject(context.Background())
	require.NoError(t, err)
	mongo, ok := p.Services["mongo"]
	require.True(t, ok, "the mongo profile starts MongoDB")
	assert.Equal(t, "mongo:7", mongo.Image)
	assert.Equal(t, "a-password", *mongo.Environment["MONGO_INITDB_ROOT_PASSWORD"])
	assert.Equal(t, "p2p", *mongo.Environment["MONGO_INITDB_ROOT_USERNAME"])
	if assert.NotNil(t, mongo.HealthCheck) {
		assert.Contains(t, strings.Join(mongo.HealthCheck.Test, " "), "ping")
	}
	for _, name := range []string{"hub1", "hub2", "worker"} {
		svc := p.Services[name]
		assert.Equal(t, url, *svc.Environment["P2P_MONGO_URL"], name)
		assert.Equal(t, "p2p", *svc.Environment["P2P_MONGO_DATABASE"], name)
		dep, ok := svc.DependsOn["mongo"]
		if assert.True(t, ok, "%s waits for MongoDB", name) {
			assert.Equal(t, types.ServiceConditionHealthy, dep.Condition, name)
			assert.False(t, dep.Required, "%s: without the profile there is no mongo to wait for", name)
		}
		var vars []string
		for k, v := range svc.Environment {
			if v != nil {
				vars = append(vars, k+"="+*v)
			}
		}
		cfg, err := config.Load("", vars)
		require.NoError(t, err, "%s's environment must be a valid configuration", name)
		assert.Equal(t, url, cfg.Mongo.URL, name)
	}
}
