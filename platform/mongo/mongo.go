// Package mongo connects to MongoDB (or a server speaking its wire protocol, such as FerretDB)
// through mongo-driver v2, for the optional document-store backend. PostgreSQL stays the system
// of record; this package only opens, checks and measures the connection.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"
)

// Defaults for the zero values of Config.
const (
	DefaultConnectTimeout   = 5 * time.Second
	DefaultOperationTimeout = 5 * time.Second
	DefaultMaxPoolSize      = 100
)

// Config says where the server is and how long to wait for it.
type Config struct {
	// URL is a mongodb:// or mongodb+srv:// connection string.
	URL string
	// Database is the database the stores use; empty takes the one named in URL's path.
	Database string
	// ConnectTimeout bounds dialling a server and also choosing one (server selection): the
	// driver's default of 30 s for the latter would hold /health/ready and every request for
	// half a minute while the server is down.
	ConnectTimeout time.Duration
	// OperationTimeout bounds each operation (the driver's client-side timeout) when the caller's
	// context has no earlier deadline.
	OperationTimeout time.Duration
	// MaxPoolSize is the most connections held to each server.
	MaxPoolSize int
}

func (c Config) withDefaults() Config {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.OperationTimeout <= 0 {
		c.OperationTimeout = DefaultOperationTimeout
	}
	if c.MaxPoolSize <= 0 {
		c.MaxPoolSize = DefaultMaxPoolSize
	}
	return c
}

// Client is a connected client and the database the stores use.
type Client struct {
	client *mongo.Client
	db     *mongo.Database
}

// Open connects to cfg.URL and checks that the server answers, so that a wrong URL fails at start
// rather than on the first request. m records every command's duration; it may be nil.
func Open(ctx context.Context, cfg Config, m *Metrics) (*Client, error) {
	if cfg.URL == "" {
		return nil, errors.New("mongo: no URL")
	}
	cs, err := connstring.ParseAndValidate(cfg.URL)
	if err != nil {
		// The error quotes the URL, password included: say only that it is invalid.
		return nil, errors.New("mongo: the URL is not a valid connection string")
	}
	cfg = cfg.withDefaults()
	if cfg.Database == "" {
		cfg.Database = cs.Database
	}
	if cfg.Database == "" {
		return nil, fmt.Errorf("mongo: no database: name one in the configuration or in the URL's path (%s)", Redact(cs))
	}
	opts := options.Client().ApplyURI(cfg.URL).
		SetConnectTimeout(cfg.ConnectTimeout).
		SetServerSelectionTimeout(cfg.ConnectTimeout).
		SetTimeout(cfg.OperationTimeout).
		SetMaxPoolSize(uint64(cfg.MaxPoolSize)).
		SetAppName("p2p")
	if m != nil {
		opts.SetMonitor(m.monitor())
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: configuring a client for %s: %w", Redact(cs), err)
	}
	c := &Client{client: client, db: client.Database(cfg.Database)}
	if err := c.Ping(ctx); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("mongo: connecting to %s: %w", Redact(cs), err)
	}
	return c, nil
}

// Database is the database the stores use.
func (c *Client) Database() *mongo.Database { return c.db }

// Ping is the readiness check: the primary answers a ping within ctx (or OperationTimeout).
// Its signature is that of rest.HealthCheck's Check.
func (c *Client) Ping(ctx context.Context) error {
	if err := c.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

// Close ends the client's connections, waiting for operations in flight until ctx ends.
func (c *Client) Close(ctx context.Context) error {
	if err := c.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: disconnecting: %w", err)
	}
	return nil
}

// Redact names the hosts and database of a connection string without its credentials, for logs
// and errors.
func Redact(cs *connstring.ConnString) string {
	scheme := cs.Scheme
	if scheme == "" {
		scheme = connstring.SchemeMongoDB
	}
	hosts := ""
	for i, h := range cs.Hosts {
		if i > 0 {
			hosts += ","
		}
		hosts += h
	}
	return scheme + "://" + hosts + "/" + cs.Database
}
