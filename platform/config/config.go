// Package config loads and validates the process configuration.
//
// Values are layered: built-in defaults < an optional config file < environment variables named
// P2P_<KEY> (dots become underscores, so http.addr is P2P_HTTP_ADDR). Every key is parsed and
// checked before anything starts; all problems are reported at once, each naming its key.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Environment names.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// Config is the validated configuration of a process.
type Config struct {
	Env            string
	MigrateOnStart bool
	RunWorker      bool

	Log      Log
	HTTP     HTTP
	Postgres Postgres
	Redis    Redis
	Health   Health
	Worker   Worker
	App      App
	Auth     Auth
	Mail     Mail
	Hub      Hub
	Blob     Blob
	Notify   Notify
	Forum    Forum
	Export   Export
	Events   Events
	Media    Media
	Mongo    Mongo
}

// Mongo configures the optional MongoDB document store of use cases (issue 16): with a URL, the
// use cases' whole documents live in MongoDB and PostgreSQL keeps their projection; without one,
// everything stays in PostgreSQL.
type Mongo struct {
	URL              string // mongodb:// or mongodb+srv://; empty: no MongoDB
	Database         string // empty: the database named in URL's path
	ConnectTimeout   time.Duration
	OperationTimeout time.Duration
	MaxPoolSize      int
}

// Media configures direct uploads (domain/media): the largest file per kind, how long presigned
// URLs work and how long an upload may stay attached to nothing.
type Media struct {
	ImageBytes, VideoBytes, DocumentBytes int64
	URLTTL, UnattachedTTL                 time.Duration
	Retention                             time.Duration // files of deleted content are kept this long
}

// Events configures the events area (domain/calendar).
type Events struct {
	ReminderLead time.Duration // attendees are reminded this long before an event starts
}

// Export configures exports (PDF, Excel, CSV made in the background).
type Export struct {
	PerHour  int           // exports one user may request in a burst, refilled evenly over an hour
	LinkTTL  time.Duration // how long a download link works
	Chromium string        // the headless browser that prints PDFs; empty: chromium on PATH
	Timeout  time.Duration // one export's time limit
}

// Forum configures the forum.
type Forum struct {
	// PostsPerMinute is how many topics and replies one user may post in a burst, refilled
	// evenly over a minute.
	PostsPerMinute int
}

// Notify configures notifications.
type Notify struct {
	EmailDelay time.Duration // unread this long while offline: mailed in the next digest
	// Gather is how long new messages are gathered into one notification per conversation.
	Gather time.Duration
}

// Blob configures file storage.
type Blob struct {
	Backend string // disk | s3
	Dir     string // local-disk storage root (the disk backend; the source of `p2p blobs migrate`)
	// PresignSecret signs the disk backend's presigned URLs (HMAC-SHA256); every node shares it.
	// Empty: a random secret per process (URLs do not survive a restart nor reach another node).
	PresignSecret string
	S3            S3
}

// S3 configures the S3 backend of file storage (AWS S3 or an S3-compatible server).
type S3 struct {
	Endpoint  string // empty: AWS's own endpoint for Region
	Region    string
	Bucket    string
	Prefix    string // prepended to every key, so that one bucket can hold several deployments
	AccessKey string // empty: the SDK's default credential chain (environment, instance role)
	SecretKey string
	PathStyle bool   // bucket in the path, as self-hosted servers (SeaweedFS, MinIO) want
	SSE       string // server-side encryption: "" | AES256 | aws:kms
	KMSKeyID  string // with SSE aws:kms: the key; empty: the bucket's default key
}

// App names the public addresses of the product.
type App struct {
	Name          string
	APIDomain     string // where the browser reaches this API (SuperTokens apiDomain)
	WebsiteDomain string // where the React app runs (links in mail point there)
}

// Auth configures SuperTokens and its embedded core.
type Auth struct {
	ConnectionURI        string // empty: start the embedded core (platform/authcore) in-process
	APIKey               string // sent to the core; required by the standalone authcore when set
	CoreAddr             string // listen address of `p2p authcore`
	CookieSecure         bool
	CookieSameSite       string // lax | strict | none
	AntiCSRF             string // NONE | VIA_TOKEN | VIA_CUSTOM_HEADER
	AccessTokenValidity  time.Duration
	RefreshTokenValidity time.Duration
	SigningKeyRotation   time.Duration
	BcryptCost           int
	SignInMaxAttempts    int // failed sign-ins per account and per IP within SignInWindow
	SignInWindow         time.Duration
	ResendInterval       time.Duration // minimum time between two verification mails to one user
	// Moderators are the addresses of the platform's first moderators (domain/identity
	// moderation.go); moderators grant the role to others.
	Moderators []string
}

// Mail configures outgoing mail.
type Mail struct {
	SMTPHost     string
	SMTPPort     int
	SMTPUser     string
	SMTPPassword string
	From         string
	OutboxDir    string // development only: every mail is also written here as an .eml file
}

// Hub configures the Socket.IO hub; it is the hub's own configuration (realtime.Config).
type Hub struct {
	PingInterval   time.Duration
	PingTimeout    time.Duration
	MaxPayload     int
	ConnectTimeout time.Duration
	// CORSOrigins are the browser origins allowed to connect: http.cors_origins.
	CORSOrigins []string
	EventRate   int // client events per second per socket
	EventBurst  int
	TypingTTL   time.Duration
	// PresenceTTL bounds how long the users of a crashed node stay online.
	PresenceTTL   time.Duration
	DrainBatch    int
	DrainInterval time.Duration
	// ResumeTTL is how long the rooms of a disconnected tab are kept for its reconnect
	// (default 2 minutes).
	ResumeTTL time.Duration
	// MaxSocketsPerUser bounds one user's open sockets across nodes (tabs and devices); 0 is no
	// bound.
	MaxSocketsPerUser int
	// FanoutRedisCluster, when set, are seed addresses (host:port) of a Redis Cluster that
	// carries the broadcasts between hub nodes (and from workers) by sharded pub/sub, rooms
	// spread over its shards. Empty: they go through redis.url by PUBLISH/SUBSCRIBE.
	FanoutRedisCluster []string
}

// Log configures log/slog.
type Log struct {
	Level  string // debug | info | warn | error
	Format string // text | json
}

// HTTP configures the single serve port.
type HTTP struct {
	Addr              string
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration
	MaxBodyBytes      int64
	CORSOrigins       []string
	TrustedProxies    []string
	PprofAddr         string // net/http/pprof on its own listener; empty: off
	// MetricsToken, when set, is the bearer token /metrics asks for on the serve port. Without
	// one /metrics is open outside production and absent in production (scrape worker.addr).
	MetricsToken string
	// DevEndpoints serves the development endpoints (/dev/outbox); refused in production.
	DevEndpoints bool
}

// Postgres configures the pgx pool.
type Postgres struct {
	URL      string
	MaxConns int
}

// Redis configures go-redis.
type Redis struct {
	URL    string
	Prefix string // prefix of every key the application writes (asynq and the adapter keep their own)
}

// Health configures the readiness probe.
type Health struct {
	CheckTimeout time.Duration
}

// Worker configures the asynq server and scheduler.
type Worker struct {
	Addr            string // health and metrics port of `p2p worker`
	Concurrency     int
	Queue           string
	CleanupInterval time.Duration
}

// Production reports whether the process runs in production.
func (c Config) Production() bool { return c.Env == EnvProduction }

// Key describes one configuration key: its default and what it means. Keys is the single list
// that defaults, .env.example and the docs are checked against.
type Key struct {
	Name    string
	Default string
	Doc     string
}

// Keys lists every configuration key.
var Keys = []Key{
	{"env", EnvDevelopment, "development | test | production"},
	{"migrate_on_start", "true", "apply pending SQL migrations when serve starts"},
	{"run_worker", "true", "run the asynq worker and scheduler inside serve"},
	{"log.level", "info", "debug | info | warn | error"},
	{"log.format", "", "text | json; empty means text in development and test, json in production"},
	{"http.addr", ":8080", "listen address of the serve port"},
	{"http.read_header_timeout", "5s", "time allowed to read request headers"},
	{"http.read_timeout", "60s", "time allowed to read a whole request"},
	{"http.idle_timeout", "120s", "keep-alive idle timeout"},
	{"http.shutdown_timeout", "20s", "how long in-flight requests may run after SIGTERM"},
	{"http.max_body_bytes", "1048576", "largest request body accepted by default (bytes)"},
	{"http.cors_origins", "http://localhost:5173,http://localhost:3000", "comma-separated origins allowed by CORS (REST, auth and the hub)"},
	{"http.trusted_proxies", "", "comma-separated addresses or CIDR networks of the proxies whose X-Forwarded-For is believed (the client is its right-most address outside them); empty trusts none; every address (0.0.0.0/0, ::/0) is refused in production"},
	{"http.pprof_addr", "", "listen address of net/http/pprof (keep it on loopback); empty: off"},
	{"http.metrics_token", "", "bearer token /metrics asks for on the serve port (Prometheus authorization); empty: /metrics is open outside production and not served on the serve port in production (a standalone worker serves it on worker.addr)"},
	{"http.dev_endpoints", "false", "serve the development endpoints (/dev/outbox, the mails the outbox sender wrote); refused in production"},
	{"postgres.url", "postgres://postgres@127.0.0.1:5432/p2p?sslmode=disable", "PostgreSQL connection URL"},
	{"postgres.max_conns", "20", "pgx pool size"},
	{"redis.url", "redis://127.0.0.1:6379/0", "Redis connection URL"},
	{"redis.prefix", "p2p:", "prefix of the application's Redis keys"},
	{"health.check_timeout", "500ms", "timeout of each readiness check"},
	{"app.name", "P2P Sandbox Hub", "product name used in mail"},
	{"app.api_domain", "http://localhost:8080", "public origin of this API (SuperTokens apiDomain)"},
	{"app.website_domain", "http://localhost:5173", "public origin of the React app; mail links point there"},
	{"supertokens.connection_uri", "", "SuperTokens core URI(s), ';'-separated; empty starts the embedded Go core in-process"},
	{"supertokens.api_key", "", "API key sent to the core (and required by `p2p authcore` when set)"},
	{"auth.core_addr", "127.0.0.1:3567", "listen address of the standalone core (p2p authcore)"},
	{"auth.cookie_secure", "false", "mark session cookies Secure (true behind HTTPS)"},
	{"auth.cookie_same_site", "lax", "lax | strict | none"},
	{"auth.anti_csrf", "NONE", "NONE | VIA_TOKEN | VIA_CUSTOM_HEADER (cookie mode)"},
	{"auth.access_token_validity", "1h", "access token lifetime (embedded core)"},
	{"auth.refresh_token_validity", "2400h", "refresh token lifetime (embedded core)"},
	{"auth.signing_key_rotation", "168h", "how often the embedded core rotates its signing key"},
	{"auth.bcrypt_cost", "11", "bcrypt cost of password hashes (embedded core)"},
	{"auth.signin_max_attempts", "5", "failed sign-ins allowed per account and per IP within the window"},
	{"auth.signin_window", "15m", "window of the sign-in attempt limit"},
	{"auth.resend_interval", "60s", "minimum time between two verification mails to one user"},
	{"auth.moderators", "", "addresses of the platform's moderators, comma-separated: granted the role at start and at sign-in"},
	{"mail.smtp_host", "", "SMTP server host; empty (development only) keeps mail in the outbox"},
	{"mail.smtp_port", "1025", "SMTP server port"},
	{"mail.smtp_user", "", "SMTP user (empty: no authentication)"},
	{"mail.smtp_password", "", "SMTP password"},
	{"mail.from", "P2P Sandbox Hub <no-reply@p2p.local>", "sender address"},
	{"mail.outbox_dir", "var/outbox", "development and test only: every mail is also written here as .eml"},
	{"hub.ping_interval", "25s", "Engine.IO ping interval"},
	{"hub.ping_timeout", "20s", "Engine.IO ping timeout"},
	{"hub.max_payload", "1000000", "largest Engine.IO message (bytes)"},
	{"hub.connect_timeout", "3s", "close connections whose namespace CONNECT does not arrive in time"},
	{"hub.event_rate", "20", "client events per second allowed per socket"},
	{"hub.event_burst", "40", "burst of client events allowed per socket"},
	{"hub.typing_ttl", "6s", "typing indicators expire without a refresh after this"},
	{"hub.presence_ttl", "60s", "a node's presence entries expire after this without a heartbeat"},
	{"hub.drain_batch", "500", "sockets disconnected per batch on shutdown"},
	{"hub.drain_interval", "200ms", "pause between drain batches"},
	{"hub.max_sockets_per_user", "30", "open sockets one user may hold across nodes (tabs and devices)"},
	{"hub.fanout_redis_cluster", "", "comma-separated host:port seeds of a Redis Cluster that carries the hub's broadcasts between nodes and from workers by sharded pub/sub (SPUBLISH/SSUBSCRIBE, rooms spread over the shards); every hub and worker process must set the same; empty: broadcasts go through redis.url"},
	{"blob.dir", "var/blobs", "root directory of the local-disk file storage (uploads, avatars, logos)"},
	{"blob.backend", "disk", "file storage: disk (blob.dir, presigned URLs served by the hub under /blobs/) | s3"},
	{"blob.presign_secret", "", "HMAC key (32+ bytes) of the disk backend's presigned URLs, the same on every node; empty: random per process (set it when more than one node serves)"},
	{"blob.s3_endpoint", "", "S3 endpoint URL (an S3-compatible server such as SeaweedFS); empty: AWS's endpoint for the region"},
	{"blob.s3_region", "us-east-1", "S3 region"},
	{"blob.s3_bucket", "", "S3 bucket (required with blob.backend=s3)"},
	{"blob.s3_prefix", "", "prefix of every object key in the bucket (e.g. prod/); per-kind prefixes follow it"},
	{"blob.s3_access_key", "", "S3 access key id; empty: the AWS SDK's default credential chain"},
	{"blob.s3_secret_key", "", "S3 secret access key"},
	{"blob.s3_path_style", "false", "address the bucket in the path (self-hosted servers) instead of the host name"},
	{"blob.s3_sse", "", "server-side encryption of stored objects: empty (none) | AES256 | aws:kms"},
	{"blob.s3_kms_key_id", "", "KMS key of blob.s3_sse=aws:kms; empty: the bucket's default key"},
	{"worker.addr", ":9091", "health and metrics port of a standalone worker (p2p worker)"},
	{"worker.concurrency", "10", "asynq handler concurrency"},
	{"worker.queue", "default", "asynq queue the worker serves and enqueues to"},
	{"worker.cleanup_interval", "10m", "how often expired rows are removed"},
	{"notify.email_delay", "10m", "a notification left unread this long by a user who is not online is mailed (batched per window)"},
	{"notify.gather", "100ms", "messages sent within this long after the first fold into one notification per conversation"},
	{"forum.posts_per_minute", "10", "topics and replies one user may post in a burst, refilled evenly over a minute (then 429)"},
	{"export.per_hour", "20", "exports one user may request in a burst, refilled evenly over an hour (then 429)"},
	{"export.link_ttl", "15m", "how long an export's download link works"},
	{"export.chromium", "", "path of the headless Chromium that prints PDF exports; empty finds chromium on PATH"},
	{"export.timeout", "2m", "an export running longer than this fails"},
	{"events.reminder_lead", "1h", "attendees of an event are reminded this long before it starts"},
	{"media.image_max_mb", "20", "largest image a user may upload directly (MB)"},
	{"media.video_max_mb", "200", "largest video a user may upload directly (MB)"},
	{"media.document_max_mb", "50", "largest document (PDF) a user may upload directly (MB)"},
	{"media.url_ttl", "15m", "how long a presigned upload or download URL works"},
	{"media.unattached_ttl", "24h", "an upload attached to nothing this long is deleted"},
	{"media.retention", "720h", "the files of deleted content (a use case's images) are deleted this long after it"},
	{"mongo.url", "", "MongoDB connection URL (mongodb:// or mongodb+srv://); set, use case documents live there and PostgreSQL keeps their projection; empty: PostgreSQL only"},
	{"mongo.database", "", "MongoDB database of the documents; empty: the one named in mongo.url's path"},
	{"mongo.connect_timeout", "5s", "longest wait to connect to MongoDB and to choose a server"},
	{"mongo.operation_timeout", "5s", "longest wait for one MongoDB operation"},
	{"mongo.max_pool_size", "100", "most connections held to each MongoDB server"},
}

// EnvName returns the environment variable that sets key.
func EnvName(key string) string {
	return "P2P_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Load reads the configuration. file may be empty. env is the process environment as
// os.Environ returns it; passing it in keeps Load free of global state.
func Load(file string, env []string) (Config, error) {
	v := viper.New()
	for _, k := range Keys {
		v.SetDefault(k.Name, k.Default)
	}
	if file != "" {
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("config: reading %s: %w", file, err)
		}
	}
	// Environment last: it overrides the file. Read from the given slice, not os.Getenv.
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if name, value, ok := strings.Cut(kv, "="); ok {
			vars[name] = value
		}
	}
	for _, k := range Keys {
		if value, ok := vars[EnvName(k.Name)]; ok && value != "" {
			v.Set(k.Name, value)
		}
	}

	p := parser{v: v}
	cfg := Config{
		Env:            p.oneOf("env", EnvDevelopment, EnvTest, EnvProduction),
		MigrateOnStart: p.boolean("migrate_on_start"),
		RunWorker:      p.boolean("run_worker"),
		Log: Log{
			Level:  p.oneOf("log.level", "debug", "info", "warn", "error"),
			Format: p.optionalOneOf("log.format", "text", "json"),
		},
		HTTP: HTTP{
			Addr:              p.required("http.addr"),
			ReadHeaderTimeout: p.duration("http.read_header_timeout", time.Millisecond, time.Hour),
			ReadTimeout:       p.duration("http.read_timeout", time.Millisecond, time.Hour),
			IdleTimeout:       p.duration("http.idle_timeout", time.Millisecond, time.Hour),
			ShutdownTimeout:   p.duration("http.shutdown_timeout", time.Millisecond, time.Hour),
			MaxBodyBytes:      int64(p.integer("http.max_body_bytes", 1024, 1<<30)),
			CORSOrigins:       p.origins("http.cors_origins"),
			TrustedProxies:    p.proxies("http.trusted_proxies"),
			PprofAddr:         p.optionalHostPort("http.pprof_addr"),
			MetricsToken:      p.raw("http.metrics_token"),
			DevEndpoints:      p.boolean("http.dev_endpoints"),
		},
		Postgres: Postgres{
			URL:      p.url("postgres.url", "postgres", "postgresql"),
			MaxConns: p.integer("postgres.max_conns", 1, 1000),
		},
		Redis:  Redis{URL: p.url("redis.url", "redis", "rediss"), Prefix: p.required("redis.prefix")},
		Health: Health{CheckTimeout: p.duration("health.check_timeout", time.Millisecond, time.Minute)},
		Worker: Worker{
			Addr:            p.required("worker.addr"),
			Concurrency:     p.integer("worker.concurrency", 1, 1000),
			Queue:           p.required("worker.queue"),
			CleanupInterval: p.duration("worker.cleanup_interval", time.Second, 24*time.Hour),
		},
	}
	cfg.App = App{
		Name:          p.required("app.name"),
		APIDomain:     p.origin("app.api_domain"),
		WebsiteDomain: p.origin("app.website_domain"),
	}
	cfg.Auth = Auth{
		ConnectionURI:        p.raw("supertokens.connection_uri"),
		APIKey:               p.raw("supertokens.api_key"),
		CoreAddr:             p.required("auth.core_addr"),
		CookieSecure:         p.boolean("auth.cookie_secure"),
		CookieSameSite:       p.oneOf("auth.cookie_same_site", "lax", "strict", "none"),
		AntiCSRF:             p.oneOf("auth.anti_csrf", "NONE", "VIA_TOKEN", "VIA_CUSTOM_HEADER"),
		AccessTokenValidity:  p.duration("auth.access_token_validity", time.Minute, 24*time.Hour),
		RefreshTokenValidity: p.duration("auth.refresh_token_validity", time.Hour, 10*365*24*time.Hour),
		SigningKeyRotation:   p.duration("auth.signing_key_rotation", time.Hour, 365*24*time.Hour),
		BcryptCost:           p.integer("auth.bcrypt_cost", 4, 15),
		SignInMaxAttempts:    p.integer("auth.signin_max_attempts", 1, 1000),
		SignInWindow:         p.duration("auth.signin_window", time.Second, 24*time.Hour),
		ResendInterval:       p.duration("auth.resend_interval", 0, 24*time.Hour),
		Moderators:           p.emails("auth.moderators"),
	}
	if key := cfg.Auth.APIKey; key != "" && !validAPIKey(key) {
		p.fail("supertokens.api_key", "must be at least 20 characters of A-Z, a-z, 0-9, '=' and '-'")
	}
	if cfg.Auth.CookieSameSite == "none" && !cfg.Auth.CookieSecure {
		p.fail("auth.cookie_same_site", "none needs auth.cookie_secure=true (browsers drop the cookie otherwise)")
	}
	cfg.Mail = Mail{
		SMTPHost:     p.raw("mail.smtp_host"),
		SMTPPort:     p.integer("mail.smtp_port", 1, 65535),
		SMTPUser:     p.raw("mail.smtp_user"),
		SMTPPassword: p.raw("mail.smtp_password"),
		From:         p.address("mail.from"),
		OutboxDir:    p.raw("mail.outbox_dir"),
	}
	if cfg.HTTP.DevEndpoints && cfg.Env == EnvProduction {
		p.fail("http.dev_endpoints", "development endpoints are not served in production")
	}
	if cfg.Mail.SMTPHost == "" && cfg.Env == EnvProduction {
		p.fail("mail.smtp_host", "is required in production")
	}
	cfg.Hub = Hub{
		PingInterval:      p.duration("hub.ping_interval", time.Second, 10*time.Minute),
		PingTimeout:       p.duration("hub.ping_timeout", time.Second, 10*time.Minute),
		MaxPayload:        p.integer("hub.max_payload", 1024, 100<<20),
		ConnectTimeout:    p.duration("hub.connect_timeout", 100*time.Millisecond, time.Minute),
		CORSOrigins:       cfg.HTTP.CORSOrigins,
		EventRate:         p.integer("hub.event_rate", 1, 10000),
		EventBurst:        p.integer("hub.event_burst", 1, 10000),
		TypingTTL:         p.duration("hub.typing_ttl", time.Second, time.Minute),
		PresenceTTL:       p.duration("hub.presence_ttl", 5*time.Second, time.Hour),
		DrainBatch:        p.integer("hub.drain_batch", 1, 100000),
		DrainInterval:     p.duration("hub.drain_interval", 0, time.Minute),
		MaxSocketsPerUser: p.integer("hub.max_sockets_per_user", 1, 1_000_000),
	}
	cfg.Hub.FanoutRedisCluster = p.list("hub.fanout_redis_cluster")
	for _, addr := range cfg.Hub.FanoutRedisCluster {
		if host, port, err := net.SplitHostPort(addr); err != nil || host == "" || port == "" {
			p.fail("hub.fanout_redis_cluster", "%q is not host:port", addr)
		}
	}
	cfg.Blob = Blob{
		Backend:       p.oneOf("blob.backend", "disk", "s3"),
		Dir:           p.required("blob.dir"),
		PresignSecret: p.raw("blob.presign_secret"),
		S3: S3{
			Endpoint:  p.raw("blob.s3_endpoint"),
			Region:    p.required("blob.s3_region"),
			Bucket:    p.raw("blob.s3_bucket"),
			Prefix:    p.raw("blob.s3_prefix"),
			AccessKey: p.raw("blob.s3_access_key"),
			SecretKey: p.raw("blob.s3_secret_key"),
			PathStyle: p.boolean("blob.s3_path_style"),
			SSE:       p.optionalOneOf("blob.s3_sse", "AES256", "aws:kms"),
			KMSKeyID:  p.raw("blob.s3_kms_key_id"),
		},
	}
	if cfg.Blob.S3.Endpoint != "" {
		cfg.Blob.S3.Endpoint = p.url("blob.s3_endpoint", "http", "https")
	}
	switch {
	case cfg.Blob.Backend == "s3" && cfg.Blob.S3.Bucket == "":
		p.fail("blob.s3_bucket", "is required with blob.backend=s3")
	case cfg.Blob.Backend == "s3" && (cfg.Blob.S3.AccessKey == "") != (cfg.Blob.S3.SecretKey == ""):
		p.fail("blob.s3_secret_key", "the access key and the secret key are set together")
	case cfg.Blob.PresignSecret != "" && len(cfg.Blob.PresignSecret) < 32:
		p.fail("blob.presign_secret", "must be at least 32 bytes")
	}
	cfg.Notify = Notify{
		EmailDelay: p.duration("notify.email_delay", time.Second, 24*time.Hour),
		Gather:     p.duration("notify.gather", 0, time.Hour),
	}
	cfg.Forum = Forum{PostsPerMinute: p.integer("forum.posts_per_minute", 1, 10_000)}
	cfg.Export = Export{
		PerHour:  p.integer("export.per_hour", 1, 100_000),
		LinkTTL:  p.duration("export.link_ttl", 10*time.Second, 7*24*time.Hour),
		Chromium: p.raw("export.chromium"),
		Timeout:  p.duration("export.timeout", time.Second, time.Hour),
	}
	cfg.Events = Events{ReminderLead: p.duration("events.reminder_lead", time.Minute, 7*24*time.Hour)}
	cfg.Media = Media{
		ImageBytes:    int64(p.integer("media.image_max_mb", 1, 100)) << 20,
		VideoBytes:    int64(p.integer("media.video_max_mb", 1, 10_000)) << 20,
		DocumentBytes: int64(p.integer("media.document_max_mb", 1, 1_000)) << 20,
		URLTTL:        p.duration("media.url_ttl", time.Minute, 7*24*time.Hour),
		UnattachedTTL: p.duration("media.unattached_ttl", time.Hour, 30*24*time.Hour),
		Retention:     p.duration("media.retention", 0, 10*365*24*time.Hour),
	}
	cfg.Mongo = Mongo{
		URL:              p.raw("mongo.url"),
		Database:         p.raw("mongo.database"),
		ConnectTimeout:   p.duration("mongo.connect_timeout", 100*time.Millisecond, 5*time.Minute),
		OperationTimeout: p.duration("mongo.operation_timeout", 100*time.Millisecond, 10*time.Minute),
		MaxPoolSize:      p.integer("mongo.max_pool_size", 1, 10_000),
	}
	if u := cfg.Mongo.URL; u != "" && !strings.HasPrefix(u, "mongodb://") && !strings.HasPrefix(u, "mongodb+srv://") {
		// Not quoted: the URL may carry a password.
		p.fail("mongo.url", "must be a mongodb:// or mongodb+srv:// URL")
	}
	if cfg.Log.Format == "" {
		cfg.Log.Format = "text"
		if cfg.Production() {
			cfg.Log.Format = "json"
		}
	}
	if err := errors.Join(p.errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parser reads keys and collects one error per bad key.
type parser struct {
	v    *viper.Viper
	errs []error
}

func (p *parser) fail(key, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("config: %s (%s): %s", EnvName(key), key, fmt.Sprintf(format, args...)))
}

func (p *parser) raw(key string) string {
	return strings.TrimSpace(p.v.GetString(key))
}

// optionalHostPort is empty or a listen address with a port.
func (p *parser) optionalHostPort(key string) string {
	s := p.raw(key)
	if s == "" {
		return s
	}
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		p.fail(key, "%q is not host:port", s)
	}
	return s
}

func (p *parser) required(key string) string {
	s := p.raw(key)
	if s == "" {
		p.fail(key, "is required")
	}
	return s
}

func (p *parser) oneOf(key string, allowed ...string) string {
	s := p.required(key)
	if s == "" {
		return s
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.fail(key, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return ""
}

func (p *parser) optionalOneOf(key string, allowed ...string) string {
	if p.raw(key) == "" {
		return ""
	}
	return p.oneOf(key, allowed...)
}

func (p *parser) boolean(key string) bool {
	s := p.required(key)
	if s == "" {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		p.fail(key, "%q is not a boolean (true or false)", s)
	}
	return b
}

func (p *parser) integer(key string, lo, hi int) int {
	s := p.required(key)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.fail(key, "%q is not an integer", s)
		return 0
	}
	if n < lo || n > hi {
		p.fail(key, "%d is out of range [%d, %d]", n, lo, hi)
	}
	return n
}

func (p *parser) duration(key string, lo, hi time.Duration) time.Duration {
	s := p.required(key)
	if s == "" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		p.fail(key, "%q is not a duration (for example 500ms, 30s, 10m)", s)
		return 0
	}
	if d < lo || d > hi {
		p.fail(key, "%s is out of range [%s, %s]", d, lo, hi)
	}
	return d
}

func (p *parser) url(key string, schemes ...string) string {
	s := p.required(key)
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		p.fail(key, "is not a URL: %v", err)
		return ""
	}
	for _, scheme := range schemes {
		if u.Scheme == scheme && u.Host != "" {
			return s
		}
	}
	p.fail(key, "must be a %s:// URL with a host", strings.Join(schemes, ":// or "))
	return ""
}

func (p *parser) origin(key string) string {
	s := p.required(key)
	if s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		p.fail(key, "%q is not an origin (scheme://host[:port])", s)
		return ""
	}
	return strings.TrimSuffix(s, "/")
}

func (p *parser) address(key string) string {
	s := p.required(key)
	if s == "" {
		return s
	}
	if _, err := mail.ParseAddress(s); err != nil {
		p.fail(key, "%q is not a mail address: %v", s, err)
		return ""
	}
	return s
}

func validAPIKey(key string) bool {
	for _, k := range strings.Split(key, ",") {
		if len(k) < 20 {
			return false
		}
		for _, r := range k {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '=' || r == '-') {
				return false
			}
		}
	}
	return true
}

func (p *parser) list(key string) []string {
	var out []string
	for _, item := range strings.Split(p.raw(key), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// emails is a list of addresses.
func (p *parser) emails(key string) []string {
	out := p.list(key)
	for _, e := range out {
		if at := strings.LastIndexByte(e, '@'); at < 1 || at == len(e)-1 || strings.ContainsAny(e, " <>") {
			p.fail(key, "%q is not an email address", e)
		}
	}
	return out
}

// proxies are the trusted proxies: addresses or CIDR networks. A network of every address lets
// any client name its own address in X-Forwarded-For (Gin takes the right-most address that is
// not a trusted proxy, and then there is none), which defeats the per-address sign-in limit:
// production refuses it.
func (p *parser) proxies(key string) []string {
	out := p.list(key)
	for _, s := range out {
		if ip := net.ParseIP(s); ip != nil {
			continue
		}
		_, network, err := net.ParseCIDR(s)
		if err != nil {
			p.fail(key, "%q is neither an IP address nor a CIDR network", s)
			continue
		}
		if ones, _ := network.Mask.Size(); ones == 0 && p.raw("env") == EnvProduction {
			p.fail(key, "%q trusts every address, so any client could choose its own; name the load balancer's address or network", s)
		}
	}
	return out
}

func (p *parser) origins(key string) []string {
	out := p.list(key)
	for _, o := range out {
		// No "*": the session cookies need credentialed CORS, which browsers refuse with a wildcard.
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			p.fail(key, "%q is not an origin (scheme://host[:port])", o)
		}
	}
	return out
}
