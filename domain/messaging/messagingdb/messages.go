package messagingdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/platform/postgres"
)

const messageColumns = `m.id, m.conversation_id, m.seq, m.sender_id, m.client_id, m.content, m.reply_to, m.attachments,
	m.deleted_at IS NOT NULL, m.created_at, m.edited_at`

func scanMessage(row pgx.Row, extra ...any) (messaging.Message, error) {
	var m messaging.Message
	var attachments []byte
	err := row.Scan(append([]any{&m.ID, &m.ConversationID, &m.Seq, &m.SenderID, &m.ClientID, &m.Content, &m.ReplyTo,
		&attachments, &m.Deleted, &m.CreatedAt, &m.EditedAt}, extra...)...)
	if err != nil {
		return m, err
	}
	m.Attachments, err = attachmentsOf(m.ConversationID, attachments)
	return m, err
}

// attachmentsOf decodes a message's attachments column and gives each its download URL.
func attachmentsOf(conversationID string, raw []byte) ([]messaging.Attachment, error) {
	list := []messaging.Attachment{}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("decoding attachments: %w", err)
	}
	for i := range list {
		list[i].URL = "/api/v1/conversations/" + conversationID + "/attachments/" + list[i].ID
	}
	return list, nil
}

// Send stores a message: in a batch with others when it has no attachments (batch.go), alone
// with them claimed in the same transaction when it has.
func (s *Store) Send(ctx context.Context, in messaging.SendInput) (messaging.SendResult, error) {
	if len(in.AttachmentIDs) == 0 {
		out := s.sends.send(ctx, in)
		switch {
		case out.err != nil:
			return messaging.SendResult{}, out.err
		case out.stored:
			return out.res, nil
		case !out.alone:
			return s.whyNotSent(ctx, in)
		}
	}
	return s.sendAlone(ctx, in)
}

// sendAlone stores one message by itself: its attachments, if any, are claimed in the same
// transaction, and a message that is not stored leaves them unclaimed.
func (s *Store) sendAlone(ctx context.Context, in messaging.SendInput) (messaging.SendResult, error) {
	var out sendOutcome
	store := func(q querier, attachments string) error {
		outs, _, err := storeMessages(ctx, q, []messaging.SendInput{in}, []string{attachments})
		if err != nil {
			return err
		}
		if out = outs[0]; !out.stored {
			return pgx.ErrNoRows
		}
		return nil
	}
	var err error
	if len(in.AttachmentIDs) == 0 {
		err = store(s.pool, "[]") // one statement, one round trip: its own transaction
	} else {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			attachments, err := claimAttachments(ctx, tx, in)
			if err != nil {
				return err
			}
			return store(tx, string(attachments))
		})
	}
	if errors.Is(err, pgx.ErrNoRows) || postgres.IsUniqueViolation(err, "messages_client") {
		return s.whyNotSent(ctx, in)
	}
	if err != nil {
		return messaging.SendResult{}, err
	}
	return out.res, nil
}

// claimAttachments attaches the sender's unused uploads of this conversation to the message, all
// of them or none.
func claimAttachments(ctx context.Context, tx pgx.Tx, in messaging.SendInput) ([]byte, error) {
	rows, err := tx.Query(ctx, `
		UPDATE message_attachments SET message_id = $1
		WHERE id = ANY($2::uuid[]) AND conversation_id = $3 AND uploader_id = $4 AND message_id IS NULL
		RETURNING id, name, content_type, size`, in.ID, in.AttachmentIDs, in.ConversationID, in.SenderID)
	if err != nil {
		return nil, fmt.Errorf("claiming attachments: %w", err)
	}
	var list []messaging.Attachment
	for rows.Next() {
		var a messaging.Attachment
		if err := rows.Scan(&a.ID, &a.Name, &a.ContentType, &a.Size); err != nil {
			return nil, err
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(list) != len(in.AttachmentIDs) {
		return nil, errs.Fields(errs.FieldError{Field: "attachmentIds",
			Message: "names an attachment that is not your unused upload to this conversation"})
	}
	return json.Marshal(list)
}

// whyNotSent explains a message that was not stored, or returns the one a retry already stored.
func (s *Store) whyNotSent(ctx context.Context, in messaging.SendInput) (messaging.SendResult, error) {
	if in.ClientID != nil {
		m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m
			WHERE m.sender_id = $1 AND m.client_id = $2`, in.SenderID, *in.ClientID))
		if err == nil {
			if m.ConversationID != in.ConversationID {
				return messaging.SendResult{}, errs.E(errs.Conflict, "clientId %s was already used for a message in another conversation", *in.ClientID)
			}
			return messaging.SendResult{Message: m, Created: false}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return messaging.SendResult{}, err
		}
	}
	c, err := s.Conversation(ctx, in.ConversationID, in.SenderID)
	if err != nil {
		return messaging.SendResult{}, err
	}
	if in.ReplyTo != nil {
		var ok bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2)`,
			*in.ReplyTo, in.ConversationID).Scan(&ok); err != nil {
			return messaging.SendResult{}, err
		}
		if !ok {
			return messaging.SendResult{}, errs.Fields(errs.FieldError{Field: "replyTo", Message: "is not a message of this conversation"})
		}
	}
	if c.Kind == messaging.KindDirect {
		return messaging.SendResult{}, errs.E(errs.Forbidden, "this user does not accept messages from you")
	}
	return messaging.SendResult{}, fmt.Errorf("message to %s not stored for no known reason", in.ConversationID)
}

// Message returns one message of a conversation.
func (s *Store) Message(ctx context.Context, conversationID, messageID string) (messaging.Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.id = $1 AND m.conversation_id = $2`, messageID, conversationID))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, errs.E(errs.NotFound, "no such message")
	}
	return m, err
}

// History reads a stretch of a conversation through its (conversation_id, seq) index.
func (s *Store) History(ctx context.Context, conversationID string, q messaging.HistoryQuery, limit int) ([]messaging.Message, error) {
	var rows pgx.Rows
	var err error
	if q.After >= 0 {
		rows, err = s.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages m
			WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3`,
			conversationID, max(q.After, q.From-1), limit)
	} else {
		before := q.Before
		if before == 0 {
			before = 1 << 62
		}
		rows, err = s.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages m
			WHERE m.conversation_id = $1 AND m.seq >= $2 AND m.seq < $3 ORDER BY m.seq DESC LIMIT $4`,
			conversationID, q.From, before, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("reading history: %w", err)
	}
	defer rows.Close()
	var out []messaging.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("reading history: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// EditMessage replaces the text of the sender's own message.
func (s *Store) EditMessage(ctx context.Context, conversationID, messageID, senderID, content string, at time.Time) (messaging.Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, `UPDATE messages m SET content = $4, edited_at = $5
		WHERE m.id = $1 AND m.conversation_id = $2 AND m.sender_id = $3 AND m.deleted_at IS NULL
		RETURNING `+messageColumns, messageID, conversationID, senderID, content, at))
	if errors.Is(err, pgx.ErrNoRows) {
		return m, s.whyNotChanged(ctx, conversationID, messageID, "edit")
	}
	return m, err
}

// DeleteMessage makes a tombstone of the sender's message and drops its attachments' records.
func (s *Store) DeleteMessage(ctx context.Context, conversationID, messageID, senderID string, at time.Time) (messaging.Message, []string, error) {
	var m messaging.Message
	var keys []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		m, err = scanMessage(tx.QueryRow(ctx, `UPDATE messages m SET content = '', attachments = '[]', deleted_at = $4
			WHERE m.id = $1 AND m.conversation_id = $2 AND m.sender_id = $3 AND m.deleted_at IS NULL
			RETURNING `+messageColumns, messageID, conversationID, senderID, at))
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `DELETE FROM message_attachments WHERE message_id = $1 RETURNING blob_key`, messageID)
		if err != nil {
			return err
		}
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return m, nil, s.whyNotChanged(ctx, conversationID, messageID, "delete")
	}
	return m, keys, err
}

func (s *Store) whyNotChanged(ctx context.Context, conversationID, messageID, verb string) error {
	m, err := s.Message(ctx, conversationID, messageID)
	switch {
	case err != nil:
		return err
	case m.Deleted:
		return errs.E(errs.Gone, "the message was deleted")
	}
	return errs.E(errs.Forbidden, "only its sender may %s a message", verb)
}

// markSQL raises one of a participant's marks (read or delivered) to $3, never lowering it and
// never past the last message; reading implies delivery.
func markSQL(column string) string {
	set := "delivered_seq = greatest(p.delivered_seq, least($3, c.last_seq))"
	if column == "last_read_seq" {
		set = "last_read_seq = greatest(p.last_read_seq, least($3, c.last_seq)), " +
			"delivered_seq = greatest(p.delivered_seq, greatest(p.last_read_seq, least($3, c.last_seq)))"
	}
	return `
	WITH old AS (
		SELECT p.` + column + ` AS v FROM conversation_participants p
		WHERE p.conversation_id = $1 AND p.user_id = $2 AND p.left_at IS NULL FOR UPDATE
	)
	UPDATE conversation_participants p
	SET ` + set + `
	FROM conversations c, old
	WHERE c.id = p.conversation_id AND p.conversation_id = $1 AND p.user_id = $2 AND p.left_at IS NULL
	RETURNING p.last_read_seq, p.delivered_seq, c.last_seq, p.` + column + ` <> old.v`
}

var (
	readSQL      = markSQL("last_read_seq")
	deliveredSQL = markSQL("delivered_seq")
)

// MarkRead raises the read state.
func (s *Store) MarkRead(ctx context.Context, conversationID, userID string, seq int64) (messaging.ReadState, error) {
	return s.mark(ctx, readSQL, conversationID, userID, seq)
}

// MarkDelivered raises the delivered state.
func (s *Store) MarkDelivered(ctx context.Context, conversationID, userID string, seq int64) (messaging.ReadState, error) {
	return s.mark(ctx, deliveredSQL, conversationID, userID, seq)
}

func (s *Store) mark(ctx context.Context, sql, conversationID, userID string, seq int64) (messaging.ReadState, error) {
	st := messaging.ReadState{ConversationID: conversationID, UserID: userID}
	err := s.pool.QueryRow(ctx, sql, conversationID, userID, seq).Scan(&st.ReadSeq, &st.DeliveredSeq, &st.LastSeq, &st.Changed)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, noConversation()
	}
	if err != nil {
		return st, fmt.Errorf("marking conversation %s: %w", conversationID, err)
	}
	return st, nil
}

// TotalUnread sums a user's unread messages over conversations neither muted nor archived.
func (s *Store) TotalUnread(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `
		SELECT coalesce(sum(c.last_seq - p.last_read_seq), 0)
		FROM conversation_participants p JOIN conversations c ON c.id = p.conversation_id
		WHERE p.user_id = $1 AND p.left_at IS NULL AND NOT p.muted AND NOT p.archived`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting unread: %w", err)
	}
	return n, nil
}

// Search matches messages of the user's conversations in English and in Arabic.
func (s *Store) Search(ctx context.Context, userID string, q messaging.SearchQuery, limit int) ([]messaging.SearchHit, error) {
	args := []any{userID, q.Text}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := ""
	if q.ConversationID != "" {
		where += " AND m.conversation_id = " + arg(q.ConversationID) + "::uuid"
	}
	if q.After != nil {
		where += " AND (m.created_at, m.id) < (" + arg(q.After.At) + ", " + arg(q.After.ID) + "::uuid)"
	}
	rows, err := s.pool.Query(ctx, `
		WITH q AS (SELECT websearch_to_tsquery('english', $2) || websearch_to_tsquery('arabic', $2) AS query)
		SELECT `+messageColumns+`,
		       ts_headline('english', m.content, q.query, 'StartSel=<mark>, StopSel=</mark>, MaxFragments=2, MaxWords=20, MinWords=5')
		FROM q, messages m
		JOIN conversation_participants p ON p.conversation_id = m.conversation_id AND p.user_id = $1 AND p.left_at IS NULL
		WHERE m.deleted_at IS NULL AND m.seq >= p.from_seq AND m.search @@ q.query`+where+`
		ORDER BY m.created_at DESC, m.id DESC LIMIT `+arg(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("searching messages: %w", err)
	}
	defer rows.Close()
	var out []messaging.SearchHit
	for rows.Next() {
		var h messaging.SearchHit
		m, err := scanMessage(rows, &h.Highlight)
		if err != nil {
			return nil, fmt.Errorf("searching messages: %w", err)
		}
		h.Message = m
		out = append(out, h)
	}
	return out, rows.Err()
}
