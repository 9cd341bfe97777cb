// Package messagingdb is the PostgreSQL store of conversations and messages.
package messagingdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/messaging"
)

// Store implements messaging.Store.
type Store struct {
	pool  *pgxpool.Pool
	sends *sendBatcher
}

// New returns a store on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, sends: newSendBatcher(pool)} }

// Collectors are the store's metrics, for the node's registry.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.sends.sizes, s.sends.failed}
}

var _ messaging.Store = (*Store)(nil)

func noConversation() error { return errs.E(errs.NotFound, "no such conversation") }

// CreateConversation writes a conversation and its participants in one transaction.
func (s *Store) CreateConversation(ctx context.Context, c messaging.NewConversation) (string, bool, error) {
	id, created := c.ID, true
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var directKey any
		if c.DirectKey != "" {
			directKey = c.DirectKey
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO conversations (id, kind, title, created_by, direct_key, last_activity_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $6) ON CONFLICT (direct_key) DO NOTHING`,
			c.ID, c.Kind, c.Title, c.CreatedBy, directKey, c.CreatedAt)
		if err != nil {
			return fmt.Errorf("inserting conversation: %w", err)
		}
		if tag.RowsAffected() == 0 { // the pair already talks
			created = false
			return tx.QueryRow(ctx, `SELECT id FROM conversations WHERE direct_key = $1`, c.DirectKey).Scan(&id)
		}
		for i, u := range c.Participants {
			role := messaging.RoleMember
			if i == 0 && c.Kind == messaging.KindGroup {
				role = messaging.RoleAdmin
			}
			// A microsecond apart, so "who joined first" follows the order they were named in.
			joined := c.CreatedAt.Add(time.Duration(i) * time.Microsecond)
			if _, err := tx.Exec(ctx, `INSERT INTO conversation_participants (conversation_id, user_id, role, joined_at)
				VALUES ($1, $2, $3, $4)`, c.ID, u, role, joined); err != nil {
				return fmt.Errorf("adding participant: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return id, created, nil
}

// DirectConversation finds a pair's direct conversation by its key.
func (s *Store) DirectConversation(ctx context.Context, directKey string) (string, bool, error) {
	var id string
	err := s.pool.QueryRow(ctx, `SELECT id FROM conversations WHERE direct_key = $1`, directKey).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("finding direct conversation: %w", err)
	}
	return id, true, nil
}

// ShareConversation reports whether a is in a conversation that b is or was in.
func (s *Store) ShareConversation(ctx context.Context, a, b string) (bool, error) {
	var shared bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM conversation_participants pa
		               JOIN conversation_participants pb ON pb.conversation_id = pa.conversation_id
		               WHERE pa.user_id = $1 AND pa.left_at IS NULL AND pb.user_id = $2)`, a, b).Scan(&shared)
	if err != nil {
		return false, fmt.Errorf("looking for a shared conversation: %w", err)
	}
	return shared, nil
}

const conversationColumns = `c.id, c.kind, c.title, c.created_by, c.last_seq, c.last_activity_at, c.created_at,
	p.role, p.last_read_seq, p.from_seq, p.muted, p.archived,
	m.id, m.sender_id, m.seq, left(m.content, 400), m.attachments, m.deleted_at IS NOT NULL, m.created_at`

func scanConversation(row pgx.Row) (messaging.Conversation, error) {
	var c messaging.Conversation
	var (
		mID, mSender *string
		mSeq         *int64
		mText        *string
		mAttachments []byte
		mDeleted     *bool
		mCreated     *time.Time
	)
	err := row.Scan(&c.ID, &c.Kind, &c.Title, &c.CreatedBy, &c.LastSeq, &c.LastActivityAt, &c.CreatedAt,
		&c.Role, &c.LastReadSeq, &c.FromSeq, &c.Muted, &c.Archived,
		&mID, &mSender, &mSeq, &mText, &mAttachments, &mDeleted, &mCreated)
	if err != nil {
		return c, err
	}
	c.UnreadCount = max(0, c.LastSeq-c.LastReadSeq)
	if mID != nil {
		m := messaging.Message{ID: *mID, SenderID: *mSender, Seq: *mSeq, Content: *mText, Deleted: *mDeleted, CreatedAt: *mCreated}
		_ = json.Unmarshal(mAttachments, &m.Attachments)
		c.LastMessage = &messaging.Preview{ID: m.ID, SenderID: m.SenderID, Seq: m.Seq, Text: messaging.PreviewOf(m),
			Deleted: m.Deleted, CreatedAt: m.CreatedAt}
	}
	return c, nil
}

// Conversation returns the conversation as an active participant sees it.
func (s *Store) Conversation(ctx context.Context, id, userID string) (messaging.Conversation, error) {
	c, err := scanConversation(s.pool.QueryRow(ctx, `SELECT `+conversationColumns+`
		FROM conversation_participants p
		JOIN conversations c ON c.id = p.conversation_id
		LEFT JOIN messages m ON m.id = c.last_message_id
		WHERE p.conversation_id = $1 AND p.user_id = $2 AND p.left_at IS NULL`, id, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, noConversation()
	}
	if err != nil {
		return c, fmt.Errorf("loading conversation %s: %w", id, err)
	}
	return c, nil
}

// Conversations pages a user's conversations by last activity. The page is cut before the last
// messages are joined, so a user with a thousand conversations costs one index scan and a sort.
func (s *Store) Conversations(ctx context.Context, userID string, q messaging.ListQuery, limit int) ([]messaging.Conversation, error) {
	args := []any{userID, q.Archived, limit}
	keyset := ""
	if q.After != nil {
		keyset = ` AND (c.last_activity_at, c.id) < ($4, $5::uuid)`
		args = append(args, q.After.At, q.After.ID)
	}
	rows, err := s.pool.Query(ctx, `
		WITH page AS (
			SELECT p.conversation_id
			FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
			WHERE p.user_id = $1 AND p.left_at IS NULL AND p.archived = $2`+keyset+`
			ORDER BY c.last_activity_at DESC, c.id DESC
			LIMIT $3
		)
		SELECT `+conversationColumns+`
		FROM page
		JOIN conversation_participants p ON p.conversation_id = page.conversation_id AND p.user_id = $1
		JOIN conversations c ON c.id = page.conversation_id
		LEFT JOIN messages m ON m.id = c.last_message_id
		ORDER BY c.last_activity_at DESC, c.id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("listing conversations: %w", err)
	}
	defer rows.Close()
	var out []messaging.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("listing conversations: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Participants returns the participants of conversations in the order they joined.
func (s *Store) Participants(ctx context.Context, conversationIDs []string, withLeft bool) (map[string][]messaging.Participant, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT conversation_id, user_id, role, last_read_seq, delivered_seq, joined_at, left_at
		FROM conversation_participants
		WHERE conversation_id = ANY($1::uuid[]) AND ($2 OR left_at IS NULL)
		ORDER BY conversation_id, joined_at, user_id`, conversationIDs, withLeft)
	if err != nil {
		return nil, fmt.Errorf("listing participants: %w", err)
	}
	defer rows.Close()
	out := map[string][]messaging.Participant{}
	for rows.Next() {
		var conv string
		var p messaging.Participant
		if err := rows.Scan(&conv, &p.UserID, &p.Role, &p.LastReadSeq, &p.DeliveredSeq, &p.JoinedAt, &p.LeftAt); err != nil {
			return nil, fmt.Errorf("listing participants: %w", err)
		}
		out[conv] = append(out[conv], p)
	}
	return out, rows.Err()
}

// UpdateParticipant changes a participant's archive and mute settings.
func (s *Store) UpdateParticipant(ctx context.Context, id, userID string, up messaging.ParticipantUpdate) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE conversation_participants SET archived = coalesce($3, archived), muted = coalesce($4, muted)
		WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL`, id, userID, up.Archived, up.Muted)
	if err != nil {
		return fmt.Errorf("updating participant: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return noConversation()
	}
	return nil
}

// InConversation runs fn with the conversation's row locked.
func (s *Store) InConversation(ctx context.Context, id, userID string, fn func(tx messaging.ConversationTx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE`, id); err != nil {
			return fmt.Errorf("locking conversation: %w", err)
		}
		c, err := scanConversation(tx.QueryRow(ctx, `SELECT `+conversationColumns+`
			FROM conversation_participants p
			JOIN conversations c ON c.id = p.conversation_id
			LEFT JOIN messages m ON m.id = c.last_message_id
			WHERE p.conversation_id = $1 AND p.user_id = $2 AND p.left_at IS NULL`, id, userID))
		if errors.Is(err, pgx.ErrNoRows) {
			return noConversation()
		}
		if err != nil {
			return fmt.Errorf("loading conversation: %w", err)
		}
		return fn(&convTx{tx: tx, c: c})
	})
}

type convTx struct {
	tx pgx.Tx
	c  messaging.Conversation
}

func (t *convTx) Conversation() messaging.Conversation { return t.c }

func (t *convTx) SetTitle(ctx context.Context, title string) error {
	_, err := t.tx.Exec(ctx, `UPDATE conversations SET title = $2, updated_at = now() WHERE id = $1`, t.c.ID, title)
	if err != nil {
		return fmt.Errorf("renaming conversation: %w", err)
	}
	return nil
}

// AddParticipant adds a user, or brings back one who left; either way they read from the next
// message on and have nothing unread.
func (t *convTx) AddParticipant(ctx context.Context, userID, role string, at time.Time) error {
	_, err := t.tx.Exec(ctx, `
		INSERT INTO conversation_participants (conversation_id, user_id, role, joined_at, from_seq, last_read_seq, delivered_seq)
		SELECT $1, $2, $3, $4, c.last_seq + 1, c.last_seq, c.last_seq FROM conversations c WHERE c.id = $1
		ON CONFLICT (conversation_id, user_id) DO UPDATE SET
			role = EXCLUDED.role, joined_at = EXCLUDED.joined_at, left_at = NULL, from_seq = EXCLUDED.from_seq,
			last_read_seq = EXCLUDED.last_read_seq, delivered_seq = EXCLUDED.delivered_seq, archived = false, muted = false
		WHERE conversation_participants.left_at IS NOT NULL`, t.c.ID, userID, role, at)
	if err != nil {
		return fmt.Errorf("adding participant: %w", err)
	}
	return nil
}

func (t *convTx) RemoveParticipant(ctx context.Context, userID string, at time.Time) error {
	_, err := t.tx.Exec(ctx, `UPDATE conversation_participants SET left_at = $3, role = 'member'
		WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL`, t.c.ID, userID, at)
	if err != nil {
		return fmt.Errorf("removing participant: %w", err)
	}
	return nil
}

func (t *convTx) SetRole(ctx context.Context, userID, role string) error {
	_, err := t.tx.Exec(ctx, `UPDATE conversation_participants SET role = $3 WHERE conversation_id = $1 AND user_id = $2`, t.c.ID, userID, role)
	if err != nil {
		return fmt.Errorf("setting participant role: %w", err)
	}
	return nil
}

func (t *convTx) ActiveParticipants(ctx context.Context) ([]messaging.Participant, error) {
	rows, err := t.tx.Query(ctx, `
		SELECT user_id, role, last_read_seq, delivered_seq, joined_at FROM conversation_participants
		WHERE conversation_id = $1 AND left_at IS NULL ORDER BY joined_at, user_id`, t.c.ID)
	if err != nil {
		return nil, fmt.Errorf("listing participants: %w", err)
	}
	defer rows.Close()
	var out []messaging.Participant
	for rows.Next() {
		var p messaging.Participant
		if err := rows.Scan(&p.UserID, &p.Role, &p.LastReadSeq, &p.DeliveredSeq, &p.JoinedAt); err != nil {
			return nil, fmt.Errorf("listing participants: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Block records that blocker refuses blocked's direct messages.
func (s *Store) Block(ctx context.Context, blocker, blocked string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, blocker, blocked)
	if err != nil {
		return fmt.Errorf("blocking: %w", err)
	}
	return nil
}

// Unblock lifts a block.
func (s *Store) Unblock(ctx context.Context, blocker, blocked string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2`, blocker, blocked); err != nil {
		return fmt.Errorf("unblocking: %w", err)
	}
	return nil
}

// Blocked lists whom blocker blocked, newest first.
func (s *Store) Blocked(ctx context.Context, blocker string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT blocked_id FROM user_blocks WHERE blocker_id = $1 ORDER BY created_at DESC`, blocker)
	if err != nil {
		return nil, fmt.Errorf("listing blocks: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing blocks: %w", err)
	}
	return out, nil
}

// AddAttachment records an uploaded file.
func (s *Store) AddAttachment(ctx context.Context, a messaging.AttachmentRecord) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO message_attachments (id, conversation_id, uploader_id, name, content_type, size, blob_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, a.ID, a.ConversationID, a.UploaderID, a.Name, a.ContentType, a.Size, a.Key, a.CreatedAt)
	if err != nil {
		return fmt.Errorf("recording attachment: %w", err)
	}
	return nil
}

// Attachment returns an attachment of a conversation.
func (s *Store) Attachment(ctx context.Context, conversationID, id string) (messaging.AttachmentRecord, error) {
	var a messaging.AttachmentRecord
	err := s.pool.QueryRow(ctx, `
		SELECT id, conversation_id, uploader_id, message_id, name, content_type, size, blob_key, created_at
		FROM message_attachments WHERE id = $1 AND conversation_id = $2`, id, conversationID).
		Scan(&a.ID, &a.ConversationID, &a.UploaderID, &a.MessageID, &a.Name, &a.ContentType, &a.Size, &a.Key, &a.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, errs.E(errs.NotFound, "no such attachment")
	}
	if err != nil {
		return a, fmt.Errorf("loading attachment: %w", err)
	}
	return a, nil
}
