package messagingdb

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/platform/outbox"
)

// Messages without attachments are stored in batches: whatever arrived while the previous batch
// was being written goes in one statement. PostgreSQL spends most of a lone send on starting the
// plan, checking foreign keys and committing; shared by a batch of eight, its CPU per message falls
// about fourfold (docs/perf.md), which is what lets one node carry 2,000 messages/s. A lone message
// is a batch of one, so nothing waits for company.
const (
	maxBatch = 64
	// batchWriters is how many batches are written at once. One, as long as it keeps up: the
	// fewer the writers, the larger the batches. Another starts when a full batch is waiting,
	// so a batch stuck behind another node's row lock does not stop the rest.
	batchWriters = 2
	// batchTimeout bounds one batch's statement; its callers may have given up long before.
	batchTimeout = 15 * time.Second
)

// sendSQL stores messages in one round trip. Their conversations are locked in id order (so two
// batches never deadlock); a message is stored only for an active participant, only if the other
// side of a direct conversation has not blocked the sender, only if the reply is to a message of
// the same conversation, and only once per client id; messages to one conversation take
// consecutive seqs in the order given; each is marked read by its sender, and its
// conversation's audience comes back with it, and its messaging.MessageSent is recorded in the
// event log (the payload Go encoded, with the seq and the audience the statement found). A
// message that fails a check has no row; Send finds out why.
//
// The ids travel as text[]: pgx has no binary encoding of []string as uuid[], so each batch
// would first fail one (formatting the whole array into an error) and then send text anyway.
const sendSQL = `
WITH input AS (
	SELECT * FROM unnest($1::text[]::uuid[], $2::text[]::uuid[], $3::text[]::uuid[], $4::text[], $5::text[], $6::text[]::uuid[], $7::timestamptz[], $8::text[], $9::text[])
		WITH ORDINALITY AS t(id, conversation_id, sender_id, client_id, content, reply_to, created_at, attachments, event, ord)
), locked AS (
	SELECT c.id, c.last_seq, c.kind, c.title FROM conversations c
	WHERE c.id IN (SELECT conversation_id FROM input) ORDER BY c.id FOR UPDATE
), ok AS (
	SELECT i.*, l.last_seq + row_number() OVER (PARTITION BY i.conversation_id ORDER BY i.ord) AS seq
	FROM input i JOIN locked l ON l.id = i.conversation_id
	WHERE EXISTS (SELECT 1 FROM conversation_participants p
	              WHERE p.conversation_id = i.conversation_id AND p.user_id = i.sender_id AND p.left_at IS NULL)
	  AND NOT (l.kind = 'direct' AND EXISTS (
		SELECT 1 FROM conversation_participants o JOIN user_blocks b ON b.blocker_id = o.user_id AND b.blocked_id = i.sender_id
		WHERE o.conversation_id = i.conversation_id AND o.user_id <> i.sender_id))
	  AND (i.reply_to IS NULL OR EXISTS (SELECT 1 FROM messages r WHERE r.id = i.reply_to AND r.conversation_id = i.conversation_id))
	  AND (i.client_id IS NULL OR NOT EXISTS (SELECT 1 FROM messages d WHERE d.sender_id = i.sender_id AND d.client_id = i.client_id))
), c AS (
	UPDATE conversations c
	SET last_seq = g.seq, last_message_id = g.id, last_message_at = g.created_at, last_activity_at = g.created_at, updated_at = g.created_at
	FROM (SELECT DISTINCT ON (conversation_id) conversation_id, seq, id, created_at FROM ok ORDER BY conversation_id, seq DESC) g
	WHERE c.id = g.conversation_id
), m AS (
	INSERT INTO messages (id, conversation_id, seq, sender_id, client_id, content, reply_to, attachments, created_at)
	SELECT id, conversation_id, seq, sender_id, client_id, content, reply_to, attachments::jsonb, created_at FROM ok
), r AS (
	UPDATE conversation_participants p SET last_read_seq = g.seq, delivered_seq = g.seq
	FROM (SELECT conversation_id, sender_id, max(seq) AS seq FROM ok GROUP BY 1, 2) g
	WHERE p.conversation_id = g.conversation_id AND p.user_id = g.sender_id
), audience AS (
	SELECT p.conversation_id, array_agg(p.user_id::text ORDER BY p.joined_at) AS members,
	       coalesce(array_agg(p.user_id::text ORDER BY p.joined_at) FILTER (WHERE p.muted), '{}') AS muted
	FROM conversation_participants p
	WHERE p.conversation_id IN (SELECT conversation_id FROM ok) AND p.left_at IS NULL
	GROUP BY p.conversation_id
), ev AS (
	` + outbox.InsertSQL + `
	SELECT $10, ok.conversation_id::text,
	       jsonb_set(ok.event::jsonb, '{message,seq}', to_jsonb(ok.seq))
	       || jsonb_build_object('kind', l.kind, 'title', coalesce(l.title, ''),
	                             'recipients', to_jsonb(array_remove(a.members, ok.sender_id::text)),
	                             'muted', to_jsonb(array_remove(a.muted, ok.sender_id::text)))
	FROM ok JOIN locked l ON l.id = ok.conversation_id JOIN audience a ON a.conversation_id = ok.conversation_id
	ORDER BY ok.ord
)
SELECT ok.ord, ok.seq, ok.attachments, l.kind, l.title, a.members, a.muted
FROM ok JOIN locked l ON l.id = ok.conversation_id JOIN audience a ON a.conversation_id = ok.conversation_id`

// pendingSend is a message waiting for its batch.
type pendingSend struct {
	ctx  context.Context
	in   messaging.SendInput
	done chan sendOutcome // buffered: the writer never waits for a caller that gave up
}

// sendOutcome is what a batch did with one message.
type sendOutcome struct {
	res messaging.SendResult
	// stored is false when the message failed a check (Send finds out which); alone is set when
	// the batch failed as a whole, so the message is to be sent on its own.
	stored, alone bool
	err           error
}

// sendBatcher groups concurrent sends. It keeps no goroutine of its own: a writer is started when
// a message finds fewer than batchWriters at work, and ends when nothing is waiting.
type sendBatcher struct {
	pool     *pgxpool.Pool
	sizes    prometheus.Histogram
	failed   prometheus.Counter
	mu       sync.Mutex
	queue    []*pendingSend
	inFlight map[clientKey]bool // client ids in the batches being written
	writing  int
}

func newSendBatcher(pool *pgxpool.Pool) *sendBatcher {
	return &sendBatcher{pool: pool, sizes: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "messaging_send_batch_size",
		Help:    "Messages stored by one statement (messages without attachments are batched).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64},
	}), failed: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "messaging_send_batch_failures_total",
		Help: "Batches of messages whose statement failed, so that each message was sent alone.",
	})}
}

// send queues in and waits for its batch.
func (b *sendBatcher) send(ctx context.Context, in messaging.SendInput) sendOutcome {
	p := &pendingSend{ctx: ctx, in: in, done: make(chan sendOutcome, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	if b.writing == 0 || (b.writing < batchWriters && len(b.queue) >= maxBatch) {
		if batch := b.take(); len(batch) > 0 {
			b.writing++
			go b.write(batch)
		}
	}
	b.mu.Unlock()
	select {
	case out := <-p.done:
		return out
	case <-ctx.Done():
		return sendOutcome{err: ctx.Err()}
	}
}

// clientKey names a message's client id, which is unique per sender.
type clientKey struct{ sender, client string }

func keyOf(p *pendingSend) (clientKey, bool) {
	if p.in.ClientID == nil {
		return clientKey{}, false
	}
	return clientKey{p.in.SenderID, *p.in.ClientID}, true
}

// take removes the next batch from the queue; b.mu is held. A message reusing the client id of
// one already in a batch, this one or one being written, waits for a later batch: a statement's
// duplicate check sees neither, and the retry must find the first message, not fail its whole
// batch on the unique index.
func (b *sendBatcher) take() []*pendingSend {
	var (
		batch []*pendingSend
		rest  = b.queue[:0]
	)
	for _, p := range b.queue {
		k, ok := keyOf(p)
		if len(batch) == maxBatch || ok && b.inFlight[k] {
			rest = append(rest, p)
			continue
		}
		if ok {
			if b.inFlight == nil {
				b.inFlight = map[clientKey]bool{}
			}
			b.inFlight[k] = true
		}
		batch = append(batch, p)
	}
	clear(b.queue[len(rest):])
	b.queue = rest
	return batch
}

// write stores batches while the queue has messages it may take.
func (b *sendBatcher) write(batch []*pendingSend) {
	for {
		b.store(batch)
		b.mu.Lock()
		for _, p := range batch {
			if k, ok := keyOf(p); ok {
				delete(b.inFlight, k)
			}
		}
		if batch = b.take(); len(batch) == 0 {
			// What is left waits on a batch in flight, whose writer takes it next.
			b.writing--
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

// store writes one batch and hands each message its outcome.
func (b *sendBatcher) store(batch []*pendingSend) {
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.done <- sendOutcome{err: err}
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	b.sizes.Observe(float64(len(live)))
	// The statement outlives any one caller's context: the others' messages are in it too.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(live[0].ctx), batchTimeout)
	defer cancel()
	outs, rolledBack, err := b.exec(ctx, live)
	if rolledBack {
		b.failed.Inc()
	}
	for i, p := range live {
		switch {
		case rolledBack:
			// One message's race (a retry from another node, say) must not fail the others.
			p.done <- sendOutcome{alone: true}
		case err != nil:
			p.done <- sendOutcome{err: err}
		default:
			p.done <- outs[i]
		}
	}
}

// exec writes a batch.
func (b *sendBatcher) exec(ctx context.Context, batch []*pendingSend) ([]sendOutcome, bool, error) {
	ins := make([]messaging.SendInput, len(batch))
	for i, p := range batch {
		ins[i] = p.in
	}
	return storeMessages(ctx, b.pool, ins, nil)
}

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// storeMessages runs sendSQL for ins, whose attachments columns are attachments (JSON; nil for
// none). rolledBack says the statement failed, so nothing was stored; any other error comes
// after the commit.
func storeMessages(ctx context.Context, q querier, ins []messaging.SendInput, attachments []string) (
	_ []sendOutcome, rolledBack bool, _ error) {
	n := len(ins)
	var (
		ids, convs, senders = make([]string, n), make([]string, n), make([]string, n)
		clients, replies    = make([]*string, n), make([]*string, n)
		contents            = make([]string, n)
		times               = make([]time.Time, n)
	)
	for i, in := range ins {
		ids[i], convs[i], senders[i], clients[i], contents[i], replies[i], times[i] =
			in.ID, in.ConversationID, in.SenderID, in.ClientID, in.Content, in.ReplyTo, in.CreatedAt
	}
	if attachments == nil {
		attachments = make([]string, n)
		for i := range attachments {
			attachments[i] = "[]"
		}
	}
	// The event as the service will publish it, but for what only the statement knows.
	events := make([]string, n)
	for i, in := range ins {
		m := messageOf(in)
		var err error
		if m.Attachments, err = attachmentsOf(in.ConversationID, []byte(attachments[i])); err != nil {
			return nil, true, err
		}
		b, err := json.Marshal(messaging.MessageSent{Message: m})
		if err != nil {
			return nil, true, fmt.Errorf("encoding the event of a message: %w", err)
		}
		events[i] = string(b)
	}
	// Planned for each batch (an unnamed statement), never from a cached generic plan: a plan made
	// while messages was small hashes the whole table for the duplicate and reply checks, and
	// stays until the table is analyzed again. Where autovacuum lags or is off, that made a
	// batch cost 70 ms instead of 2 ms once the table had grown by 200,000 rows (docs/perf.md).
	rows, err := q.Query(ctx, sendSQL, pgx.QueryExecModeCacheDescribe, ids, convs, senders, clients, contents, replies, times,
		attachments, events, messaging.MessageSentName)
	if err != nil {
		return nil, true, fmt.Errorf("storing %d messages: %w", n, err)
	}
	defer rows.Close()
	outs := make([]sendOutcome, n)
	for rows.Next() {
		var (
			ord            int
			res            = messaging.SendResult{Created: true}
			files          []byte
			members, muted []string
		)
		if err := rows.Scan(&ord, &res.Message.Seq, &files, &res.Kind, &res.Title, &members, &muted); err != nil {
			return nil, false, fmt.Errorf("reading stored messages: %w", err)
		}
		if ord < 1 || ord > n {
			return nil, false, fmt.Errorf("stored message %d of a batch of %d", ord, n)
		}
		in := ins[ord-1]
		seq := res.Message.Seq
		res.Message = messageOf(in)
		res.Message.Seq = seq
		if res.Message.Attachments, err = attachmentsOf(in.ConversationID, files); err != nil {
			return nil, false, err
		}
		res.Recipients, res.Muted = audience(in.SenderID, members, muted)
		outs[ord-1] = sendOutcome{res: res, stored: true}
	}
	if err := rows.Err(); err != nil {
		return nil, true, fmt.Errorf("storing %d messages: %w", n, err)
	}
	return outs, false, nil
}

// messageOf is the message in, as stored but for its seq.
func messageOf(in messaging.SendInput) messaging.Message {
	return messaging.Message{ID: in.ID, ConversationID: in.ConversationID, SenderID: in.SenderID, ClientID: in.ClientID,
		Content: in.Content, ReplyTo: in.ReplyTo, CreatedAt: in.CreatedAt}
}

// audience is the conversation's active members other than the sender, and those of them who
// muted it.
func audience(sender string, members, mutedBy []string) ([]string, map[string]bool) {
	recipients := make([]string, 0, len(members))
	for _, u := range members {
		if u != sender {
			recipients = append(recipients, u)
		}
	}
	muted := make(map[string]bool, len(mutedBy))
	for _, u := range mutedBy {
		if u != sender {
			muted[u] = true
		}
	}
	return recipients, muted
}
