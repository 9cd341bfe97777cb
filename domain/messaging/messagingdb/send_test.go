package messagingdb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// conversation creates a conversation of users (the first is its creator) and returns its id.
func conversation(t *testing.T, s *messagingdb.Store, kind string, users ...string) string {
	t.Helper()
	nc := messaging.NewConversation{ID: uuid.NewString(), Kind: kind, CreatedBy: users[0], Participants: users,
		CreatedAt: time.Now().UTC()}
	if kind == messaging.KindDirect {
		nc.DirectKey = messaging.DirectKey(users[0], users[1])
	} else {
		nc.Title = "Line 4 maintenance"
	}
	id, created, err := s.CreateConversation(context.Background(), nc)
	require.NoError(t, err)
	require.True(t, created)
	return id
}

func input(conv, sender, clientID, content string) messaging.SendInput {
	in := messaging.SendInput{ID: uuid.NewString(), ConversationID: conv, SenderID: sender, Content: content,
		CreatedAt: time.Now().UTC()}
	if clientID != "" {
		in.ClientID = &clientID
	}
	return in
}

// batchStats reads the store's metrics: how many batches, how many messages in them, how many
// batches failed.
func batchStats(t *testing.T, s *messagingdb.Store) (batches uint64, messages, failed float64) {
	t.Helper()
	for _, c := range s.Collectors() {
		var m dto.Metric
		switch c := c.(type) {
		case prometheus.Histogram:
			require.NoError(t, c.Write(&m))
			batches, messages = m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
		case prometheus.Counter:
			require.NoError(t, c.Write(&m))
			failed = m.GetCounter().GetValue()
		}
	}
	return batches, messages, failed
}

// TestConcurrentSends sends a burst of messages at once, so that they are stored in batches: every
// allowed message gets the next seq of its conversation with no gap, retries of one clientId
// give one message, refused messages are refused for their own reason without failing the rest,
// and the senders' read positions and the conversations' last message follow.
func TestConcurrentSends(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	s := messagingdb.New(pool)
	u := identitytest.Users(t, pool, 6)
	group := conversation(t, s, messaging.KindGroup, u[0], u[1], u[2], u[3])
	direct := conversation(t, s, messaging.KindDirect, u[0], u[1])
	blocked := conversation(t, s, messaging.KindDirect, u[4], u[5])
	_, err := pool.Exec(ctx, `INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)`, u[5], u[4])
	require.NoError(t, err)

	type send struct {
		in      messaging.SendInput
		refused errs.Code // "" when the message is to be stored
	}
	var sends []send
	for i := range 200 {
		conv, sender := group, u[i%4]
		if i%3 == 0 {
			conv, sender = direct, u[i%2]
		}
		sends = append(sends, send{in: input(conv, sender, fmt.Sprintf("c-%d", i), fmt.Sprintf("message %d", i))})
		if i%10 == 0 { // the retries of a flaky client: same clientId, new attempt
			for range 2 {
				again := sends[len(sends)-1].in
				again.ID = uuid.NewString()
				sends = append(sends, send{in: again})
			}
		}
	}
	for i := range 10 {
		sends = append(sends,
			send{in: input(group, u[4], "", "not a participant"), refused: errs.NotFound},
			send{in: input(blocked, u[4], "", "blocked"), refused: errs.Forbidden},
			send{in: func() messaging.SendInput {
				in := input(direct, u[0], fmt.Sprintf("reply-%d", i), "a reply to nothing")
				ghost := uuid.NewString()
				in.ReplyTo = &ghost
				return in
			}(), refused: errs.Validation})
	}

	results := make([]messaging.SendResult, len(sends))
	failures := make([]error, len(sends))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, sd := range sends {
		wg.Go(func() {
			<-start
			results[i], failures[i] = s.Send(ctx, sd.in)
		})
	}
	close(start)
	wg.Wait()

	byClient := map[string][]int{}
	for i, sd := range sends {
		if sd.refused != "" {
			assert.Equal(t, sd.refused, errs.CodeOf(failures[i]), "send %d: %v", i, failures[i])
			continue
		}
		require.NoError(t, failures[i], "send %d", i)
		key := sd.in.SenderID + "/" + *sd.in.ClientID
		byClient[key] = append(byClient[key], i)
	}
	for key, idx := range byClient {
		created := 0
		for _, i := range idx {
			if results[i].Created {
				created++
			}
			assert.Equal(t, results[idx[0]].Message.ID, results[i].Message.ID, "clientId %s", key)
		}
		assert.Equal(t, 1, created, "clientId %s", key)
	}

	for _, conv := range []string{group, direct} {
		var n, distinct, lo, hi, last int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT seq), min(seq), max(seq),
			(SELECT last_seq FROM conversations WHERE id = $1) FROM messages WHERE conversation_id = $1`, conv).
			Scan(&n, &distinct, &lo, &hi, &last))
		assert.Equal(t, []int64{n, n, 1, n}, []int64{distinct, hi - lo + 1, lo, last}, "seqs of %s", conv)
		var lastIsNewest bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT c.last_message_id = m.id FROM conversations c
			JOIN messages m ON m.conversation_id = c.id AND m.seq = c.last_seq WHERE c.id = $1`, conv).Scan(&lastIsNewest))
		assert.True(t, lastIsNewest)
		// Each sender has read up to their own newest message.
		rows, err := pool.Query(ctx, `SELECT p.last_read_seq, p.delivered_seq, max(m.seq) FROM conversation_participants p
			JOIN messages m ON m.conversation_id = p.conversation_id AND m.sender_id = p.user_id
			WHERE p.conversation_id = $1 GROUP BY p.user_id, p.last_read_seq, p.delivered_seq`, conv)
		require.NoError(t, err)
		for rows.Next() {
			var read, delivered, newest int64
			require.NoError(t, rows.Scan(&read, &delivered, &newest))
			assert.Equal(t, []int64{newest, newest}, []int64{read, delivered})
		}
		require.NoError(t, rows.Err())
	}
	var stored int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&stored))
	assert.Equal(t, len(byClient), stored)

	// The audience: the other active participants, in the order they joined.
	for i, sd := range sends {
		if sd.refused == "" && sd.in.ConversationID == group && results[i].Created {
			var want []string
			for _, p := range u[:4] {
				if p != sd.in.SenderID {
					want = append(want, p)
				}
			}
			assert.Equal(t, want, results[i].Recipients)
			assert.Equal(t, messaging.KindGroup, results[i].Kind)
			assert.Equal(t, "Line 4 maintenance", results[i].Title)
		}
	}
	batches, messages, failed := batchStats(t, s)
	assert.Greater(t, messages, float64(batches), "a burst of %d sends was stored one by one", len(sends))
	assert.Zero(t, failed, "batches failed and their messages were sent alone")
}

// TestBatchFailureSendsEachAlone makes a batch fail as a whole (a retry of one of its messages
// is stored by another node in the meantime): nothing of it is half-written, the message that
// raced is answered with the one stored first, and the others are stored alone.
func TestBatchFailureSendsEachAlone(t *testing.T) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	s := messagingdb.New(pool)
	u := identitytest.Users(t, pool, 2)
	busy := conversation(t, s, messaging.KindGroup, u[0], u[1])
	conv := conversation(t, s, messaging.KindDirect, u[0], u[1])

	// Hold the writer on a first batch, so that the next two messages queue into one batch.
	holder, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer holder.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	_, err = holder.Exec(ctx, `SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE`, busy)
	require.NoError(t, err)
	first := make(chan error, 1)
	go func() { _, err := s.Send(ctx, input(busy, u[0], "", "first")); first <- err }()
	waitForLockWait(t, pool, 1)

	type outcome struct {
		res messaging.SendResult
		err error
	}
	plain, racing := make(chan outcome, 1), make(chan outcome, 1)
	go func() { r, err := s.Send(ctx, input(conv, u[0], "", "plain")); plain <- outcome{r, err} }()
	go func() { r, err := s.Send(ctx, input(conv, u[0], "dup-1", "racing")); racing <- outcome{r, err} }()
	// Another node stores the same clientId first, and commits once the batch waits for it.
	other, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer other.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	otherID := uuid.NewString()
	_, err = other.Exec(ctx, `INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, content)
		VALUES ($1, $2, 1000, $3, 'dup-1', 'racing, from the other node')`, otherID, conv, u[0])
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // both sends queued behind the held batch
	require.NoError(t, holder.Commit(ctx))
	require.NoError(t, <-first)
	waitForLockWait(t, pool, 1)
	require.NoError(t, other.Commit(ctx))

	p, r := <-plain, <-racing
	require.NoError(t, p.err)
	require.NoError(t, r.err)
	assert.True(t, p.res.Created)
	assert.Equal(t, int64(1), p.res.Message.Seq, "the failed batch took no seq")
	assert.False(t, r.res.Created)
	assert.Equal(t, otherID, r.res.Message.ID)

	batches, messages, failed := batchStats(t, s)
	assert.Equal(t, uint64(2), batches)
	assert.Equal(t, float64(3), messages)
	assert.Equal(t, float64(1), failed)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE conversation_id = $1`, conv).Scan(&n))
	assert.Equal(t, 2, n)
}

// waitForLockWait waits until n statements of this test's database wait for a lock.
func waitForLockWait(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var waiting int
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		return err == nil && waiting >= n
	}, 10*time.Second, 10*time.Millisecond)
}

// TestSendIsPlannedForEachBatch: the send statement must not run from a cached generic plan.
// One made while messages is small hashes the whole table for the duplicate and reply checks
// and is kept until the next ANALYZE, so a growing table slows every batch (docs/perf.md). The
// store runs on one connection here, so that connection's prepared statements are the store's.
func TestSendIsPlannedForEachBatch(t *testing.T) {
	ctx := context.Background()
	_, url := pgtest.New(t)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := messagingdb.New(pool)
	users := identitytest.Users(t, pool, 40)
	convs := make([]string, 20)
	for i := range convs {
		convs[i] = conversation(t, s, messaging.KindDirect, users[2*i], users[2*i+1])
	}
	_, err = pool.Exec(ctx, `ANALYZE`)
	require.NoError(t, err)
	// PostgreSQL tries a generic plan from the sixth execution of a prepared statement on; with
	// the statement cached, it takes it here for batches like these.
	for round := range 12 {
		var wg sync.WaitGroup
		for i := range 8 {
			c := (round*8 + i) % len(convs)
			wg.Go(func() {
				res, err := s.Send(ctx, input(convs[c], users[2*c], fmt.Sprintf("c-%d-%d", round, i), "Is the compressor back online?"))
				assert.NoError(t, err)
				assert.True(t, res.Created)
			})
		}
		wg.Wait()
	}
	var generic int
	require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(sum(generic_plans), 0) FROM pg_prepared_statements
		WHERE statement LIKE '%INSERT INTO messages%' AND statement NOT LIKE '%pg_prepared_statements%'`).Scan(&generic))
	assert.Zero(t, generic, "the send statement ran from a generic plan")
}
