package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/realtime/presence"
	"github.com/p2psandbox/hub/realtime/sio"
	"github.com/p2psandbox/hub/realtime/typing"
)

// Client events (client → server).
const (
	EventRoomJoin            = "room:join"
	EventRoomLeave           = "room:leave"
	EventPresenceSubscribe   = "presence:subscribe"
	EventPresenceUnsubscribe = "presence:unsubscribe"
	EventPresenceSet         = "presence:set"
	EventTypingStart         = "typing:start"
	EventTypingStop          = "typing:stop"
	EventEcho                = "hub:echo"
)

// Server events (server → client).
const (
	EventPresenceUpdate = "presence:update"
	EventRoomRestored   = "room:restored"
	// EventTypingStart and EventTypingStop are relayed to the room under their own names.
)

// Limits per socket.
const (
	maxJoinedRooms     = 200
	maxPresenceSubs    = 1000
	maxPresencePerCall = 100
	handlerTimeout     = 5 * time.Second
	// resumeLive is the lifetime of a connected tab's room list; it is shortened to ResumeTTL on
	// disconnect. A crashed node's lists simply age out.
	resumeLive = 24 * time.Hour
)

// AccessTokenCookie is the SuperTokens access token cookie read when the handshake has no
// auth.token.
const AccessTokenCookie = "sAccessToken"

var validResume = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// connState is the hub's state of one socket.
type connState struct {
	user    string                             // who the socket is for: it never changes
	p       atomic.Pointer[identity.Principal] // replaced by auth:refresh and role changes
	limiter *bucket
	resume  string // the resume key of this tab's rooms in Redis, or ""

	mu   sync.Mutex
	st   presence.Status
	subs map[string]bool
}

func (s *connState) principal() identity.Principal { return *s.p.Load() }

func (s *connState) status() presence.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// handler serves one client event; its result is the ack's data.
type handler func(ctx context.Context, c *sio.Conn, st *connState, args []any) (any, error)

func (h *Hub) routes() map[string]handler {
	return map[string]handler{
		EventRoomJoin:            h.join,
		EventRoomLeave:           h.leave,
		EventPresenceSubscribe:   h.presenceSubscribe,
		EventPresenceUnsubscribe: h.presenceUnsubscribe,
		EventPresenceSet:         h.presenceSet,
		EventTypingStart:         h.typingStart,
		EventTypingStop:          h.typingStop,
		EventEcho:                h.echo,
		EventAuthRefresh:         h.refresh,
	}
}

// Socket is the connection a client event came from, as an area's handler sees it.
type Socket struct {
	c  *sio.Conn
	st *connState
}

// ID is the socket's id.
func (s Socket) ID() string { return s.c.ID() }

// Principal is who the socket acts for.
func (s Socket) Principal() identity.Principal { return s.st.principal() }

// Args are an event's arguments.
type Args []any

// Decode reads the first argument into dst, refusing unknown fields: the invalid_request ack of
// a payload of the wrong shape.
func (a Args) Decode(dst any) error { return decode(a, dst) }

// Handler serves one client event of an area; its result is the ack's data and its error the
// ack's error (docs/realtime.md).
type Handler func(ctx context.Context, s Socket, args Args) (any, error)

// Handle serves the client event name with fn, for principals that hold every permission in
// perms (the same rule as the REST routes). Call it before the hub serves.
func (h *Hub) Handle(name string, fn Handler, perms ...identity.Permission) {
	if _, dup := h.handlers[name]; dup {
		panic("realtime: event " + name + " handled twice")
	}
	h.handlers[name] = func(ctx context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
		if err := st.principal().Require(perms...); err != nil {
			return nil, err
		}
		return fn(ctx, Socket{c: c, st: st}, Args(args))
	}
	h.metrics.names[name] = true
}

// AllowJoin lets principals join rooms of kind ("topic:<id>", "conversation:<id>") on request,
// when az allows. Call it before the hub serves.
func (h *Hub) AllowJoin(kind string, az JoinAuthorizer) {
	switch kind {
	case KindUser, KindOrg, KindPresence:
		panic("realtime: " + kind + " rooms are the hub's own")
	}
	h.joins[kind] = az
}

// WithOrigin marks ctx as serving an event of the socket: broadcasts made with it leave that
// socket out, since its answer is in the ack.
func WithOrigin(ctx context.Context, socketID string) context.Context {
	return withOrigin(ctx, socketID)
}

func (h *Hub) names() []string {
	out := make([]string, 0, len(h.handlers))
	for n := range h.handlers {
		out = append(out, n)
	}
	return out
}

// authenticate checks the handshake's access token: auth.token, else the sAccessToken cookie.
func (h *Hub) authenticate(ctx context.Context, hs sio.Handshake) (_ any, err error) {
	defer func(start time.Time) { h.metrics.handshook(time.Since(start), err) }(time.Now())
	refuse := func(code, message string) error {
		h.metrics.refused.WithLabelValues(code).Inc()
		return &sio.Refusal{Message: message, Data: map[string]any{"code": code}}
	}
	if h.draining.Load() {
		return nil, refuse("unavailable", "this node is shutting down; reconnect")
	}
	token, _ := hs.Auth["token"].(string)
	if token == "" {
		if c, err := (&http.Request{Header: hs.Header}).Cookie(AccessTokenCookie); err == nil {
			token = c.Value
		}
	}
	if token == "" {
		return nil, refuse("unauthorized", "no access token: send auth.token or the sAccessToken cookie")
	}
	p, err := h.auth.PrincipalFromToken(ctx, token)
	switch {
	case err == nil && p.UserID != "":
		if max := h.cfg.MaxSocketsPerUser; max > 0 {
			// Counted in presence, so across nodes; concurrent handshakes may pass a socket or
			// two over. A Redis failure lets the socket in: presence is not a reason to refuse.
			if n, err := h.presence.Count(ctx, p.UserID); err != nil {
				h.log.Warn("counting the user's sockets", "err", err)
			} else if n >= max {
				return nil, refuse("too_many_connections", fmt.Sprintf("%d sockets are open for this user; close a tab or device", n))
			}
		}
		return p, nil
	case errors.Is(err, identity.ErrTokenExpired):
		return nil, refuse("token_expired", "the access token has expired; refresh the session and reconnect")
	case errors.Is(err, context.DeadlineExceeded) || errs.CodeOf(err) == errs.Unavailable:
		h.log.Warn("handshake authentication unavailable", "err", err)
		return nil, refuse("unavailable", "authentication is unavailable; retry")
	default:
		return nil, refuse("unauthorized", "the access token is not valid; sign in again")
	}
}

func (h *Hub) onConnect(c *sio.Conn) {
	p, ok := c.Data().(identity.Principal)
	if !ok || h.draining.Load() {
		c.Close()
		return
	}
	st := &connState{
		user:    p.UserID,
		limiter: newBucket(h.cfg.EventRate, h.cfg.EventBurst),
		st:      presence.Online,
		subs:    map[string]bool{},
	}
	if r, _ := c.Auth()["resume"].(string); validResume.MatchString(r) {
		st.resume = h.prefix + "resume:" + p.UserID + ":" + r
	}
	st.p.Store(&p)
	c.SetState(st)
	if !h.stillValid(c, p) {
		return
	}
	rooms := []string{UserRoom(p.UserID)}
	if p.OrganizationID != "" {
		rooms = append(rooms, OrgRoom(p.OrganizationID))
	}
	c.Join(rooms...)

	ctx, cancel := context.WithTimeout(h.ctx, handlerTimeout)
	defer cancel()
	ch, err := h.presence.Connect(ctx, h.node, p.UserID, c.ID())
	if err != nil {
		h.log.Warn("presence connect", "user", p.UserID, "err", err)
	} else {
		h.publishPresence([]presence.Change{ch})
	}
	if st.resume != "" {
		h.restoreRooms(ctx, c, st)
	}
}

// restoreRooms rejoins the rooms this tab had before it reconnected, each authorized again.
func (h *Hub) restoreRooms(ctx context.Context, c *sio.Conn, st *connState) {
	rooms, err := h.rdb.SMembers(ctx, st.resume).Result()
	if err != nil {
		h.log.Warn("reading resumed rooms", "err", err)
		return
	}
	if len(rooms) == 0 {
		return
	}
	restored := []string{}
	for _, room := range rooms {
		if len(restored) == maxJoinedRooms {
			break
		}
		if err := h.authorizeJoin(ctx, st.principal(), room); err != nil {
			h.rdb.SRem(ctx, st.resume, room)
			continue
		}
		c.Join(room)
		restored = append(restored, room)
	}
	h.rdb.Expire(ctx, st.resume, resumeLive)
	start := time.Now()
	_ = c.Emit(EventRoomRestored, map[string]any{"rooms": restored})
	h.metrics.sent(EventRoomRestored, "direct", time.Since(start))
}

func (h *Hub) onDisconnect(c *sio.Conn, reason string) {
	h.metrics.disconnected(reason)
	st, ok := c.State().(*connState)
	if !ok {
		return
	}
	h.log.Debug("socket disconnected", "socket", c.ID(), "user", st.user, "reason", reason)
	for _, it := range h.typing.DropConn(c.ID()) {
		h.relayTyping(it, EventTypingStop, false)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(h.ctx), handlerTimeout)
	defer cancel()
	ch, err := h.presence.Disconnect(ctx, h.node, st.user, c.ID())
	if err != nil {
		h.log.Warn("presence disconnect", "user", st.user, "err", err)
	} else {
		h.publishPresence([]presence.Change{ch})
	}
	if st.resume != "" {
		h.rdb.Expire(ctx, st.resume, h.cfg.ResumeTTL)
	}
}

// onEvent rate-limits, dispatches and acknowledges one client event.
func (h *Hub) onEvent(c *sio.Conn, name string, args []any, ack sio.Ack) {
	st, ok := c.State().(*connState)
	if !ok {
		return
	}
	h.metrics.got(name)
	// Counted as the client sent it: an event that waited behind a slow one of the same socket
	// is not refused for the hub's delay.
	if allowed, wait := st.limiter.allow(c.EventArrived()); !allowed {
		h.answer(ack, nil, &errs.Error{Code: errs.RateLimited, Message: "too many events; slow down", RetryAfter: wait})
		return
	}
	if name != EventAuthRefresh && h.expired(st) {
		h.answer(ack, nil, identity.ErrTokenExpired)
		h.endExpired(c)
		return
	}
	hd, ok := h.handlers[name]
	if !ok {
		h.answer(ack, nil, errs.E(errs.Invalid, "unknown event %q", name))
		return
	}
	ctx, cancel := context.WithTimeout(h.ctx, handlerTimeout)
	defer cancel()
	data, err := hd(ctx, c, st, args)
	if err != nil && errs.CodeOf(err) == errs.Internal && !unavailable(err) {
		h.log.Error("hub event failed", "event", name, "user", st.user, "err", err)
	}
	h.answer(ack, data, err)
}

// answer sends {"ok":true,"data":…} or {"ok":false,"error":{…}} when the client asked for an ack.
func (h *Hub) answer(ack sio.Ack, data any, err error) {
	if ack == nil {
		return
	}
	if err == nil {
		ack(map[string]any{"ok": true, "data": data})
		return
	}
	ack(map[string]any{"ok": false, "error": errorBody(err)})
}

// unavailable reports whether err says a backing service could not serve the event for now: the
// ack says unavailable (retry), not internal.
func unavailable(err error) bool { return errs.Transient(err) || postgres.Unavailable(err) }

// errorBody is the error object of a failed ack: code, message and, where they apply, fields and
// retryAfterMs. Internal causes never reach the client.
func errorBody(err error) map[string]any {
	e, ok := errs.As(err)
	if (!ok || e.Code == errs.Internal) && unavailable(err) {
		return map[string]any{"code": string(errs.Unavailable), "message": "the service is briefly unavailable; retry in a moment", "retryAfterMs": 1000}
	}
	if !ok || e.Code == errs.Internal {
		return map[string]any{"code": string(errs.Internal), "message": "an unexpected error occurred"}
	}
	body := map[string]any{"code": string(e.Code), "message": e.Message}
	if len(e.Fields) > 0 {
		fields := make([]any, len(e.Fields))
		for i, f := range e.Fields {
			fields[i] = map[string]any{"field": f.Field, "message": f.Message}
		}
		body["fields"] = fields
	}
	if e.RetryAfter > 0 {
		body["retryAfterMs"] = e.RetryAfter.Milliseconds()
	}
	return body
}

// decode reads the event's first argument into dst, refusing unknown fields.
func decode(args []any, dst any) error {
	if len(args) == 0 {
		return errs.E(errs.Invalid, "the event needs a payload object")
	}
	if err := checkText(args[0]); err != nil {
		return err
	}
	b, err := json.Marshal(args[0])
	if err != nil {
		return &errs.Error{Code: errs.Invalid, Message: "the payload is not JSON", Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return &errs.Error{Code: errs.Invalid, Message: "the payload is not valid: " + strings.TrimPrefix(err.Error(), "json: "), Err: err}
	}
	return nil
}

type roomPayload struct {
	Room string `json:"room"`
}

func (h *Hub) authorizeJoin(ctx context.Context, p identity.Principal, room string) error {
	kind, id, err := parseRoom(room)
	if err != nil {
		return err
	}
	switch kind {
	case KindUser, KindOrg:
		return errs.E(errs.Forbidden, "%s rooms are joined automatically", kind)
	case KindPresence:
		return errs.E(errs.Forbidden, "use presence:subscribe for presence")
	}
	az, ok := h.joins[kind]
	if !ok {
		return errs.Fields(errs.FieldError{Field: "room", Message: "unknown room kind " + kind})
	}
	return az.AuthorizeJoin(ctx, p, id)
}

func (h *Hub) join(ctx context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
	var in roomPayload
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	if c.In(in.Room) {
		return map[string]any{"room": in.Room}, nil
	}
	if len(c.Rooms()) >= maxJoinedRooms+2+maxPresenceSubs {
		return nil, errs.E(errs.Validation, "a socket may join at most %d rooms", maxJoinedRooms)
	}
	if err := h.authorizeJoin(ctx, st.principal(), in.Room); err != nil {
		return nil, err
	}
	c.Join(in.Room)
	if st.resume != "" {
		pipe := h.rdb.Pipeline()
		pipe.SAdd(ctx, st.resume, in.Room)
		pipe.Expire(ctx, st.resume, resumeLive)
		if _, err := pipe.Exec(ctx); err != nil {
			h.log.Warn("recording the room for resume", "err", err)
		}
	}
	return map[string]any{"room": in.Room}, nil
}

func (h *Hub) leave(ctx context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
	var in roomPayload
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	kind, _, err := parseRoom(in.Room)
	if err != nil {
		return nil, err
	}
	if kind == KindUser || kind == KindOrg || kind == KindPresence {
		return nil, errs.E(errs.Forbidden, "%s rooms cannot be left", kind)
	}
	for _, it := range h.typing.DropRoom(c.ID(), in.Room) {
		h.relayTyping(it, EventTypingStop, false)
	}
	c.Leave(in.Room)
	if st.resume != "" {
		h.rdb.SRem(ctx, st.resume, in.Room)
	}
	return map[string]any{"room": in.Room}, nil
}

type userIDsPayload struct {
	UserIDs []string `json:"userIds"`
}

func readUserIDs(args []any) ([]string, error) {
	var in userIDsPayload
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	if len(in.UserIDs) == 0 || len(in.UserIDs) > maxPresencePerCall {
		return nil, errs.Fields(errs.FieldError{Field: "userIds", Message: "must list 1 to 100 user ids"})
	}
	seen := map[string]bool{}
	out := in.UserIDs[:0]
	for _, id := range in.UserIDs {
		if !validID.MatchString(id) {
			return nil, errs.Fields(errs.FieldError{Field: "userIds", Message: "contains an invalid id"})
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// presenceSubscribe joins the users' presence rooms first and reads the snapshot second, so that
// no change falls between the two.
func (h *Hub) presenceSubscribe(ctx context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
	asked, err := readUserIDs(args)
	if err != nil {
		return nil, err
	}
	ids := asked
	if h.visible != nil {
		if ids, err = h.visible.VisibleUsers(ctx, st.principal(), asked); err != nil {
			return nil, err
		}
	}
	st.mu.Lock()
	n := len(st.subs)
	for _, id := range ids {
		if !st.subs[id] {
			n++
		}
	}
	if n > maxPresenceSubs {
		st.mu.Unlock()
		return nil, errs.E(errs.Validation, "a socket may follow the presence of at most %d users", maxPresenceSubs)
	}
	rooms := make([]string, len(ids))
	for i, id := range ids {
		st.subs[id] = true
		rooms[i] = PresenceRoom(id)
	}
	st.mu.Unlock()
	c.Join(rooms...)
	users, err := h.presence.Get(ctx, ids)
	if err != nil {
		return nil, err
	}
	if len(ids) < len(asked) {
		users = hiddenAsUnknown(asked, users)
	}
	return map[string]any{"users": users}, nil
}

// hiddenAsUnknown answers for every asked user in order: the visible ones as they are, the
// others as an unknown id reads (offline, never seen).
func hiddenAsUnknown(asked []string, visible []presence.User) []presence.User {
	byID := make(map[string]presence.User, len(visible))
	for _, u := range visible {
		byID[u.UserID] = u
	}
	out := make([]presence.User, len(asked))
	for i, id := range asked {
		u, ok := byID[id]
		if !ok {
			u = presence.User{UserID: id, Status: presence.Offline}
		}
		out[i] = u
	}
	return out
}

func (h *Hub) presenceUnsubscribe(_ context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
	ids, err := readUserIDs(args)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	for _, id := range ids {
		delete(st.subs, id)
	}
	st.mu.Unlock()
	for _, id := range ids {
		c.Leave(PresenceRoom(id))
	}
	return map[string]any{"userIds": ids}, nil
}

func (h *Hub) presenceSet(ctx context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
	var in struct {
		Status presence.Status `json:"status"`
	}
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	if in.Status != presence.Online && in.Status != presence.Away {
		return nil, errs.Fields(errs.FieldError{Field: "status", Message: `must be "online" or "away"`})
	}
	st.mu.Lock()
	st.st = in.Status
	st.mu.Unlock()
	ch, err := h.presence.SetStatus(ctx, h.node, st.user, c.ID(), in.Status)
	if err != nil {
		return nil, err
	}
	h.publishPresence([]presence.Change{ch})
	return ch.User, nil
}

// typingRoom checks a typing payload: a room of a joinable kind that the socket has joined.
func (h *Hub) typingRoom(c *sio.Conn, args []any) (string, error) {
	var in roomPayload
	if err := decode(args, &in); err != nil {
		return "", err
	}
	kind, _, err := parseRoom(in.Room)
	if err != nil {
		return "", err
	}
	if _, joinable := h.joins[kind]; !joinable {
		return "", errs.Fields(errs.FieldError{Field: "room", Message: "typing is for rooms joined on request (topic, conversation)"})
	}
	if !c.In(in.Room) {
		return "", errs.E(errs.Forbidden, "join %s before typing in it", in.Room)
	}
	return in.Room, nil
}

func (h *Hub) typingStart(_ context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
	room, err := h.typingRoom(c, args)
	if err != nil {
		return nil, err
	}
	it := typing.Item{Conn: c.ID(), Room: room, UserID: st.user}
	if h.typing.Start(it) {
		h.relayTyping(it, EventTypingStart, false)
	}
	return nil, nil
}

func (h *Hub) typingStop(_ context.Context, c *sio.Conn, st *connState, args []any) (any, error) {
	room, err := h.typingRoom(c, args)
	if err != nil {
		return nil, err
	}
	it := typing.Item{Conn: c.ID(), Room: room, UserID: st.user}
	if h.typing.Stop(it) {
		h.relayTyping(it, EventTypingStop, false)
	}
	return nil, nil
}

// relayTyping tells the room, except the typing socket itself.
func (h *Hub) relayTyping(it typing.Item, event string, expired bool) {
	payload := map[string]any{"room": it.Room, "userId": it.UserID}
	if event == EventTypingStop {
		payload["expired"] = expired
	}
	start := time.Now()
	if err := h.srv.BroadcastExcept(it.Room, it.Conn, event, payload); err != nil {
		h.log.Warn("typing relay", "err", err)
	}
	h.metrics.sent(event, "broadcast", time.Since(start))
}

// echo answers its payload: a round trip for clients checking the connection (binary included).
func (h *Hub) echo(_ context.Context, _ *sio.Conn, _ *connState, args []any) (any, error) {
	if len(args) == 0 {
		return nil, nil
	}
	return args[0], nil
}
