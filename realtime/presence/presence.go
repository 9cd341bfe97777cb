// Package presence keeps who is online across hub nodes in Redis.
//
// Every connection is an entry under its user, tagged with the node that holds it; a user is
// online when any entry is online, away when all are away, offline when there is none. Each node
// heartbeats; entries of a node whose heartbeat is older than the dead-after window are reaped by
// whichever node sweeps first, so the users of a crashed node go offline without it. Changes of a
// user's aggregate status are computed inside Redis scripts, so concurrent nodes agree on every
// transition and report it exactly once.
package presence

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Status is a user's presence.
type Status string

// Statuses.
const (
	Online  Status = "online"
	Away    Status = "away"
	Offline Status = "offline"
)

// User is one user's presence.
type User struct {
	UserID string `json:"userId"`
	Status Status `json:"status"`
	// LastSeen is when the user was last connected: the last connect or status change while
	// online, the disconnect when offline. Nil for users never seen.
	LastSeen *time.Time `json:"lastSeen"`
}

// Change is a user's presence after an operation; Changed tells whether the aggregate status moved.
type Change struct {
	User
	Changed bool
}

// Store is the presence store of one deployment (one key prefix).
type Store struct {
	rdb       goredis.UniversalClient
	prefix    string
	now       func() time.Time
	deadAfter time.Duration
	batch     batcher
}

// New returns a store. Entries of a node that has not heartbeated for deadAfter are reaped by
// Sweep. now is the clock (time.Now when nil); tests pass their own.
func New(rdb goredis.UniversalClient, prefix string, deadAfter time.Duration, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{rdb: rdb, prefix: prefix + "presence:", deadAfter: deadAfter, now: now}
}

func (s *Store) connsKey(userID string) string { return s.prefix + "conns:" + userID }
func (s *Store) nodeKey(node string) string    { return s.prefix + "node:" + node }
func (s *Store) statusKey() string             { return s.prefix + "status" }
func (s *Store) seenKey() string               { return s.prefix + "seen" }
func (s *Store) nodesKey() string              { return s.prefix + "nodes" }

// aggregate is shared by the scripts: it recomputes one user's status from their entries, records
// the transition and returns {status, changed, lastSeen}.
const aggregate = `
local function aggregate(connsKey, statusKey, seenKey, uid, now)
  local vals = redis.call('HVALS', connsKey)
  local agg = 'offline'
  for _, v in ipairs(vals) do
    if v == 'online' then agg = 'online' break end
    agg = 'away'
  end
  local prev = redis.call('HGET', statusKey, uid) or 'offline'
  if agg == 'offline' then
    redis.call('HDEL', statusKey, uid)
    if prev ~= 'offline' then redis.call('HSET', seenKey, uid, now) end
  else
    redis.call('HSET', statusKey, uid, agg)
    redis.call('HSET', seenKey, uid, now)
  end
  local changed = 0
  if agg ~= prev then changed = 1 end
  return {agg, changed, redis.call('HGET', seenKey, uid) or ''}
end
`

// updateScript sets (or, with an empty status, removes) one connection's entry.
// KEYS: conns(user), status, seen, node(node). ARGV: user, node, conn, status, now.
var updateScript = goredis.NewScript(aggregate + `
local field = ARGV[2] .. '|' .. ARGV[3]
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[1], field)
  redis.call('HDEL', KEYS[4], ARGV[3])
else
  redis.call('HSET', KEYS[1], field, ARGV[4])
  redis.call('HSET', KEYS[4], ARGV[3], ARGV[1])
end
return aggregate(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[5])
`)

// reap removes every entry of a node once, for whichever caller claims it first.
// KEYS: nodes, node(node), status, seen. ARGV: node, now, conns key prefix.
var reap = goredis.NewScript(aggregate + `
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 and ARGV[4] ~= 'self' then return {} end
local entries = redis.call('HGETALL', KEYS[2])
local users = {}
local out = {}
for i = 1, #entries, 2 do
  local conn, uid = entries[i], entries[i + 1]
  redis.call('HDEL', ARGV[3] .. uid, ARGV[1] .. '|' .. conn)
  users[uid] = true
end
redis.call('DEL', KEYS[2])
for uid, _ in pairs(users) do
  local r = aggregate(ARGV[3] .. uid, KEYS[3], KEYS[4], uid, ARGV[2])
  table.insert(out, {uid, r[1], r[2], r[3]})
end
return out
`)

// Connect records a new online connection.
func (s *Store) Connect(ctx context.Context, node, userID, conn string) (Change, error) {
	return s.set(ctx, node, userID, conn, Online)
}

// SetStatus changes one connection's status (online or away).
func (s *Store) SetStatus(ctx context.Context, node, userID, conn string, st Status) (Change, error) {
	if st != Online && st != Away {
		return Change{}, fmt.Errorf("presence: %q is not a connection status", st)
	}
	return s.set(ctx, node, userID, conn, st)
}

// Disconnect removes a connection.
func (s *Store) Disconnect(ctx context.Context, node, userID, conn string) (Change, error) {
	return s.set(ctx, node, userID, conn, "")
}

func (s *Store) set(ctx context.Context, node, userID, conn string, st Status) (Change, error) {
	keys := []string{s.connsKey(userID), s.statusKey(), s.seenKey(), s.nodeKey(node)}
	return s.runUpdate(ctx, userID, keys, userID, node, conn, string(st), s.now().UnixMilli())
}

// Heartbeat marks node alive. It reports true when the node was not registered: at start, or
// after a sweeper reaped it during a stall; the caller must then record its connections again.
func (s *Store) Heartbeat(ctx context.Context, node string) (bool, error) {
	n, err := s.rdb.ZAdd(ctx, s.nodesKey(), goredis.Z{Score: float64(s.now().UnixMilli()), Member: node}).Result()
	if err != nil {
		return false, fmt.Errorf("presence: heartbeat: %w", err)
	}
	return n == 1, nil
}

// Sweep reaps the nodes whose heartbeat is older than the dead-after window and returns the
// presence changes of their users.
func (s *Store) Sweep(ctx context.Context) ([]Change, error) {
	cutoff := s.now().Add(-s.deadAfter).UnixMilli()
	dead, err := s.rdb.ZRangeByScore(ctx, s.nodesKey(), &goredis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(cutoff, 10)}).Result()
	if err != nil {
		return nil, fmt.Errorf("presence: listing nodes: %w", err)
	}
	var out []Change
	for _, node := range dead {
		ch, err := s.reapNode(ctx, node, false)
		if err != nil {
			return out, err
		}
		out = append(out, ch...)
	}
	return out, nil
}

// RemoveNode removes every entry of node at once (a graceful stop) and returns the changes.
func (s *Store) RemoveNode(ctx context.Context, node string) ([]Change, error) {
	return s.reapNode(ctx, node, true)
}

func (s *Store) reapNode(ctx context.Context, node string, self bool) ([]Change, error) {
	mode := "sweep"
	if self {
		mode = "self"
	}
	keys := []string{s.nodesKey(), s.nodeKey(node), s.statusKey(), s.seenKey()}
	res, err := reap.Run(ctx, s.rdb, keys, node, s.now().UnixMilli(), s.prefix+"conns:", mode).Slice()
	if err != nil {
		return nil, fmt.Errorf("presence: reaping node %s: %w", node, err)
	}
	out := make([]Change, 0, len(res))
	for _, r := range res {
		row, ok := r.([]any)
		if !ok || len(row) != 4 {
			return out, fmt.Errorf("presence: unexpected reap row %v", r)
		}
		uid, _ := row[0].(string)
		c, err := parseChange(uid, row[1:])
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Get returns the presence of each user, offline for unknown ones.
// Count is how many connections the user has, on every node.
func (s *Store) Count(ctx context.Context, userID string) (int, error) {
	n, err := s.count(ctx, s.connsKey(userID))
	if err != nil {
		return 0, fmt.Errorf("presence: counting connections: %w", err)
	}
	return int(n), nil
}

func (s *Store) Get(ctx context.Context, userIDs []string) ([]User, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	st := pipe.HMGet(ctx, s.statusKey(), userIDs...)
	seen := pipe.HMGet(ctx, s.seenKey(), userIDs...)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("presence: reading: %w", err)
	}
	out := make([]User, len(userIDs))
	for i, id := range userIDs {
		u := User{UserID: id, Status: Offline}
		if v, ok := st.Val()[i].(string); ok && v != "" {
			u.Status = Status(v)
		}
		if v, ok := seen.Val()[i].(string); ok {
			u.LastSeen = parseMillis(v)
		}
		out[i] = u
	}
	return out, nil
}

func parseChange(userID string, res []any) (Change, error) {
	if len(res) != 3 {
		return Change{}, fmt.Errorf("presence: unexpected script result %v", res)
	}
	st, _ := res[0].(string)
	changed, _ := res[1].(int64)
	seen, _ := res[2].(string)
	return Change{User: User{UserID: userID, Status: Status(st), LastSeen: parseMillis(seen)}, Changed: changed == 1}, nil
}

func parseMillis(s string) *time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}
