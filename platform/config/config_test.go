package config_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/config"
)

func TestDefaults(t *testing.T) {
	cfg, err := config.Load("", nil)
	require.NoError(t, err)
	assert.Equal(t, config.EnvDevelopment, cfg.Env)
	assert.Equal(t, ":8080", cfg.HTTP.Addr)
	assert.Equal(t, "text", cfg.Log.Format)
	assert.True(t, cfg.MigrateOnStart)
	assert.True(t, cfg.RunWorker)
	assert.Equal(t, 20*time.Second, cfg.HTTP.ShutdownTimeout)
	assert.Equal(t, []string{"http://localhost:5173", "http://localhost:3000"}, cfg.HTTP.CORSOrigins)
}

func TestLayering(t *testing.T) {
	file := filepath.Join(t.TempDir(), "p2p.yaml")
	require.NoError(t, os.WriteFile(file, []byte("http:\n  addr: \":9000\"\n  shutdown_timeout: 3s\nenv: production\nmail:\n  smtp_host: smtp.example\n"), 0o600))

	cfg, err := config.Load(file, []string{"P2P_HTTP_ADDR=:9100", "UNRELATED=x", "P2P_LOG_FORMAT="})
	require.NoError(t, err)
	assert.Equal(t, ":9100", cfg.HTTP.Addr, "environment overrides the file")
	assert.Equal(t, 3*time.Second, cfg.HTTP.ShutdownTimeout, "file overrides the default")
	assert.Equal(t, "json", cfg.Log.Format, "production logs JSON unless told otherwise")
}

func TestInvalidValues(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string // every fragment must appear in the error
	}{
		{"duration", []string{"P2P_HTTP_SHUTDOWN_TIMEOUT=soon"}, []string{"P2P_HTTP_SHUTDOWN_TIMEOUT", `"soon" is not a duration`}},
		{"duration out of range", []string{"P2P_HEALTH_CHECK_TIMEOUT=2h"}, []string{"P2P_HEALTH_CHECK_TIMEOUT", "out of range"}},
		{"integer", []string{"P2P_POSTGRES_MAX_CONNS=many"}, []string{"P2P_POSTGRES_MAX_CONNS", "not an integer"}},
		{"integer out of range", []string{"P2P_WORKER_CONCURRENCY=0"}, []string{"P2P_WORKER_CONCURRENCY", "out of range"}},
		{"boolean", []string{"P2P_RUN_WORKER=yes please"}, []string{"P2P_RUN_WORKER", "not a boolean"}},
		{"enum", []string{"P2P_ENV=staging"}, []string{"P2P_ENV", `"staging" is not one of development, test, production`}},
		{"log format", []string{"P2P_LOG_FORMAT=xml"}, []string{"P2P_LOG_FORMAT", "not one of text, json"}},
		{"postgres scheme", []string{"P2P_POSTGRES_URL=mysql://db/x"}, []string{"P2P_POSTGRES_URL", "postgres://"}},
		{"redis without host", []string{"P2P_REDIS_URL=redis://"}, []string{"P2P_REDIS_URL", "with a host"}},
		{"origin with path", []string{"P2P_HTTP_CORS_ORIGINS=http://a.example/app"}, []string{"P2P_HTTP_CORS_ORIGINS", "not an origin"}},
		{"pprof address", []string{"P2P_HTTP_PPROF_ADDR=localhost"}, []string{"P2P_HTTP_PPROF_ADDR", "not host:port"}},
		{"fan-out cluster seed", []string{"P2P_HUB_FANOUT_REDIS_CLUSTER=10.0.0.1:7000,redis-b"}, []string{"P2P_HUB_FANOUT_REDIS_CLUSTER", `"redis-b" is not host:port`}},
		{"wildcard origin", []string{"P2P_HTTP_CORS_ORIGINS=*"}, []string{"P2P_HTTP_CORS_ORIGINS", "not an origin"}},
		{"several at once", []string{"P2P_HTTP_MAX_BODY_BYTES=-1", "P2P_LOG_LEVEL=loud"},
			[]string{"P2P_HTTP_MAX_BODY_BYTES", "P2P_LOG_LEVEL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load("", tt.env)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestFanoutRedisCluster(t *testing.T) {
	cfg, err := config.Load("", nil)
	require.NoError(t, err)
	assert.Empty(t, cfg.Hub.FanoutRedisCluster, "by default broadcasts go through redis.url")

	cfg, err = config.Load("", []string{"P2P_HUB_FANOUT_REDIS_CLUSTER=10.0.0.1:7000, 10.0.0.2:7000,"})
	require.NoError(t, err)
	assert.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7000"}, cfg.Hub.FanoutRedisCluster)
}

func TestMissingValues(t *testing.T) {
	file := filepath.Join(t.TempDir(), "p2p.yaml")
	require.NoError(t, os.WriteFile(file, []byte("http:\n  addr: \"\"\npostgres:\n  url: \"\"\n"), 0o600))
	_, err := config.Load(file, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "P2P_HTTP_ADDR (http.addr): is required")
	assert.Contains(t, err.Error(), "P2P_POSTGRES_URL (postgres.url): is required")
}

func TestUnreadableFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "absent.yaml"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "absent.yaml")
}

// TestEnvExampleDocumentsEveryKey keeps .env.example in step with the key table: every key
// appears with its default, and nothing else does.
func TestEnvExampleDocumentsEveryKey(t *testing.T) {
	f, err := os.Open("../../.env.example")
	require.NoError(t, err)
	defer f.Close()
	documented := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		require.True(t, ok, "line %q", line)
		documented[name] = value
	}
	require.NoError(t, sc.Err())
	for _, k := range config.Keys {
		value, ok := documented[config.EnvName(k.Name)]
		if assert.True(t, ok, "%s is missing from .env.example", config.EnvName(k.Name)) {
			assert.Equal(t, k.Default, value, "%s in .env.example", config.EnvName(k.Name))
		}
		delete(documented, config.EnvName(k.Name))
	}
	assert.Empty(t, documented, ".env.example names keys that do not exist")
}
