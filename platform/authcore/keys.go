package authcore

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// keysLockID serialises key creation across nodes sharing the database (pg_advisory_xact_lock).
const keysLockID int64 = 0x7032700012

// rsaBits is the size of the core's signing keys, as in the real core.
const rsaBits = 2048

// keyReload bounds how long a node signs with a key after another node made a newer one
// (RotateSigningKey there): the signer re-reads the table this often. The JWKS keeps a replaced
// key this much longer than the access-token validity to cover those late tokens.
const keyReload = time.Minute

type signingKey struct {
	kid       string // "d-<uuid>" or "s-<uuid>"
	static    bool
	priv      *rsa.PrivateKey
	createdAt time.Time
}

// keyring caches the signing keys of the database. The database is the truth: several nodes
// share it, so a kid this node has not seen yet is looked up there before it is refused.
type keyring struct {
	pool     *pgxpool.Pool
	log      *slog.Logger
	now      func() time.Time
	rotation time.Duration
	atValid  time.Duration

	mu       sync.Mutex
	byKID    map[string]*signingKey
	dynamic  []*signingKey // oldest first
	static   *signingKey
	loadedAt time.Time // by the injected clock
}

func newKeyring(pool *pgxpool.Pool, cfg Config) *keyring {
	return &keyring{pool: pool, log: cfg.Log, now: cfg.Now, rotation: cfg.SigningKeyRotation,
		atValid: cfg.AccessTokenValidity, byKID: map[string]*signingKey{}}
}

// init loads the keys and creates the static key and a first dynamic key when missing.
func (k *keyring) init(ctx context.Context) error {
	if err := k.reload(ctx); err != nil {
		return err
	}
	k.mu.Lock()
	missing := k.static == nil || len(k.dynamic) == 0
	k.mu.Unlock()
	if missing {
		return k.create(ctx, false)
	}
	return nil
}

type keyRow struct {
	kid, kind, pem string
	created        time.Time
}

// reload reads the keys table and parses the keys not cached yet.
func (k *keyring) reload(ctx context.Context) error {
	rows, err := k.pool.Query(ctx, `SELECT kid, kind, private_pem, created_at FROM authcore.signing_keys`)
	if err != nil {
		return fmt.Errorf("loading signing keys: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (keyRow, error) {
		var kr keyRow
		err := r.Scan(&kr.kid, &kr.kind, &kr.pem, &kr.created)
		return kr, err
	})
	if err != nil {
		return fmt.Errorf("loading signing keys: %w", err)
	}

	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.loadedAt = now
	for _, r := range list {
		if _, ok := k.byKID[r.kid]; ok {
			continue
		}
		priv, err := parsePrivateKey(r.pem)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", r.kid, err)
		}
		key := &signingKey{kid: r.kid, static: r.kind == "s", priv: priv, createdAt: r.created}
		k.byKID[key.kid] = key
		if key.static {
			k.static = key
		} else {
			k.dynamic = append(k.dynamic, key)
		}
	}
	slices.SortFunc(k.dynamic, func(a, b *signingKey) int { return a.createdAt.Compare(b.createdAt) })
	return nil
}

// create adds the missing static key and a dynamic key when none is fresh (or always when
// force). It holds an advisory lock and re-reads the table first, so that nodes starting or
// rotating together create one key, not one each.
func (k *keyring) create(ctx context.Context, force bool) error {
	tx, err := k.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("creating signing key: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keysLockID); err != nil {
		return fmt.Errorf("creating signing key: lock: %w", err)
	}
	var hasStatic bool
	var newest *time.Time
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM authcore.signing_keys WHERE kind = 's'),
		(SELECT max(created_at) FROM authcore.signing_keys WHERE kind = 'd')`).Scan(&hasStatic, &newest)
	if err != nil {
		return fmt.Errorf("creating signing key: %w", err)
	}
	now := k.now()
	var kinds []string
	if !hasStatic {
		kinds = append(kinds, "s")
	}
	if force || newest == nil || now.Sub(*newest) >= k.rotation {
		kinds = append(kinds, "d")
	}
	for _, kind := range kinds {
		priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return fmt.Errorf("generating signing key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return fmt.Errorf("encoding signing key: %w", err)
		}
		pemText := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		kid := kind + "-" + uuid.NewString()
		// A forced key must be the newest even when the injected clock stands still.
		created := now
		if newest != nil && kind == "d" && !created.After(*newest) {
			created = newest.Add(time.Millisecond)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO authcore.signing_keys (kid, kind, private_pem, created_at)
			VALUES ($1, $2, $3, $4)`, kid, kind, pemText, created); err != nil {
			return fmt.Errorf("storing signing key: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("storing signing key: %w", err)
	}
	return k.reload(ctx)
}

// signers are the keys that sign new access tokens, one per kind.
type signers struct{ dynamic, static *signingKey }

func (s signers) pick(static bool) *signingKey {
	if static {
		return s.static
	}
	return s.dynamic
}

// current returns the signing keys, replacing the dynamic key first when it is older than the
// rotation period. It may read and write the database, so callers take the keys before they open
// a transaction: a transaction waiting for a second pooled connection can starve the pool.
func (k *keyring) current(ctx context.Context) (signers, error) {
	k.mu.Lock()
	stale := k.now().Sub(k.loadedAt) >= keyReload
	k.mu.Unlock()
	if stale {
		if err := k.reload(ctx); err != nil {
			return signers{}, err
		}
	}
	get := func() signers {
		k.mu.Lock()
		defer k.mu.Unlock()
		s := signers{static: k.static}
		if n := len(k.dynamic); n > 0 {
			s.dynamic = k.dynamic[n-1]
		}
		return s
	}
	s := get()
	if s.dynamic == nil || s.static == nil {
		return signers{}, errors.New("no signing key loaded")
	}
	if k.now().Sub(s.dynamic.createdAt) < k.rotation {
		return s, nil
	}
	if err := k.create(ctx, false); err != nil {
		return signers{}, err
	}
	return get(), nil
}

// lookup finds the key kid, reading the table again when this node does not know it (another
// node rotated).
func (k *keyring) lookup(ctx context.Context, kid string) (*signingKey, error) {
	k.mu.Lock()
	key := k.byKID[kid]
	k.mu.Unlock()
	if key != nil {
		return key, nil
	}
	if err := k.reload(ctx); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.byKID[kid], nil
}

// jwk is one entry of the JWKS; the SDK reads all six fields as strings.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// jwks lists the keys that may have signed a live access token: the static key, the newest
// dynamic key, and each older dynamic key until its successor is older than the access-token
// validity plus keyReload (the last token it signed has expired by then).
//
// A failed read of the table serves the cached keys: a JWKS that fails turns every SDK request
// that needs it into a 500, while the cache misses only keys made on other nodes since.
func (k *keyring) jwks(ctx context.Context) ([]jwk, error) {
	reloadErr := k.reload(ctx)
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	if reloadErr != nil {
		if len(k.byKID) == 0 {
			return nil, reloadErr
		}
		k.log.WarnContext(ctx, "authcore: serving cached signing keys", "err", reloadErr)
	}
	out := []jwk{}
	// Newest first: readers that try keys in order find the likely one first.
	for i := len(k.dynamic) - 1; i >= 0; i-- {
		if i == len(k.dynamic)-1 || now.Before(k.dynamic[i+1].createdAt.Add(k.atValid+keyReload)) {
			out = append(out, k.dynamic[i].jwk())
		}
	}
	if k.static != nil {
		out = append(out, k.static.jwk())
	}
	return out, nil
}

func (key *signingKey) jwk() jwk {
	pub := key.priv.PublicKey
	return jwk{Kty: "RSA", Kid: key.kid, N: b64.EncodeToString(pub.N.Bytes()),
		E: b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()), Alg: "RS256", Use: "sig"}
}

func parsePrivateKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	return priv, nil
}
