package realtime

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/realtime/sio"
)

// Access events: a socket keeps acting only while its session is valid (docs/realtime.md
// "Access").
const (
	// EventAuthRefresh (client → server) hands the socket a fresh access token of the same user.
	EventAuthRefresh = "auth:refresh"
	// EventAuthRevoked (server → client) precedes the disconnection of a socket whose session
	// was signed out or revoked (deactivation, removal, password reset): sign in again.
	EventAuthRevoked = "auth:revoked"
	// EventAuthExpired (server → client) precedes the disconnection of a socket whose access
	// token expired before the client sent a fresh one: refresh the session and reconnect.
	EventAuthExpired = "auth:expired"
)

// expiryCheck is how often the hub looks for sockets whose token has expired; events are checked
// as they arrive in any case.
const expiryCheck = 5 * time.Second

// EndSessions disconnects this node's sockets of the ended sessions, telling them why first.
// With no userID the handles alone decide (a sign-out knows only its session).
func (h *Hub) EndSessions(userID string, handles []string) {
	for _, c := range h.srv.Conns() {
		st, ok := c.State().(*connState)
		if !ok || (userID != "" && st.user != userID) {
			continue
		}
		if slices.Contains(handles, st.principal().SessionHandle) {
			h.end(c, EventAuthRevoked, "session_revoked", "the session has ended; sign in again")
		}
	}
}

// SetRoles gives this node's open sockets of the user their new roles: the next event is checked
// against them, without reconnecting.
func (h *Hub) SetRoles(userID string, roles []string) {
	for _, c := range h.srv.Conns() {
		st, ok := c.State().(*connState)
		if !ok || st.user != userID {
			continue
		}
		p := st.principal()
		p.Roles = slices.Clone(roles)
		st.p.Store(&p)
	}
}

// end tells the socket why and disconnects it.
func (h *Hub) end(c *sio.Conn, event, code, message string) {
	h.metrics.ended.WithLabelValues(code).Inc()
	_ = c.Emit(event, map[string]any{"code": code, "message": message})
	c.Disconnect()
}

// expired reports whether the socket's token has run out.
func (h *Hub) expired(st *connState) bool {
	exp := st.principal().ExpiresAt
	return !exp.IsZero() && !h.now().Before(exp)
}

// expireTokens disconnects sockets whose token expired without a refresh.
func (h *Hub) expireTokens(context.Context) {
	for _, c := range h.srv.Conns() {
		if st, ok := c.State().(*connState); ok && h.expired(st) {
			h.endExpired(c)
		}
	}
}

func (h *Hub) endExpired(c *sio.Conn) {
	h.end(c, EventAuthExpired, "token_expired", "the access token expired; refresh the session and reconnect")
}

type refreshPayload struct {
	Token string `json:"token"`
}

// refresh replaces the socket's principal with the one of a fresh token of the same user and
// organization: new expiry, roles and session.
func (h *Hub) refresh(ctx context.Context, _ *sio.Conn, st *connState, args []any) (any, error) {
	var in refreshPayload
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	if in.Token == "" {
		return nil, errs.Fields(errs.FieldError{Field: "token", Message: "send the new access token"})
	}
	p, err := h.auth.PrincipalFromToken(ctx, in.Token)
	switch {
	case errors.Is(err, identity.ErrTokenExpired):
		return nil, err
	case errs.CodeOf(err) == errs.Unavailable || errors.Is(err, context.DeadlineExceeded):
		return nil, errs.E(errs.Unavailable, "authentication is unavailable; retry")
	case err != nil:
		return nil, &errs.Error{Code: errs.Unauthenticated, Message: "the access token is not valid", Err: err}
	}
	old := st.principal()
	if p.UserID != old.UserID || p.OrganizationID != old.OrganizationID {
		return nil, errs.E(errs.Forbidden, "the token is of another user; connect a new socket for them")
	}
	st.p.Store(&p)
	out := map[string]any{}
	if !p.ExpiresAt.IsZero() {
		out["expiresAt"] = p.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return out, nil
}

// PresenceVisibility says whose presence a principal may see: presence follows the privacy of
// profiles, so a hidden user looks exactly like an unknown one (offline, never seen).
type PresenceVisibility interface {
	VisibleUsers(ctx context.Context, p identity.Principal, userIDs []string) ([]string, error)
}

// LimitPresence makes presence:subscribe consult v. Call it before the hub serves.
func (h *Hub) LimitPresence(v PresenceVisibility) { h.visible = v }

// Revocations says whether a principal's session ended (or its roles changed) after its token
// was checked: auth.Revocations.
type Revocations interface {
	Check(p identity.Principal) error
}

// FollowRevocations makes every new socket check r once it is registered. A revocation applied
// while the socket was being accepted is then caught either here or by EndSessions, which sees
// the registered socket: none slips between the two. Call it before the hub serves.
func (h *Hub) FollowRevocations(r Revocations) { h.revoked = r }

// stillValid ends a just-registered socket whose session ended during its handshake.
func (h *Hub) stillValid(c *sio.Conn, p identity.Principal) bool {
	if h.revoked == nil {
		return true
	}
	switch err := h.revoked.Check(p); {
	case err == nil:
		return true
	case errs.CodeOf(err) == errs.TokenExpired:
		h.endExpired(c) // the roles changed meanwhile: reconnect with a refreshed token
	default:
		h.end(c, EventAuthRevoked, "session_revoked", "the session has ended; sign in again")
	}
	return false
}
