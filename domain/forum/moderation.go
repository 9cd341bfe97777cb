package forum

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
)

// Moderation is the platform moderators' part of the forum (identity.PermForumModerate), as in
// Discourse: pin a topic to the top of the lists, lock it against new replies, hide a topic or
// reply with a reason its author is told, and keep the categories. Everyone may read a post's
// earlier versions (its revision history), as Discourse shows them.

// Revision is one version of a post. Title is set on a topic's versions.
type Revision struct {
	Version     int       `json:"version"` // 1 is the post as first written
	Title       *string   `json:"title,omitempty"`
	Content     string    `json:"content"`
	ContentHTML string    `json:"contentHtml"`
	WrittenAt   time.Time `json:"writtenAt"`
	Current     bool      `json:"current"`
}

// NewCategory is what POST /forum/categories takes.
type NewCategory struct {
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	NameAr   string `json:"nameAr"`
	Position *int   `json:"position"` // default: last
}

// CategoryUpdate is what PATCH /forum/categories/{id} takes; nil leaves a field.
type CategoryUpdate struct {
	Name     *string `json:"name"`
	NameAr   *string `json:"nameAr"`
	Position *int    `json:"position"`
}

// Hide is a moderator's hiding of a post, as stored with the change.
type Hide struct {
	By, Reason string
	At         time.Time
	Event      PostHidden // recorded with the change
}

// DefaultCategory takes the topics of a removed category: it cannot be removed itself.
const DefaultCategory = "general"

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Pin pins (on) or unpins a topic: pinned topics head the default list.
func (s *Service) Pin(ctx context.Context, p identity.Principal, topicID string, on bool) (Topic, error) {
	return s.setFlag(ctx, p, topicID, TopicFlags{Pinned: &on})
}

// Lock locks (on) or unlocks a topic: a locked topic takes no new replies.
func (s *Service) Lock(ctx context.Context, p identity.Principal, topicID string, on bool) (Topic, error) {
	return s.setFlag(ctx, p, topicID, TopicFlags{Locked: &on})
}

// TopicFlags are the moderators' flags of a topic; nil leaves one.
type TopicFlags struct {
	Pinned, Locked *bool
}

func (s *Service) setFlag(ctx context.Context, p identity.Principal, topicID string, f TopicFlags) (Topic, error) {
	if err := p.Require(identity.PermForumModerate); err != nil {
		return Topic{}, err
	}
	if !ids.Valid(topicID) {
		return Topic{}, errs.E(errs.NotFound, "no such topic")
	}
	if err := s.store.SetTopicFlags(ctx, topicID, f, s.now().UTC()); err != nil {
		return Topic{}, err
	}
	s.announce(ctx, topicID)
	return s.Topic(ctx, p, topicID)
}

// HideTopic takes a topic out of every list with a reason its author is told.
func (s *Service) HideTopic(ctx context.Context, p identity.Principal, topicID, reason string) error {
	reason, err := s.checkHide(p, topicID, "topic", reason)
	if err != nil {
		return err
	}
	t, err := s.store.Topic(ctx, "", topicID)
	if err != nil {
		return err
	}
	h := s.hide(p, reason, PostHidden{TargetType: "topic", ID: t.ID, TopicID: t.ID, TopicTitle: t.Title, AuthorID: t.Author.ID})
	if err := s.store.HideTopic(ctx, topicID, h); err != nil {
		return err
	}
	t.Content, t.ContentHTML = "", ""
	s.events.Publish(ctx, TopicChanged{Topic: public(t), Deleted: true})
	return nil
}

// HideReply makes a reply a tombstone with a reason its author is told.
func (s *Service) HideReply(ctx context.Context, p identity.Principal, replyID, reason string) error {
	reason, err := s.checkHide(p, replyID, "reply", reason)
	if err != nil {
		return err
	}
	r, err := s.store.Reply(ctx, "", replyID)
	if err != nil {
		return err
	}
	if r.IsDeleted {
		return errs.E(errs.NotFound, "no such reply")
	}
	t, err := s.store.Topic(ctx, "", r.TopicID)
	if err != nil {
		return err
	}
	h := s.hide(p, reason, PostHidden{TargetType: "reply", ID: r.ID, TopicID: t.ID, TopicTitle: t.Title, AuthorID: r.Author.ID})
	if err := s.store.HideReply(ctx, replyID, h); err != nil {
		return err
	}
	s.announce(ctx, r.TopicID, PostChanged{Change: PostDeleted, Reply: tombstone(r, h.At)})
	return nil
}

func (s *Service) checkHide(p identity.Principal, id, noun, reason string) (string, error) {
	if err := p.Require(identity.PermForumModerate); err != nil {
		return "", err
	}
	if !ids.Valid(id) {
		return "", errs.E(errs.NotFound, "no such %s", noun)
	}
	reason = strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(reason); n == 0 || n > identity.MaxReason {
		return "", errs.Fields(errs.FieldError{Field: "reason", Message: "must be 1 to 500 characters"})
	}
	return reason, nil
}

func (s *Service) hide(p identity.Principal, reason string, ev PostHidden) Hide {
	ev.By, ev.Reason = p.UserID, reason
	return Hide{By: p.UserID, Reason: reason, At: s.now().UTC(), Event: ev}
}

// tombstone is what viewers see of a deleted or hidden reply.
func tombstone(r Reply, at time.Time) Reply {
	return Reply{ID: r.ID, TopicID: r.TopicID, ParentID: r.ParentID, Depth: r.Depth, IsDeleted: true,
		ReplyCount: r.ReplyCount, CreatedAt: r.CreatedAt, UpdatedAt: at, Replies: []Reply{}}
}

// TopicRevisions lists a topic's versions, the first as written to the current one.
func (s *Service) TopicRevisions(ctx context.Context, p identity.Principal, topicID string) ([]Revision, error) {
	if !ids.Valid(topicID) {
		return nil, errs.E(errs.NotFound, "no such topic")
	}
	t, err := s.store.Topic(ctx, p.UserID, topicID)
	if err != nil {
		return nil, err
	}
	written := t.CreatedAt
	if t.EditedAt != nil {
		written = *t.EditedAt
	}
	return s.revisions(ctx, "topic", topicID, Revision{Title: &t.Title, Content: t.Content, ContentHTML: t.ContentHTML, WrittenAt: written})
}

// ReplyRevisions lists a reply's versions, the first as written to the current one.
func (s *Service) ReplyRevisions(ctx context.Context, p identity.Principal, replyID string) ([]Revision, error) {
	if !ids.Valid(replyID) {
		return nil, errs.E(errs.NotFound, "no such reply")
	}
	r, err := s.store.Reply(ctx, p.UserID, replyID)
	if err != nil {
		return nil, err
	}
	if r.IsDeleted {
		// What was deleted or hidden is nobody's to read, in any version.
		return nil, errs.E(errs.NotFound, "no such reply")
	}
	written := r.CreatedAt
	if r.EditedAt != nil {
		written = *r.EditedAt
	}
	return s.revisions(ctx, "post", replyID, Revision{Content: r.Content, ContentHTML: r.ContentHTML, WrittenAt: written})
}

func (s *Service) revisions(ctx context.Context, targetType, id string, current Revision) ([]Revision, error) {
	out, err := s.store.Revisions(ctx, targetType, id)
	if err != nil {
		return nil, err
	}
	current.Current = true
	out = append(out, current)
	for i := range out {
		out[i].Version = i + 1
	}
	return out, nil
}

// CreateCategory adds a category (moderators).
func (s *Service) CreateCategory(ctx context.Context, p identity.Principal, in NewCategory) (Category, error) {
	if err := p.Require(identity.PermForumModerate); err != nil {
		return Category{}, err
	}
	in.Slug = strings.TrimSpace(in.Slug)
	if in.Slug == "" {
		in.Slug = slugOf(in.Name)
	}
	var bad []errs.FieldError
	if !slugPattern.MatchString(in.Slug) || len(in.Slug) > 50 {
		bad = append(bad, errs.FieldError{Field: "slug", Message: "must be 1 to 50 lowercase letters, digits and single hyphens"})
	}
	name, nameAr := strings.TrimSpace(in.Name), strings.TrimSpace(in.NameAr)
	bad = append(bad, checkName("name", name)...)
	bad = append(bad, checkName("nameAr", nameAr)...)
	if len(bad) > 0 {
		return Category{}, errs.Fields(bad...)
	}
	c := Category{ID: in.Slug, Slug: in.Slug, Name: name, NameAr: nameAr}
	if err := s.store.CreateCategory(ctx, c, in.Position); err != nil {
		return Category{}, err
	}
	return s.store.Category(ctx, c.ID)
}

// UpdateCategory renames or moves a category (moderators).
func (s *Service) UpdateCategory(ctx context.Context, p identity.Principal, id string, up CategoryUpdate) (Category, error) {
	if err := p.Require(identity.PermForumModerate); err != nil {
		return Category{}, err
	}
	var bad []errs.FieldError
	if up.Name != nil {
		*up.Name = strings.TrimSpace(*up.Name)
		bad = append(bad, checkName("name", *up.Name)...)
	}
	if up.NameAr != nil {
		*up.NameAr = strings.TrimSpace(*up.NameAr)
		bad = append(bad, checkName("nameAr", *up.NameAr)...)
	}
	if len(bad) > 0 {
		return Category{}, errs.Fields(bad...)
	}
	if !slugPattern.MatchString(id) {
		return Category{}, errs.E(errs.NotFound, "no such category")
	}
	if err := s.store.UpdateCategory(ctx, id, up); err != nil {
		return Category{}, err
	}
	return s.store.Category(ctx, id)
}

// DeleteCategory removes a category that has no live topics; its deleted and hidden topics move
// to the default category (moderators).
func (s *Service) DeleteCategory(ctx context.Context, p identity.Principal, id string) error {
	if err := p.Require(identity.PermForumModerate); err != nil {
		return err
	}
	if !slugPattern.MatchString(id) {
		return errs.E(errs.NotFound, "no such category")
	}
	if id == DefaultCategory {
		return errs.E(errs.Conflict, "the general category takes the topics of removed ones; it stays")
	}
	return s.store.DeleteCategory(ctx, id, DefaultCategory)
}

func checkName(field, name string) []errs.FieldError {
	if n := utf8.RuneCountInString(name); n < 2 || n > 50 {
		return []errs.FieldError{{Field: field, Message: "must be 2 to 50 characters"}}
	}
	return nil
}

// slugOf makes a slug of an English name: "Energy & Utilities" → "energy-utilities".
func slugOf(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	return b.String()
}
