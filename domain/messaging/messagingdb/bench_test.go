package messagingdb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitydb"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/messaging/messagingdb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func service(pool *pgxpool.Pool) *messaging.Service {
	return messaging.NewService(messaging.Deps{
		Store:     messagingdb.New(pool),
		Directory: identity.NewService(identity.Deps{Store: identitydb.New(pool)}),
	})
}

// BenchmarkConversationList is the conversation list of a user with 1,000 conversations (direct
// ones, each with three messages, so every row has a preview and an unread count): a page of 20
// with the participants' names, at the top or further down through a cursor.
func BenchmarkConversationList(b *testing.B) {
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	users := identitytest.Users(b, pool, 1001)
	me := users[0]
	_, err := pool.Exec(ctx, `
		WITH c AS (
			INSERT INTO conversations (id, kind, created_by, direct_key, last_seq, last_activity_at, created_at)
			SELECT gen_random_uuid(), 'direct', $1::uuid, least($1::uuid::text, u::text) || ':' || greatest($1::uuid::text, u::text), 3,
			       now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval
			FROM unnest($2::uuid[]) WITH ORDINALITY AS t(u, i)
			RETURNING id, direct_key
		), p AS (
			INSERT INTO conversation_participants (conversation_id, user_id, last_read_seq)
			SELECT c.id, x::uuid, CASE WHEN x::uuid = $1::uuid THEN 1 ELSE 3 END
			FROM c, unnest(string_to_array(c.direct_key, ':')) x
		)
		INSERT INTO messages (id, conversation_id, seq, sender_id, content)
		SELECT gen_random_uuid(), c.id, s, $1::uuid, 'Status of line ' || s || ': the sensors report normal vibration'
		FROM c, generate_series(1, 3) s`, me, users[1:])
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE conversations c SET last_message_id = m.id, last_message_at = m.created_at
		FROM messages m WHERE m.conversation_id = c.id AND m.seq = 3; ANALYZE`); err != nil {
		b.Fatal(err)
	}
	svc := service(pool)
	p := identity.Principal{UserID: me, EmailVerified: true}

	// The cursors of every page, to start some requests deeper in the list.
	cursors := []string{""}
	for {
		pg, err := svc.Conversations(ctx, p, false, 20, cursors[len(cursors)-1])
		if err != nil {
			b.Fatal(err)
		}
		if pg.NextCursor == nil {
			break
		}
		cursors = append(cursors, *pg.NextCursor)
	}
	if len(cursors) != 50 {
		b.Fatalf("expected 50 pages, got %d", len(cursors))
	}
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		cursor := "" // two requests in three are for the top of the list
		if i%3 == 2 {
			cursor = cursors[rand.IntN(len(cursors))]
		}
		start := time.Now()
		pg, err := svc.Conversations(ctx, p, false, 20, cursor)
		d = append(d, time.Since(start))
		if err != nil || len(pg.Items) == 0 || len(pg.Items[0].Participants) != 2 {
			b.Fatal(err)
		}
		i++
	}
	b.StopTimer()
	pgtest.ReportLatencies(b, d)
}

// BenchmarkHistory reads pages of 50 at random places of a conversation of 1,000,000 messages.
func BenchmarkHistory(b *testing.B) {
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	users := identitytest.Users(b, pool, 2)
	conv := uuid.NewString()
	const n = 1_000_000
	_, err := pool.Exec(ctx, `INSERT INTO conversations (id, kind, created_by, direct_key, last_seq)
		VALUES ($1, 'direct', $2::uuid, $2::uuid::text || ':' || $3::uuid::text, $4)`, conv, users[0], users[1], n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO conversation_participants (conversation_id, user_id) VALUES ($1, $2), ($1, $3)`,
		conv, users[0], users[1]); err != nil {
		b.Fatal(err)
	}
	for from := 1; from <= n; from += 100_000 { // in chunks, so no statement runs for minutes
		if _, err := pool.Exec(ctx, `
			INSERT INTO messages (id, conversation_id, seq, sender_id, content, created_at)
			SELECT gen_random_uuid(), $1, s, CASE WHEN s % 2 = 0 THEN $2::uuid ELSE $3::uuid END,
			       'Message ' || s || ' about the maintenance window of line ' || (s % 7),
			       now() - ((1000000 - s) || ' seconds')::interval
			FROM generate_series($4::bigint, $4::bigint + 99999) s`, conv, users[0], users[1], from); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `ANALYZE messages`); err != nil {
		b.Fatal(err)
	}
	svc := service(pool)
	p := identity.Principal{UserID: users[0], EmailVerified: true}
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		before := int64(0) // the newest page, or anywhere further back
		if r := rand.IntN(4); r > 0 {
			before = 1 + rand.Int64N(n)
		}
		start := time.Now()
		h, err := svc.History(ctx, p, conv, before, -1, 50)
		d = append(d, time.Since(start))
		if err != nil || (before == 0 && len(h.Items) != 50) {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	pgtest.ReportLatencies(b, d)
}

// BenchmarkSendAfterGrowth stores batches of 8 messages (8 concurrent sends over 100
// conversations) after messages grew by 200,000 rows with no ANALYZE since the first sends, as
// when autovacuum lags behind a busy start or is off. A cached generic plan from those first
// sends would hash the whole table for every batch.
func BenchmarkSendAfterGrowth(b *testing.B) {
	ctx := context.Background()
	pool, _ := pgtest.New(b)
	users := identitytest.Users(b, pool, 200)
	s := messagingdb.New(pool)
	convs := make([]string, 100)
	for i := range convs {
		id, _, err := s.CreateConversation(ctx, messaging.NewConversation{ID: uuid.NewString(), Kind: messaging.KindDirect,
			CreatedBy: users[2*i], Participants: []string{users[2*i], users[2*i+1]},
			DirectKey: messaging.DirectKey(users[2*i], users[2*i+1]), CreatedAt: time.Now().UTC()})
		if err != nil {
			b.Fatal(err)
		}
		convs[i] = id
	}
	if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	n := 0
	round := func() {
		var wg sync.WaitGroup
		for range 8 {
			n++
			c, id := n%len(convs), fmt.Sprintf("bench-%d", n)
			wg.Go(func() {
				res, err := s.Send(ctx, messaging.SendInput{ID: uuid.NewString(), ConversationID: convs[c], SenderID: users[2*c],
					ClientID: &id, Content: "The vibration on pump 7 is back to normal.", CreatedAt: time.Now().UTC()})
				if err != nil || !res.Created {
					b.Error(err)
				}
			})
		}
		wg.Wait()
	}
	for range 50 {
		round()
	}
	if _, err := pool.Exec(ctx, `INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, content)
		SELECT gen_random_uuid(), c.id, 1000000 + g, c.sender, 'growth-' || g, 'Downtime dropped by 12% this week.'
		FROM generate_series(1, 200000) g
		JOIN (SELECT id, (SELECT min(user_id::text)::uuid FROM conversation_participants p WHERE p.conversation_id = c.id) AS sender,
		             row_number() OVER (ORDER BY id) - 1 AS k FROM conversations c) c ON c.k = g % 100`); err != nil {
		b.Fatal(err)
	}
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		round()
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	pgtest.ReportLatencies(b, d)
}
