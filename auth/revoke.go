package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/supertokens/supertokens-golang/recipe/session/sessmodels"
	"github.com/supertokens/supertokens-golang/supertokens"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

// Revocations ends access before the access token does. SuperTokens access tokens are stateless:
// revoking a session in the core stops its refreshes, but the token in hand stays valid until it
// expires (an hour). So every revocation (sign-out, password reset, deactivation, removal) and
// every role change is written to Redis and published; each node keeps the whole list in memory
// and consults it on every token check, which stays a map read (docs/auth.md "Revocation").
//
// Entries live as long as a token issued before them can: the access token validity. A node that
// starts, or whose subscription was broken, reloads the list from Redis, and reloads it every
// resync interval in any case, so a lost publish delays a revocation on that node by at most that.
type Revocations struct {
	rdb     goredis.UniversalClient
	key     string // hash: "s:<handle>" → expiry; "r:<user>" → expiry|role,role
	channel string
	keep    time.Duration
	log     *slog.Logger
	now     func() time.Time

	mu       sync.RWMutex
	sessions map[string]int64    // ended session handle → when it can be forgotten (unix)
	roles    map[string]rolesNow // user → roles since the last change
	watchers []func(Change)
}

type rolesNow struct {
	roles []string
	until int64
}

// Change is one revocation or role change, as published between nodes and handed to watchers.
type Change struct {
	// UserID is whose access changed; empty when only the session handles are known (sign-out).
	UserID string `json:"u,omitempty"`
	// Sessions are the session handles that ended. Empty for a role change.
	Sessions []string `json:"s,omitempty"`
	// Roles are the user's roles from now on, for a role change.
	Roles []string `json:"r,omitempty"`
}

// Ended reports whether the change ends sessions (rather than changing roles).
func (c Change) Ended() bool { return len(c.Sessions) > 0 }

// revocationResync is how often a node reloads the whole list, in case a publish was lost.
const revocationResync = 30 * time.Second

// NewRevocations keeps the list under prefix in rdb. keep is the access token validity.
func NewRevocations(rdb goredis.UniversalClient, prefix string, keep time.Duration, log *slog.Logger) *Revocations {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Revocations{
		rdb: rdb, key: prefix + "auth:revoked", channel: prefix + "auth:revocations",
		keep: keep + time.Minute, log: log, now: time.Now,
		sessions: map[string]int64{}, roles: map[string]rolesNow{},
	}
}

// Watch calls fn for every change, on whichever node made it: the hub disconnects the ended
// sessions' sockets and gives open sockets their new roles. Call it before Start.
func (r *Revocations) Watch(fn func(Change)) {
	r.mu.Lock()
	r.watchers = append(r.watchers, fn)
	r.mu.Unlock()
}

// Start loads the list and follows other nodes' changes until ctx ends. It returns once the
// subscription is confirmed, so that nothing revoked after it returns is missed.
func (r *Revocations) Start(ctx context.Context) error {
	ps := r.rdb.Subscribe(ctx, r.channel)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := ps.Receive(sctx); err != nil {
		_ = ps.Close()
		return fmt.Errorf("auth: subscribing to revocations: %w", err)
	}
	if err := r.reload(sctx); err != nil {
		_ = ps.Close()
		return err
	}
	go r.follow(ctx, ps)
	return nil
}

func (r *Revocations) follow(ctx context.Context, ps *goredis.PubSub) {
	defer ps.Close()
	tick := time.NewTicker(revocationResync)
	defer tick.Stop()
	// Subscription messages arrive again after go-redis resubscribes on a new connection:
	// whatever was published in between is in the hash, so reload then.
	ch := ps.ChannelWithSubscriptions(goredis.WithChannelSize(1024))
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.reloadLogged(ctx)
		case m, ok := <-ch:
			if !ok {
				return
			}
			switch m := m.(type) {
			case *goredis.Subscription:
				r.reloadLogged(ctx)
			case *goredis.Message:
				var c Change
				if err := json.Unmarshal([]byte(m.Payload), &c); err != nil {
					r.log.Warn("unreadable revocation", "err", err)
					continue
				}
				r.apply(c, r.now().Add(r.keep).Unix())
			}
		}
	}
}

func (r *Revocations) reloadLogged(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := r.reload(ctx); err != nil {
		r.log.Warn("reloading revocations", "err", err)
	}
}

// reload replaces the in-memory list with Redis's, dropping entries that no longer matter. It
// only adds to what watchers have seen: entries come from changes they were told about (or that
// happened while this node was away, when there were no sockets of theirs here).
func (r *Revocations) reload(ctx context.Context) error {
	all, err := r.rdb.HGetAll(ctx, r.key).Result()
	if err != nil {
		return fmt.Errorf("auth: loading revocations: %w", err)
	}
	now := r.now().Unix()
	sessions, roles := map[string]int64{}, map[string]rolesNow{}
	var stale []string
	for field, v := range all {
		until, rest, _ := strings.Cut(v, "|")
		exp, err := strconv.ParseInt(until, 10, 64)
		if err != nil || exp < now {
			stale = append(stale, field)
			continue
		}
		switch kind, id, _ := strings.Cut(field, ":"); kind {
		case "s":
			sessions[id] = exp
		case "r":
			roles[id] = rolesNow{roles: splitRoles(rest), until: exp}
		}
	}
	if len(stale) > 0 {
		if err := r.rdb.HDel(ctx, r.key, stale...).Err(); err != nil {
			r.log.Warn("forgetting old revocations", "err", err)
		}
	}
	r.mu.Lock()
	r.sessions, r.roles = sessions, roles
	r.mu.Unlock()
	return nil
}

func splitRoles(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// apply records c in memory and tells the watchers.
func (r *Revocations) apply(c Change, until int64) {
	r.mu.Lock()
	for _, h := range c.Sessions {
		r.sessions[h] = until
	}
	if !c.Ended() && c.UserID != "" {
		r.roles[c.UserID] = rolesNow{roles: c.Roles, until: until}
	}
	watchers := slices.Clone(r.watchers)
	r.mu.Unlock()
	for _, w := range watchers {
		w(c)
	}
}

// End records that the sessions ended and tells every node.
func (r *Revocations) End(ctx context.Context, userID string, handles []string) error {
	if len(handles) == 0 {
		return nil
	}
	until := r.now().Add(r.keep).Unix()
	fields := make([]any, 0, 2*len(handles))
	for _, h := range handles {
		fields = append(fields, "s:"+h, strconv.FormatInt(until, 10))
	}
	return r.publish(ctx, Change{UserID: userID, Sessions: handles}, until, fields)
}

// SetRoles records the user's roles from now on and tells every node: tokens that carry other
// roles are refused as expired, so that the client refreshes into the new ones.
func (r *Revocations) SetRoles(ctx context.Context, userID string, roles []string) error {
	until := r.now().Add(r.keep).Unix()
	v := strconv.FormatInt(until, 10) + "|" + strings.Join(roles, ",")
	return r.publish(ctx, Change{UserID: userID, Roles: roles}, until, []any{"r:" + userID, v})
}

func (r *Revocations) publish(ctx context.Context, c Change, until int64, fields []any) error {
	payload, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("auth: encoding a revocation: %w", err)
	}
	// This node applies it at once: the answer to the request that revoked must already hold.
	r.apply(c, until)
	_, err = r.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, r.key, fields...)
		p.Publish(ctx, r.channel, payload)
		return nil
	})
	if err != nil {
		return &errs.Error{Code: errs.Unavailable, Message: "access could not be revoked on every server; try again",
			Err: fmt.Errorf("auth: publishing a revocation: %w", err)}
	}
	return nil
}

// ErrSessionEnded answers a token of a session that was signed out or revoked.
var ErrSessionEnded = &errs.Error{Code: errs.Unauthenticated, Message: "this session has ended; sign in again"}

// Check refuses a principal whose session ended, and asks one whose roles changed to refresh.
// Auth's token checks call it; a transport with its own authenticator can too.
func (r *Revocations) Check(p identity.Principal) error {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	_, ended := r.sessions[p.SessionHandle]
	now, changed := r.roles[p.UserID]
	r.mu.RUnlock()
	switch {
	case ended:
		return ErrSessionEnded
	case changed && !sameRoles(now.roles, p.Roles):
		return identity.ErrTokenExpired
	}
	return nil
}

func sameRoles(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// revokingSessions makes every way the SDK ends sessions (sign-out, a password reset, the
// domain's RevokeSessions) end them on every node too.
func (r *Revocations) revokingSessions(orig sessmodels.RecipeInterface) sessmodels.RecipeInterface {
	one, all, some := *orig.RevokeSession, *orig.RevokeAllSessionsForUser, *orig.RevokeMultipleSessions
	revokeOne := func(handle string, uc supertokens.UserContext) (bool, error) {
		ok, err := one(handle, uc)
		if err == nil && ok {
			err = r.End(contextOf(uc), "", []string{handle})
		}
		return ok, err
	}
	revokeAll := func(userID, tenantID string, acrossTenants *bool, uc supertokens.UserContext) ([]string, error) {
		handles, err := all(userID, tenantID, acrossTenants, uc)
		if err == nil {
			err = r.End(contextOf(uc), userID, handles)
		}
		return handles, err
	}
	revokeSome := func(handles []string, uc supertokens.UserContext) ([]string, error) {
		revoked, err := some(handles, uc)
		if err == nil {
			err = r.End(contextOf(uc), "", revoked)
		}
		return revoked, err
	}
	orig.RevokeSession, orig.RevokeAllSessionsForUser, orig.RevokeMultipleSessions = &revokeOne, &revokeAll, &revokeSome
	return orig
}
