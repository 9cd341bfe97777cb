package messaging

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/page"
)

// SendRequest is a message as a client sends it (socket message:send or REST POST).
type SendRequest struct {
	ConversationID string   `json:"conversationId"`
	ClientID       string   `json:"clientId"`
	Content        string   `json:"content"`
	ReplyTo        string   `json:"replyTo"`
	AttachmentIDs  []string `json:"attachmentIds"`
}

func checkContent(content string, attachments int) string {
	n := utf8.RuneCountInString(content)
	switch {
	case strings.TrimSpace(content) == "" && attachments == 0:
		return "a message needs text or an attachment"
	case n > MaxContent:
		return fmt.Sprintf("is too long (%d characters; at most %d)", n, MaxContent)
	case strings.ContainsRune(content, 0):
		return "must not contain NUL characters"
	case !utf8.ValidString(content):
		return "must be valid UTF-8"
	}
	return ""
}

// Send stores a message and delivers it. A retry with the same clientId returns the message the
// first attempt stored (created false) and delivers nothing again.
func (s *Service) Send(ctx context.Context, p identity.Principal, req SendRequest) (Message, bool, error) {
	if err := requireVerified(p); err != nil {
		return Message{}, false, err
	}
	var bad []errs.FieldError
	if !ids.Valid(req.ConversationID) {
		return Message{}, false, notFound()
	}
	if msg := checkContent(req.Content, len(req.AttachmentIDs)); msg != "" {
		bad = append(bad, errs.FieldError{Field: "content", Message: msg})
	}
	if req.ClientID != "" && !clientIDPattern.MatchString(req.ClientID) {
		bad = append(bad, errs.FieldError{Field: "clientId", Message: "must be 1–64 letters, digits or . _ : -"})
	}
	if req.ReplyTo != "" && !ids.Valid(req.ReplyTo) {
		bad = append(bad, errs.FieldError{Field: "replyTo", Message: "is not a message id"})
	}
	if len(req.AttachmentIDs) > MaxAttachments {
		bad = append(bad, errs.FieldError{Field: "attachmentIds", Message: fmt.Sprintf("at most %d attachments", MaxAttachments)})
	}
	for _, a := range req.AttachmentIDs {
		if !ids.Valid(a) {
			bad = append(bad, errs.FieldError{Field: "attachmentIds", Message: "is not a list of attachment ids"})
			break
		}
	}
	if len(bad) > 0 {
		return Message{}, false, errs.Fields(bad...)
	}
	in := SendInput{ID: ids.New(), ConversationID: req.ConversationID, SenderID: p.UserID, Content: req.Content,
		AttachmentIDs: req.AttachmentIDs, CreatedAt: s.now()}
	if req.ClientID != "" {
		in.ClientID = &req.ClientID
	}
	if req.ReplyTo != "" {
		in.ReplyTo = &req.ReplyTo
	}
	res, err := s.d.Store.Send(ctx, in)
	if err != nil {
		return Message{}, false, err
	}
	if !res.Created {
		return res.Message, false, nil
	}
	// The store recorded the same event with the message, for what must follow it durably.
	s.d.Events.Publish(ctx, SentEvent(res))
	return res.Message, true, nil
}

// SentEvent is the event of a stored message.
func SentEvent(res SendResult) MessageSent {
	muted := make([]string, 0, len(res.Muted))
	for _, r := range res.Recipients { // in the recipients' order, so the event is deterministic
		if res.Muted[r] {
			muted = append(muted, r)
		}
	}
	recipients := res.Recipients
	if recipients == nil {
		recipients = []string{}
	}
	return MessageSent{Message: res.Message, Kind: res.Kind, Title: res.Title, Recipients: recipients, Muted: muted}
}

// PreviewOf is the first PreviewLength characters of a message, on one line.
func PreviewOf(m Message) string {
	if m.Deleted {
		return ""
	}
	text := strings.Join(strings.Fields(m.Content), " ")
	if text == "" && len(m.Attachments) > 0 {
		text = "📎 " + m.Attachments[0].Name
	}
	if utf8.RuneCountInString(text) > PreviewLength {
		r := []rune(text)
		text = string(r[:PreviewLength-1]) + "…"
	}
	return text
}

// HistoryPage is a stretch of a conversation. Newest first when read backwards (NextBefore
// continues), oldest first when catching up (NextAfter continues).
type HistoryPage struct {
	Items      []Message `json:"items"`
	NextBefore *int64    `json:"nextBefore"`
	NextAfter  *int64    `json:"nextAfter"`
	LastSeq    int64     `json:"lastSeq"`
}

// History reads a conversation: before=0 starts at the newest message; after>=0 returns what came
// after that seq, oldest first (what a client that reconnects asks for).
func (s *Service) History(ctx context.Context, p identity.Principal, id string, before, after int64, limit int) (HistoryPage, error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return HistoryPage{}, err
	}
	if before < 0 {
		return HistoryPage{}, errs.Fields(errs.FieldError{Field: "before", Message: "must be a seq (a positive number)"})
	}
	c, err := s.Conversation(ctx, p, id)
	if err != nil {
		return HistoryPage{}, err
	}
	msgs, err := s.d.Store.History(ctx, id, HistoryQuery{From: c.FromSeq, Before: before, After: after}, limit+1)
	if err != nil {
		return HistoryPage{}, err
	}
	out := HistoryPage{Items: msgs, LastSeq: c.LastSeq}
	if len(msgs) > limit {
		out.Items = msgs[:limit]
		last := out.Items[limit-1].Seq
		if after >= 0 {
			out.NextAfter = &last
		} else {
			out.NextBefore = &last
		}
	}
	if out.Items == nil {
		out.Items = []Message{}
	}
	return out, nil
}

// Edit changes the text of the principal's own message.
func (s *Service) Edit(ctx context.Context, p identity.Principal, conversationID, messageID, content string) (Message, error) {
	if !ids.Valid(conversationID) || !ids.Valid(messageID) {
		return Message{}, errs.E(errs.NotFound, "no such message")
	}
	c, err := s.Conversation(ctx, p, conversationID)
	if err != nil {
		return Message{}, err
	}
	if msg := checkContent(content, 1); msg != "" || strings.TrimSpace(content) == "" {
		if msg == "" {
			msg = "an edited message needs text; delete it instead"
		}
		return Message{}, errs.Fields(errs.FieldError{Field: "content", Message: msg})
	}
	m, err := s.d.Store.EditMessage(ctx, conversationID, messageID, p.UserID, content, s.now())
	if err != nil {
		return Message{}, err
	}
	s.d.Events.Publish(ctx, MessageEdited{Message: m, Audience: userIDsOf(c.Participants)})
	return m, nil
}

// Delete turns the principal's own message into a tombstone.
func (s *Service) Delete(ctx context.Context, p identity.Principal, conversationID, messageID string) (Message, error) {
	if !ids.Valid(conversationID) || !ids.Valid(messageID) {
		return Message{}, errs.E(errs.NotFound, "no such message")
	}
	c, err := s.Conversation(ctx, p, conversationID)
	if err != nil {
		return Message{}, err
	}
	m, keys, err := s.d.Store.DeleteMessage(ctx, conversationID, messageID, p.UserID, s.now())
	if err != nil {
		return Message{}, err
	}
	for _, k := range keys { // a deleted message's files go with it
		if s.d.Files == nil {
			break
		}
		if err := s.d.Files.Delete(ctx, k); err != nil {
			s.d.Log.WarnContext(ctx, "deleting an attachment of a deleted message", "key", k, "err", err)
		}
	}
	s.d.Events.Publish(ctx, MessageDeleted{Message: m, Audience: userIDsOf(c.Participants)})
	return m, nil
}

// MarkRead records that the principal read the conversation up to seq (0: everything) and sends
// the read receipt to the participants and the new counts to the principal's other devices.
func (s *Service) MarkRead(ctx context.Context, p identity.Principal, id string, seq int64) (ReadState, error) {
	if !ids.Valid(id) {
		return ReadState{}, notFound()
	}
	if seq < 0 {
		return ReadState{}, errs.Fields(errs.FieldError{Field: "seq", Message: "must be a seq (0 for everything)"})
	}
	c, err := s.Conversation(ctx, p, id)
	if err != nil {
		return ReadState{}, err
	}
	if seq == 0 {
		seq = c.LastSeq
	}
	st, err := s.d.Store.MarkRead(ctx, id, p.UserID, seq)
	if err != nil {
		return ReadState{}, err
	}
	if !st.Changed {
		return st, nil
	}
	s.d.Events.Publish(ctx, ReadStateChanged{State: st, Audience: userIDsOf(c.Participants)})
	s.publishUnread(ctx, p.UserID, id)
	if st.ReadSeq >= st.LastSeq {
		s.d.Events.Publish(ctx, ConversationRead{ConversationID: id, UserID: p.UserID})
	}
	return st, nil
}

// MarkDelivered records that the principal's device received the conversation up to seq and
// sends the delivered receipt to the participants.
func (s *Service) MarkDelivered(ctx context.Context, p identity.Principal, id string, seq int64) (ReadState, error) {
	if !ids.Valid(id) {
		return ReadState{}, notFound()
	}
	if seq <= 0 {
		return ReadState{}, errs.Fields(errs.FieldError{Field: "seq", Message: "must be the seq of a received message"})
	}
	c, err := s.Conversation(ctx, p, id)
	if err != nil {
		return ReadState{}, err
	}
	st, err := s.d.Store.MarkDelivered(ctx, id, p.UserID, seq)
	if err != nil {
		return ReadState{}, err
	}
	if st.Changed {
		s.d.Events.Publish(ctx, ReadStateChanged{State: st, Delivered: true, Audience: userIDsOf(c.Participants)})
	}
	return st, nil
}

// Unread is a user's unread counts: in one conversation and over all of them (muted and archived
// conversations do not add to the total).
type Unread struct {
	ConversationID string `json:"conversationId,omitempty"`
	UnreadCount    int64  `json:"unreadCount"`
	Total          int64  `json:"totalUnread"`
}

// UnreadTotal returns the principal's total unread count.
func (s *Service) UnreadTotal(ctx context.Context, p identity.Principal) (Unread, error) {
	n, err := s.d.Store.TotalUnread(ctx, p.UserID)
	return Unread{Total: n}, err
}

// publishUnread tells a user's devices their fresh counts after something changed them.
func (s *Service) publishUnread(ctx context.Context, userID, conversationID string) {
	c, err := s.d.Store.Conversation(ctx, conversationID, userID)
	if err != nil {
		return
	}
	total, err := s.d.Store.TotalUnread(ctx, userID)
	if err != nil {
		return
	}
	s.d.Events.Publish(ctx, UnreadChanged{UserID: userID, Unread: Unread{ConversationID: conversationID, UnreadCount: c.UnreadCount, Total: total}})
}

// Search finds messages in the principal's conversations (all, or one), newest first.
func (s *Service) Search(ctx context.Context, p identity.Principal, text, conversationID string, limit int, cursor string) (page.Page[SearchHit], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[SearchHit]{}, err
	}
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n < 2 || n > 200 {
		return page.Page[SearchHit]{}, errs.Fields(errs.FieldError{Field: "q", Message: "must be 2 to 200 characters"})
	}
	if conversationID != "" {
		// Someone else's conversation (or no conversation) is not found, as everywhere else,
		// rather than a search that finds nothing.
		if !ids.Valid(conversationID) {
			return page.Page[SearchHit]{}, notFound()
		}
		if _, err := s.d.Store.Conversation(ctx, conversationID, p.UserID); err != nil {
			return page.Page[SearchHit]{}, err
		}
	}
	q := SearchQuery{Text: text, ConversationID: conversationID}
	if cursor != "" {
		q.After = &SearchCursor{}
		if err := page.Decode(cursor, q.After); err != nil {
			return page.Page[SearchHit]{}, err
		}
		if !ids.Valid(q.After.ID) {
			return page.Page[SearchHit]{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
	}
	hits, err := s.d.Store.Search(ctx, p.UserID, q, limit+1)
	if err != nil {
		return page.Page[SearchHit]{}, err
	}
	return page.Build(hits, limit, func(h SearchHit) any { return SearchCursor{At: h.Message.CreatedAt, ID: h.Message.ID} }), nil
}

// Block stops another user's new direct messages to the principal.
func (s *Service) Block(ctx context.Context, p identity.Principal, userID string) error {
	if !ids.Valid(userID) {
		return errs.E(errs.NotFound, "no such user")
	}
	if userID == p.UserID {
		return errs.Fields(errs.FieldError{Field: "id", Message: "you cannot block yourself"})
	}
	// One may block whoever one knows of: a profile one may see, or someone met in a
	// conversation (who may well hide their profile). Anyone else reads as unknown, so that
	// blocking tells nobody who exists and the block list shows no hidden names.
	known, err := s.d.Directory.VisibleUsers(ctx, p, []string{userID})
	if err != nil {
		return err
	}
	if len(known) == 0 {
		met, err := s.d.Store.ShareConversation(ctx, p.UserID, userID)
		if err != nil {
			return err
		}
		if !met {
			return errs.E(errs.NotFound, "no such user")
		}
	}
	return s.d.Store.Block(ctx, p.UserID, userID)
}

// Unblock lifts a block.
func (s *Service) Unblock(ctx context.Context, p identity.Principal, userID string) error {
	if !ids.Valid(userID) {
		return errs.E(errs.NotFound, "no such user")
	}
	return s.d.Store.Unblock(ctx, p.UserID, userID)
}

// Blocked lists the users the principal blocked.
func (s *Service) Blocked(ctx context.Context, p identity.Principal) ([]identity.Card, error) {
	list, err := s.d.Store.Blocked(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	cards, err := s.d.Directory.Cards(ctx, list)
	if err != nil {
		return nil, err
	}
	out := make([]identity.Card, 0, len(list))
	for _, id := range list {
		if c, ok := cards[id]; ok {
			out = append(out, c)
		}
	}
	return out, nil
}

func (s *Service) blockedBy(ctx context.Context, blocker, blocked string) (bool, error) {
	list, err := s.d.Store.Blocked(ctx, blocker)
	if err != nil {
		return false, err
	}
	for _, id := range list {
		if id == blocked {
			return true, nil
		}
	}
	return false, nil
}
