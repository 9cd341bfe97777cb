package mongo_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/p2psandbox/hub/platform/mongo"
	"github.com/p2psandbox/hub/platform/mongo/mongotest"
)

func TestMain(m *testing.M) { mongotest.Main(m) }

// TestOpen: a client on the configured database answers the readiness check, and every command
// it sends is measured by name and outcome.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	db, url := mongotest.Database(t)
	reg := prometheus.NewRegistry()
	metrics := mongo.NewMetrics(reg)

	c, err := mongo.Open(ctx, mongo.Config{URL: url, MaxPoolSize: 4, OperationTimeout: 10 * time.Second}, metrics)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	assert.Equal(t, db.Name(), c.Database().Name(), "the database is taken from the URL's path")
	require.NoError(t, c.Ping(ctx))

	_, err = c.Database().Collection("things").InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}})
	require.NoError(t, err)
	_, err = c.Database().Collection("things").InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}})
	require.Error(t, err, "a duplicate _id")

	assert.GreaterOrEqual(t, observations(t, reg, "ping", "ok"), uint64(2), "Open's ping and the readiness check")
	// A write error (duplicate key) is an ok reply at the protocol level: the server answered.
	assert.Equal(t, uint64(2), observations(t, reg, "insert", "ok"))

	named, err := mongo.Open(ctx, mongo.Config{URL: mongotest.URL(t), Database: db.Name()}, nil)
	require.NoError(t, err, "the database named in the configuration, without metrics")
	_ = named.Close(ctx)
}

// TestOpenFails: no URL, a URL without a database, a server that is not there (refused within the
// connect timeout, not the driver's 30 s), and credentials kept out of the errors.
func TestOpenFails(t *testing.T) {
	ctx := context.Background()
	_, err := mongo.Open(ctx, mongo.Config{}, nil)
	require.Error(t, err)

	_, err = mongo.Open(ctx, mongo.Config{URL: "mongodb://user:secret@127.0.0.1:1/"}, nil)
	require.ErrorContains(t, err, "no database")
	assert.NotContains(t, err.Error(), "secret")

	_, err = mongo.Open(ctx, mongo.Config{URL: "mongodb://user:secret@[bad"}, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	start := time.Now()
	_, err = mongo.Open(ctx, mongo.Config{URL: "mongodb://user:secret@" + addr + "/db", ConnectTimeout: 300 * time.Millisecond}, nil)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.False(t, strings.Contains(err.Error(), "secret"), err.Error())
	assert.Contains(t, err.Error(), addr)
}

// observations is the number of commands of one name and outcome the histogram saw.
func observations(t *testing.T, reg *prometheus.Registry, command, outcome string) uint64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != "mongo_command_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["command"] == command && labels["outcome"] == outcome {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}
