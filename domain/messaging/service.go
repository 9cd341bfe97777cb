package messaging

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/page"
)

// Deps are the service's collaborators.
type Deps struct {
	Store     Store
	Directory Directory
	// Events hears what happened once it is stored (events.go).
	Events event.Publisher
	Files  Files // optional: without it, attachments are refused
	Log    *slog.Logger
	Now    func() time.Time
}

// Service holds the messaging rules.
type Service struct {
	d Deps
}

// NewService returns a service on d.
func NewService(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Events == nil {
		d.Events = event.Discard{}
	}
	return &Service{d: d}
}

func (s *Service) now() time.Time { return s.d.Now().UTC() }

// requireVerified: messages reach other people, so they wait for a confirmed address.
func requireVerified(p identity.Principal) error {
	if !p.EmailVerified {
		return errs.E(errs.Forbidden, "confirm your email address before messaging; the link is in the mail we sent you")
	}
	return nil
}

func notFound() error { return errs.E(errs.NotFound, "no such conversation") }

// noUser is the one answer for a user the principal may not bring into a conversation: unknown,
// inactive, hidden from them or not accepting them (allowMessagesFrom) read alike, so that
// nobody learns from it who exists or what they chose.
func noUser(field, id string) error {
	return errs.Fields(errs.FieldError{Field: field, Message: "no active user " + id})
}

// requireReachable answers noUser for the first of userIDs the principal may not reach.
func (s *Service) requireReachable(ctx context.Context, p identity.Principal, field string, userIDs []string) error {
	reach, err := s.d.Directory.Reachable(ctx, p, userIDs)
	if err != nil {
		return err
	}
	for _, id := range userIDs {
		if !reach[id] {
			return noUser(field, id)
		}
	}
	return nil
}

// NewInput asks for a conversation: one other participant and no title make a direct one;
// otherwise a group, which needs a title.
type NewInput struct {
	ParticipantIDs []string `json:"participantIds"`
	Title          string   `json:"title"`
	Kind           string   `json:"kind"`
}

// Create starts a conversation. A direct conversation with someone who already has one with the
// principal is that conversation (created false).
func (s *Service) Create(ctx context.Context, p identity.Principal, in NewInput) (Conversation, bool, error) {
	if err := requireVerified(p); err != nil {
		return Conversation{}, false, err
	}
	in.Title = strings.TrimSpace(in.Title)
	// Distinct, in the order given: the first named joins first (and takes over as admin first).
	var others []string
	for _, id := range in.ParticipantIDs {
		if id != p.UserID && !slices.Contains(others, id) {
			others = append(others, id)
		}
	}
	if in.Kind == "" {
		in.Kind = KindGroup
		if len(others) == 1 && in.Title == "" {
			in.Kind = KindDirect
		}
	}
	var bad []errs.FieldError
	switch {
	case in.Kind != KindDirect && in.Kind != KindGroup:
		bad = append(bad, errs.FieldError{Field: "kind", Message: "must be direct or group"})
	case len(others) == 0:
		bad = append(bad, errs.FieldError{Field: "participantIds", Message: "name at least one other user"})
	case in.Kind == KindDirect && len(others) != 1:
		bad = append(bad, errs.FieldError{Field: "participantIds", Message: "a direct conversation has exactly one other participant"})
	case len(others)+1 > MaxParticipants:
		bad = append(bad, errs.FieldError{Field: "participantIds", Message: fmt.Sprintf("a group has at most %d participants, you included", MaxParticipants)})
	}
	if in.Kind == KindGroup {
		if msg := checkTitle(in.Title); msg != "" {
			bad = append(bad, errs.FieldError{Field: "title", Message: msg})
		}
	} else if in.Title != "" {
		bad = append(bad, errs.FieldError{Field: "title", Message: "direct conversations have no title"})
	}
	if len(bad) > 0 {
		return Conversation{}, false, errs.Fields(bad...)
	}
	if err := s.requireReachable(ctx, p, "participantIds", others); err != nil {
		if in.Kind != KindDirect || errs.CodeOf(err) != errs.Validation {
			return Conversation{}, false, err
		}
		// A pair that already talks goes on talking: a later allowMessagesFrom or profile
		// visibility stops new conversations, not this one. Asked for every refused id alike
		// (there is none for an unknown one), so the answer still tells nothing.
		c, ok, lerr := s.existingDirect(ctx, p, others[0])
		if lerr != nil {
			return Conversation{}, false, lerr
		}
		if !ok {
			return Conversation{}, false, err
		}
		return c, false, nil
	}
	nc := NewConversation{ID: ids.New(), Kind: in.Kind, Title: in.Title, CreatedBy: p.UserID,
		Participants: append([]string{p.UserID}, others...), CreatedAt: s.now()}
	if in.Kind == KindDirect {
		if blocked, err := s.blockedBy(ctx, others[0], p.UserID); err != nil {
			return Conversation{}, false, err
		} else if blocked {
			return Conversation{}, false, errs.E(errs.Forbidden, "this user does not accept messages from you")
		}
		nc.DirectKey = DirectKey(p.UserID, others[0])
	}
	id, created, err := s.d.Store.CreateConversation(ctx, nc)
	if err != nil {
		return Conversation{}, false, err
	}
	c, err := s.Conversation(ctx, p, id)
	if err != nil {
		return Conversation{}, false, err
	}
	if created {
		s.d.Events.Publish(ctx, ConversationStarted{Conversation: c.withoutPersonalState(), Joined: nc.Participants})
	}
	return c, created, nil
}

// existingDirect returns the principal's direct conversation with other, if there is one.
func (s *Service) existingDirect(ctx context.Context, p identity.Principal, other string) (Conversation, bool, error) {
	id, ok, err := s.d.Store.DirectConversation(ctx, DirectKey(p.UserID, other))
	if err != nil || !ok {
		return Conversation{}, false, err
	}
	c, err := s.Conversation(ctx, p, id)
	if errs.CodeOf(err) == errs.NotFound {
		return Conversation{}, false, nil
	}
	if err != nil {
		return Conversation{}, false, err
	}
	return c, true, nil
}

// DirectKey names the pair of a direct conversation, whichever of the two starts it.
func DirectKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + ":" + b
}

func checkTitle(t string) string {
	n := utf8.RuneCountInString(t)
	switch {
	case n == 0:
		return "a group needs a title"
	case n > MaxTitle:
		return fmt.Sprintf("is too long (at most %d characters)", MaxTitle)
	case strings.ContainsFunc(t, func(r rune) bool { return r < 0x20 }):
		return "must not contain control characters"
	}
	return ""
}

// withoutPersonalState is how a conversation is announced to all its participants at once.
func (c Conversation) withoutPersonalState() Conversation {
	c.LastReadSeq, c.UnreadCount, c.Muted, c.Archived, c.Role, c.FromSeq = 0, 0, false, false, "", 0
	return c
}

// Conversation returns one conversation of the principal, with its participants.
func (s *Service) Conversation(ctx context.Context, p identity.Principal, id string) (Conversation, error) {
	if !ids.Valid(id) {
		return Conversation{}, notFound()
	}
	c, err := s.d.Store.Conversation(ctx, id, p.UserID)
	if err != nil {
		return Conversation{}, err
	}
	list := []Conversation{c}
	if err := s.withParticipants(ctx, list); err != nil {
		return Conversation{}, err
	}
	return list[0], nil
}

// AuthorizeJoin lets participants, and nobody else, into a conversation's socket room.
func (s *Service) AuthorizeJoin(ctx context.Context, p identity.Principal, id string) error {
	if !ids.Valid(id) {
		return notFound()
	}
	_, err := s.d.Store.Conversation(ctx, id, p.UserID)
	return err
}

// Conversations lists the principal's conversations, newest activity first.
func (s *Service) Conversations(ctx context.Context, p identity.Principal, archived bool, limit int, cursor string) (page.Page[Conversation], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Conversation]{}, err
	}
	q := ListQuery{Archived: archived}
	if cursor != "" {
		q.After = &ListCursor{}
		if err := page.Decode(cursor, q.After); err != nil {
			return page.Page[Conversation]{}, err
		}
		if !ids.Valid(q.After.ID) {
			return page.Page[Conversation]{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
	}
	list, err := s.d.Store.Conversations(ctx, p.UserID, q, limit+1)
	if err != nil {
		return page.Page[Conversation]{}, err
	}
	pg := page.Build(list, limit, func(c Conversation) any { return ListCursor{At: c.LastActivityAt, ID: c.ID} })
	if err := s.withParticipants(ctx, pg.Items); err != nil {
		return page.Page[Conversation]{}, err
	}
	return pg, nil
}

// withParticipants fills in the participants of conversations, with their names and pictures.
func (s *Service) withParticipants(ctx context.Context, list []Conversation) error {
	if len(list) == 0 {
		return nil
	}
	idsOf := make([]string, len(list))
	for i, c := range list {
		idsOf[i] = c.ID
	}
	parts, err := s.d.Store.Participants(ctx, idsOf, false)
	if err != nil {
		return err
	}
	var users []string
	for _, ps := range parts {
		for _, pt := range ps {
			users = append(users, pt.UserID)
		}
	}
	cards, err := s.d.Directory.Cards(ctx, users)
	if err != nil {
		return err
	}
	for i := range list {
		ps := parts[list[i].ID]
		for j := range ps {
			c := cards[ps[j].UserID]
			ps[j].FirstName, ps[j].LastName, ps[j].Avatar = c.FirstName, c.LastName, c.Avatar
			ps[j].OrganizationID, ps[j].OrganizationName, ps[j].Active = c.OrganizationID, c.OrganizationName, c.Active
		}
		if ps == nil {
			ps = []Participant{}
		}
		list[i].Participants = ps
	}
	return nil
}

// ConversationUpdate is a participant's PATCH: archive and mute are their own settings; the title
// of a group is its admins'.
type ConversationUpdate struct {
	Archived *bool   `json:"archived"`
	Muted    *bool   `json:"muted"`
	Title    *string `json:"title"`
}

// Update changes a conversation's settings.
func (s *Service) Update(ctx context.Context, p identity.Principal, id string, up ConversationUpdate) (Conversation, error) {
	if up.Archived == nil && up.Muted == nil && up.Title == nil {
		return Conversation{}, errs.Fields(errs.FieldError{Field: "archived", Message: "send archived, muted or title"})
	}
	c, err := s.Conversation(ctx, p, id)
	if err != nil {
		return Conversation{}, err
	}
	if up.Title != nil {
		title := strings.TrimSpace(*up.Title)
		if c.Kind != KindGroup {
			return Conversation{}, errs.Fields(errs.FieldError{Field: "title", Message: "direct conversations have no title"})
		}
		if msg := checkTitle(title); msg != "" {
			return Conversation{}, errs.Fields(errs.FieldError{Field: "title", Message: msg})
		}
		err := s.d.Store.InConversation(ctx, id, p.UserID, func(tx ConversationTx) error {
			if err := requireGroupAdmin(tx.Conversation(), p); err != nil {
				return err
			}
			return tx.SetTitle(ctx, title)
		})
		if err != nil {
			return Conversation{}, err
		}
	}
	if up.Archived != nil || up.Muted != nil {
		if err := s.d.Store.UpdateParticipant(ctx, id, p.UserID, ParticipantUpdate{Archived: up.Archived, Muted: up.Muted}); err != nil {
			return Conversation{}, err
		}
	}
	out, err := s.Conversation(ctx, p, id)
	if err != nil {
		return Conversation{}, err
	}
	if up.Title != nil {
		s.d.Events.Publish(ctx, ConversationChanged{Conversation: out.withoutPersonalState(), Audience: userIDsOf(out.Participants)})
	}
	if up.Archived != nil || up.Muted != nil { // the user's other devices
		s.d.Events.Publish(ctx, SettingsChanged{UserID: p.UserID, Conversation: out})
		s.publishUnread(ctx, p.UserID, id)
	}
	return out, nil
}

func requireGroupAdmin(c Conversation, p identity.Principal) error {
	if c.Kind != KindGroup {
		return errs.E(errs.Conflict, "direct conversations have a fixed pair of participants")
	}
	if c.Role != RoleAdmin {
		return errs.E(errs.Forbidden, "only the group's admins may do this")
	}
	return nil
}

// AddParticipants brings users into a group. They read from the next message on.
func (s *Service) AddParticipants(ctx context.Context, p identity.Principal, id string, userIDs []string) (Conversation, error) {
	if err := requireVerified(p); err != nil {
		return Conversation{}, err
	}
	if !ids.Valid(id) {
		return Conversation{}, notFound()
	}
	slices.Sort(userIDs)
	userIDs = slices.Compact(userIDs)
	if len(userIDs) == 0 {
		return Conversation{}, errs.Fields(errs.FieldError{Field: "userIds", Message: "name at least one user"})
	}
	// Being put in a group is being written to: the adder needs what starting a conversation
	// needs (the person's allowMessagesFrom admits them), and anyone else reads as unknown.
	if err := s.requireReachable(ctx, p, "userIds", userIDs); err != nil {
		return Conversation{}, err
	}
	var added []string
	err := s.d.Store.InConversation(ctx, id, p.UserID, func(tx ConversationTx) error {
		if err := requireGroupAdmin(tx.Conversation(), p); err != nil {
			return err
		}
		current, err := tx.ActiveParticipants(ctx)
		if err != nil {
			return err
		}
		in := map[string]bool{}
		for _, pt := range current {
			in[pt.UserID] = true
		}
		for _, u := range userIDs {
			if !in[u] {
				added = append(added, u)
			}
		}
		if len(current)+len(added) > MaxParticipants {
			return errs.E(errs.Conflict, "a group has at most %d participants", MaxParticipants)
		}
		for _, u := range added {
			if err := tx.AddParticipant(ctx, u, RoleMember, s.now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Conversation{}, err
	}
	out, err := s.Conversation(ctx, p, id)
	if err != nil {
		return Conversation{}, err
	}
	if len(added) > 0 {
		s.d.Events.Publish(ctx,
			ConversationStarted{Conversation: out.withoutPersonalState(), Joined: added},
			ConversationChanged{Conversation: out.withoutPersonalState(), Audience: userIDsOf(out.Participants)})
	}
	return out, nil
}

// RemoveParticipant takes someone out of a group (its admins), or lets the principal leave.
func (s *Service) RemoveParticipant(ctx context.Context, p identity.Principal, id, userID string) error {
	if !ids.Valid(id) || !ids.Valid(userID) {
		return notFound()
	}
	var remaining []string
	err := s.d.Store.InConversation(ctx, id, p.UserID, func(tx ConversationTx) error {
		c := tx.Conversation()
		if c.Kind != KindGroup {
			return errs.E(errs.Conflict, "direct conversations have a fixed pair of participants; archive it instead")
		}
		if userID != p.UserID && c.Role != RoleAdmin {
			return errs.E(errs.Forbidden, "only the group's admins may remove people")
		}
		current, err := tx.ActiveParticipants(ctx)
		if err != nil {
			return err
		}
		found, admins := false, 0
		for _, pt := range current {
			if pt.UserID == userID {
				found = true
			} else {
				remaining = append(remaining, pt.UserID)
				if pt.Role == RoleAdmin {
					admins++
				}
			}
		}
		if !found {
			return errs.E(errs.NotFound, "no such participant")
		}
		if err := tx.RemoveParticipant(ctx, userID, s.now()); err != nil {
			return err
		}
		// A group keeps an admin: the longest-standing member takes over.
		if admins == 0 && len(remaining) > 0 {
			return tx.SetRole(ctx, current[firstOther(current, userID)].UserID, RoleAdmin)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.d.Events.Publish(ctx, ParticipantRemoved{ConversationID: id, UserID: userID})
	if len(remaining) > 0 {
		if c, err := s.d.Store.Conversation(ctx, id, remaining[0]); err == nil {
			list := []Conversation{c}
			if err := s.withParticipants(ctx, list); err == nil {
				s.d.Events.Publish(ctx, ConversationChanged{Conversation: list[0].withoutPersonalState(), Audience: remaining})
			}
		}
	}
	return nil
}

// firstOther is the index of the earliest participant who is not userID (participants come in
// the order they joined).
func firstOther(ps []Participant, userID string) int {
	for i, pt := range ps {
		if pt.UserID != userID {
			return i
		}
	}
	return 0
}

func userIDsOf(ps []Participant) []string {
	out := make([]string, len(ps))
	for i, pt := range ps {
		out[i] = pt.UserID
	}
	return out
}

var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
