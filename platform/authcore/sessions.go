package authcore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// tokenInfo is the SDK's token object T.
type tokenInfo struct {
	Token       string `json:"token"`
	Expiry      int64  `json:"expiry"`      // ms
	CreatedTime int64  `json:"createdTime"` // ms
}

// sessionInfo is the SDK's session object S.
type sessionInfo struct {
	Handle        string          `json:"handle"`
	UserID        string          `json:"userId"`
	UserDataInJWT json.RawMessage `json:"userDataInJWT"`
	TenantID      string          `json:"tenantId"`
}

type sessionRow struct {
	handle, userID, tenant, rtHash2 string
	jwtData, dbData                 json.RawMessage
	expiresAt, createdAt            time.Time
	useStaticKey                    bool
}

func (s *sessionRow) info() sessionInfo {
	return sessionInfo{Handle: s.handle, UserID: s.userID, UserDataInJWT: s.jwtData, TenantID: s.tenant}
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// loadSession reads a live session; with lock the row stays locked until q (a transaction) ends,
// which serialises refreshes and promotions of one session. Nil means no such live session.
func (c *Core) loadSession(ctx context.Context, q queryRower, handle string, lock bool) (*sessionRow, error) {
	sql := `SELECT handle, user_id, tenant, rt_hash2, jwt_data, db_data, expires_at, created_at, use_static_key
		FROM authcore.sessions WHERE handle = $1 AND expires_at > $2`
	if lock {
		sql += ` FOR UPDATE`
	}
	var s sessionRow
	var jwtData, dbData []byte
	err := q.QueryRow(ctx, sql, handle, c.now()).Scan(&s.handle, &s.userID, &s.tenant, &s.rtHash2,
		&jwtData, &dbData, &s.expiresAt, &s.createdAt, &s.useStaticKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading session: %w", err)
	}
	s.jwtData, s.dbData = jwtData, dbData
	return &s, nil
}

// issueAccessToken completes t with the current times (keeping a set expiry) and signs it.
func (c *Core) issueAccessToken(t *accessToken, key *signingKey, now time.Time) (tokenInfo, error) {
	if t.exp == 0 {
		t.exp = now.Add(c.cfg.AccessTokenValidity).Unix()
	}
	t.iat = now.Unix()
	signed, err := t.sign(key)
	if err != nil {
		return tokenInfo{}, err
	}
	return tokenInfo{Token: signed, Expiry: t.exp * 1000, CreatedTime: now.UnixMilli()}, nil
}

func (c *Core) issueRefreshToken(claims refreshClaims, now time.Time) (tokenInfo, error) {
	token, err := c.sealer.seal(claims)
	if err != nil {
		return tokenInfo{}, fmt.Errorf("sealing refresh token: %w", err)
	}
	return tokenInfo{Token: token, Expiry: now.Add(c.cfg.RefreshTokenValidity).UnixMilli(), CreatedTime: now.UnixMilli()}, nil
}

func newAntiCSRF(enabled bool) *string {
	if !enabled {
		return nil
	}
	s := uuid.NewString()
	return &s
}

// POST /{t}/recipe/session {userId, userDataInJWT, userDataInDatabase, enableAntiCsrf, useDynamicSigningKey}
func (c *Core) createSession(ctx context.Context, r *request) (any, error) {
	userID := r.body.str("userId")
	jwtData, dbData := r.body.object("userDataInJWT"), r.body.object("userDataInDatabase")
	enableAntiCSRF := r.body.boolean("enableAntiCsrf", false)
	dynamic := r.body.boolean("useDynamicSigningKey", true)
	if err := r.done(); err != nil {
		return nil, err
	}
	custom, err := customClaims(jwtData)
	if err != nil {
		return nil, err
	}
	keys, err := c.keys.current(ctx)
	if err != nil {
		return nil, err
	}
	now := c.now()
	handle := uuid.NewString()
	anti := newAntiCSRF(enableAntiCSRF)
	rt, err := c.issueRefreshToken(refreshClaims{SessionHandle: handle, UserID: userID, Tenant: r.tenant, AntiCSRF: anti}, now)
	if err != nil {
		return nil, err
	}
	at, err := c.issueAccessToken(&accessToken{userID: userID, tenant: r.tenant, sessionHandle: handle,
		rtHash1: hash(rt.Token), antiCSRF: anti, custom: custom}, keys.pick(!dynamic), now)
	if err != nil {
		return nil, err
	}
	_, err = c.pool.Exec(ctx, `INSERT INTO authcore.sessions
		(handle, user_id, tenant, rt_hash2, jwt_data, db_data, expires_at, created_at, use_static_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		handle, userID, r.tenant, hash(hash(rt.Token)), jwtData, dbData, time.UnixMilli(rt.Expiry), now, !dynamic)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	s := sessionInfo{Handle: handle, UserID: userID, UserDataInJWT: jwtData, TenantID: r.tenant}
	return ok("session", s, "accessToken", at, "refreshToken", rt, "antiCsrfToken", anti), nil
}

// checkAccessToken parses raw and checks its signature, and its expiry when checkExpiry.
func (c *Core) checkAccessToken(ctx context.Context, raw string, checkExpiry bool) (*accessToken, error) {
	t, signingInput, sig, err := parseAccessToken(raw)
	if err != nil {
		return nil, err
	}
	key, err := c.keys.lookup(ctx, t.kid)
	if err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errBadToken
	}
	if err := verifySignature(&key.priv.PublicKey, signingInput, sig); err != nil {
		return nil, err
	}
	if checkExpiry && t.exp*1000 <= c.now().UnixMilli() {
		return nil, errExpiredToken
	}
	return t, nil
}

var errExpiredToken = errors.New("access token expired")

func (t *accessToken) info() (sessionInfo, error) {
	custom, err := json.Marshal(t.custom)
	if err != nil {
		return sessionInfo{}, err
	}
	return sessionInfo{Handle: t.sessionHandle, UserID: t.userID, UserDataInJWT: custom, TenantID: t.tenant}, nil
}

// POST /recipe/session/verify {accessToken, antiCsrfToken?, doAntiCsrfCheck, enableAntiCsrf, checkDatabase}
//
// The SDK calls this only for a token that still names its parent refresh token (the first use of
// a refreshed token, which commits the refresh) or when a route asks to check the database.
func (c *Core) verifySession(ctx context.Context, r *request) (any, error) {
	raw, anti := r.body.str("accessToken"), r.body.optStr("antiCsrfToken")
	doAntiCSRF := r.body.boolean("doAntiCsrfCheck", false)
	enableAntiCSRF := r.body.boolean("enableAntiCsrf", false)
	checkDB := r.body.boolean("checkDatabase", false)
	if err := r.done(); err != nil {
		return nil, err
	}
	t, err := c.checkAccessToken(ctx, raw, true)
	if errors.Is(err, errBadToken) || errors.Is(err, errExpiredToken) {
		return status("TRY_REFRESH_TOKEN", "message", err.Error()), nil
	}
	if err != nil {
		return nil, err
	}
	if enableAntiCSRF && doAntiCSRF && (anti == nil || t.antiCSRF == nil || *anti != *t.antiCSRF) {
		return status("TRY_REFRESH_TOKEN", "message", "anti-csrf check failed"), nil
	}
	fromToken, err := t.info()
	if err != nil {
		return nil, err
	}
	if t.parentRTHash1 == nil && !checkDB {
		return ok("session", fromToken), nil
	}
	keys, err := c.keys.current(ctx)
	if err != nil {
		return nil, err
	}

	var resp map[string]any
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		s, err := c.loadSession(ctx, tx, t.sessionHandle, true)
		if err != nil {
			return err
		}
		if s == nil {
			resp = status("UNAUTHORISED", "message", "Either the session has ended or has been blacklisted")
			return nil
		}
		needsUpdate := checkDB && !sameJSON(t.custom, s.jwtData)
		if t.parentRTHash1 == nil && !needsUpdate {
			resp = ok("session", fromToken)
			return nil
		}
		now := c.now()
		promote := t.parentRTHash1 != nil && s.rtHash2 == hash(*t.parentRTHash1)
		if !promote && s.rtHash2 != hash(t.rtHash1) && !needsUpdate {
			// A token of a refresh that lost to another: valid until it expires, never promoted.
			resp = ok("session", fromToken)
			return nil
		}
		if promote {
			if _, err := tx.Exec(ctx, `UPDATE authcore.sessions SET rt_hash2 = $2, expires_at = $3 WHERE handle = $1`,
				s.handle, hash(t.rtHash1), now.Add(c.cfg.RefreshTokenValidity)); err != nil {
				return fmt.Errorf("committing refresh: %w", err)
			}
		}
		custom, err := customClaims(s.jwtData)
		if err != nil {
			return err
		}
		at, err := c.issueAccessToken(&accessToken{userID: s.userID, tenant: s.tenant, sessionHandle: s.handle,
			rtHash1: t.rtHash1, antiCSRF: t.antiCSRF, custom: custom}, keys.pick(s.useStaticKey), now)
		if err != nil {
			return err
		}
		resp = ok("session", s.info(), "accessToken", at)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify session: %w", err)
	}
	return resp, nil
}

// POST /recipe/session/refresh {refreshToken, antiCsrfToken?, enableAntiCsrf, useDynamicSigningKey}
//
// A refresh issues a child token but commits nothing: the child replaces its parent when it is
// first used (here, or through verify with the access token issued alongside). Presenting a token
// older than the committed one is theft; the core reports it and the SDK revokes the session.
func (c *Core) refreshSession(ctx context.Context, r *request) (any, error) {
	rt, anti := r.body.str("refreshToken"), r.body.optStr("antiCsrfToken")
	enableAntiCSRF := r.body.boolean("enableAntiCsrf", false)
	dynamic := r.body.boolean("useDynamicSigningKey", true)
	if err := r.done(); err != nil {
		return nil, err
	}
	claims, err := c.sealer.open(rt)
	if err != nil {
		return status("UNAUTHORISED", "message", "Invalid refresh token"), nil
	}
	if enableAntiCSRF && claims.AntiCSRF != nil && (anti == nil || *anti != *claims.AntiCSRF) {
		return status("UNAUTHORISED", "message", "Anti CSRF token missing, or not matching"), nil
	}
	keys, err := c.keys.current(ctx)
	if err != nil {
		return nil, err
	}

	var resp map[string]any
	err = pgx.BeginFunc(ctx, c.pool, func(tx pgx.Tx) error {
		s, err := c.loadSession(ctx, tx, claims.SessionHandle, true)
		if err != nil {
			return err
		}
		if s == nil {
			resp = status("UNAUTHORISED", "message", "Session missing in db or has expired")
			return nil
		}
		now := c.now()
		rtHash1 := hash(rt)
		if s.rtHash2 != hash(rtHash1) {
			if claims.ParentRTHash1 == nil || hash(*claims.ParentRTHash1) != s.rtHash2 {
				resp = status("TOKEN_THEFT_DETECTED", "session", map[string]string{"handle": s.handle, "userId": s.userID})
				return nil
			}
			// rt is the uncommitted child of the committed token: commit it.
			s.rtHash2 = hash(rtHash1)
			s.expiresAt = now.Add(c.cfg.RefreshTokenValidity)
		}
		// The SDK sends its key setting with every refresh: a session follows it from here on.
		s.useStaticKey = !dynamic
		if _, err := tx.Exec(ctx, `UPDATE authcore.sessions SET rt_hash2 = $2, expires_at = $3, use_static_key = $4
			WHERE handle = $1`, s.handle, s.rtHash2, s.expiresAt, s.useStaticKey); err != nil {
			return fmt.Errorf("updating session: %w", err)
		}
		anti2 := newAntiCSRF(enableAntiCSRF)
		child, err := c.issueRefreshToken(refreshClaims{SessionHandle: s.handle, UserID: s.userID, Tenant: s.tenant,
			ParentRTHash1: &rtHash1, AntiCSRF: anti2}, now)
		if err != nil {
			return err
		}
		custom, err := customClaims(s.jwtData)
		if err != nil {
			return err
		}
		at, err := c.issueAccessToken(&accessToken{userID: s.userID, tenant: s.tenant, sessionHandle: s.handle,
			rtHash1: hash(child.Token), parentRTHash1: &rtHash1, antiCSRF: anti2, custom: custom}, keys.pick(s.useStaticKey), now)
		if err != nil {
			return err
		}
		resp = ok("session", s.info(), "accessToken", at, "refreshToken", child, "antiCsrfToken", anti2)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("refresh session: %w", err)
	}
	return resp, nil
}

// POST /recipe/session/regenerate {accessToken, userDataInJWT}
//
// Replaces the session's custom claims and re-signs the caller's token with them, keeping its
// expiry. The SDK has verified the token; the signature is checked again, the expiry is not (an
// expired token gets no new token, and the client refreshes).
func (c *Core) regenerateSession(ctx context.Context, r *request) (any, error) {
	raw, data := r.body.str("accessToken"), r.body.object("userDataInJWT")
	if err := r.done(); err != nil {
		return nil, err
	}
	custom, err := customClaims(data)
	if err != nil {
		return nil, err
	}
	t, err := c.checkAccessToken(ctx, raw, false)
	if errors.Is(err, errBadToken) {
		return status("UNAUTHORISED", "message", err.Error()), nil
	}
	if err != nil {
		return nil, err
	}
	now := c.now()
	var useStatic bool
	err = c.pool.QueryRow(ctx, `UPDATE authcore.sessions SET jwt_data = $2 WHERE handle = $1 AND expires_at > $3
		RETURNING use_static_key`, t.sessionHandle, data, now).Scan(&useStatic)
	if errors.Is(err, pgx.ErrNoRows) {
		return status("UNAUTHORISED", "message", "Session does not exist."), nil
	}
	if err != nil {
		return nil, fmt.Errorf("regenerate session: %w", err)
	}
	s := sessionInfo{Handle: t.sessionHandle, UserID: t.userID, UserDataInJWT: data, TenantID: t.tenant}
	if t.exp*1000 <= now.UnixMilli() {
		return ok("session", s), nil
	}
	keys, err := c.keys.current(ctx)
	if err != nil {
		return nil, err
	}
	t.custom = custom
	at, err := c.issueAccessToken(t, keys.pick(useStatic), now)
	if err != nil {
		return nil, err
	}
	return ok("session", s, "accessToken", at), nil
}

// POST /recipe/session/remove {sessionHandles} or POST /{t}/recipe/session/remove
// {userId, revokeAcrossAllTenants?}; an absent flag means every tenant, which the SDK relies on.
func (c *Core) removeSessions(ctx context.Context, r *request) (any, error) {
	handles, byHandles := r.body.strings("sessionHandles")
	userID := r.body.optStr("userId")
	across := r.body.boolean("revokeAcrossAllTenants", true)
	if err := r.done(); err != nil {
		return nil, err
	}
	var rows pgx.Rows
	var err error
	switch {
	case byHandles == (userID != nil):
		return nil, badRequest("Invalid JSON input - use one of userId or sessionHandles array")
	case byHandles:
		rows, err = c.pool.Query(ctx, `DELETE FROM authcore.sessions WHERE handle = ANY($1) RETURNING handle`, handles)
	default:
		rows, err = c.pool.Query(ctx, `DELETE FROM authcore.sessions WHERE user_id = $1 AND ($2 OR tenant = $3)
			RETURNING handle`, *userID, across, r.tenant)
	}
	revoked, err := collectStrings(rows, err)
	if err != nil {
		return nil, fmt.Errorf("remove sessions: %w", err)
	}
	return ok("sessionHandlesRevoked", revoked), nil
}

// GET /recipe/session?sessionHandle=
func (c *Core) getSession(ctx context.Context, r *request) (any, error) {
	handle := r.query.str("sessionHandle")
	if err := r.done(); err != nil {
		return nil, err
	}
	s, err := c.loadSession(ctx, c.pool, handle, false)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return status("UNAUTHORISED", "message", "Session does not exist."), nil
	}
	return ok("sessionHandle", s.handle, "userId", s.userID, "userDataInDatabase", s.dbData,
		"expiry", s.expiresAt.UnixMilli(), "timeCreated", s.createdAt.UnixMilli(),
		"userDataInJWT", s.jwtData, "tenantId", s.tenant), nil
}

// GET /{t}/recipe/session/user?userId=&fetchAcrossAllTenants=
func (c *Core) sessionHandlesForUser(ctx context.Context, r *request) (any, error) {
	userID := r.query.str("userId")
	across := r.query.boolean("fetchAcrossAllTenants", true)
	if err := r.done(); err != nil {
		return nil, err
	}
	handles, err := collectStrings(c.pool.Query(ctx, `SELECT handle FROM authcore.sessions
		WHERE user_id = $1 AND expires_at > $2 AND ($3 OR tenant = $4) ORDER BY created_at`,
		userID, c.now(), across, r.tenant))
	if err != nil {
		return nil, fmt.Errorf("session handles: %w", err)
	}
	return ok("sessionHandles", handles), nil
}

// PUT /recipe/session/data {sessionHandle, userDataInDatabase}
func (c *Core) updateSessionData(ctx context.Context, r *request) (any, error) {
	handle, data := r.body.str("sessionHandle"), r.body.object("userDataInDatabase")
	if err := r.done(); err != nil {
		return nil, err
	}
	return c.updateSessionColumn(ctx, "db_data", handle, data)
}

// PUT /recipe/jwt/data {sessionHandle, userDataInJWT}: clients see the change at their next
// refresh, or at a verify that checks the database.
func (c *Core) updateJWTData(ctx context.Context, r *request) (any, error) {
	handle, data := r.body.str("sessionHandle"), r.body.object("userDataInJWT")
	if err := r.done(); err != nil {
		return nil, err
	}
	if _, err := customClaims(data); err != nil {
		return nil, err
	}
	return c.updateSessionColumn(ctx, "jwt_data", handle, data)
}

func (c *Core) updateSessionColumn(ctx context.Context, column, handle string, data json.RawMessage) (any, error) {
	tag, err := c.pool.Exec(ctx, `UPDATE authcore.sessions SET `+column+` = $2 WHERE handle = $1 AND expires_at > $3`,
		handle, data, c.now())
	if err != nil {
		return nil, fmt.Errorf("update session %s: %w", column, err)
	}
	if tag.RowsAffected() == 0 {
		return status("UNAUTHORISED", "message", "Session does not exist."), nil
	}
	return ok(), nil
}

// sameJSON compares the claims of a token with the stored claims as JSON values.
func sameJSON(claims map[string]json.RawMessage, stored json.RawMessage) bool {
	a, err := json.Marshal(claims)
	if err != nil {
		return false
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(stored, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// collectStrings reads one text column; never nil, so that it encodes as [] (the SDK asserts a list).
func collectStrings(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if list == nil {
		list = []string{}
	}
	return list, err
}
