// Package activity is the activity feed: what happened across the areas (a question asked, an
// answer posted, a best answer chosen, a use case published, a member joined), for me (about my
// content and what I did), my organization and the platform. Entries are written by a durable
// subscriber of the other areas' events; who may see one is decided when it is read.
package activity

import (
	"context"
	"fmt"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
)

// Kinds of entry.
const (
	KindQuestionAsked    = "question_asked"
	KindTopicPosted      = "topic_posted"
	KindAnswerPosted     = "answer_posted"
	KindReplyPosted      = "reply_posted"
	KindBestAnswer       = "best_answer"
	KindUseCasePublished = "use_case_published"
	KindMemberJoined     = "member_joined"
	KindEventCreated     = "event_created"
	KindFollowed         = "followed"
)

// Scopes of the feed.
const (
	ScopeMe           = "me"
	ScopeOrganization = "organization"
	ScopePlatform     = "platform"
)

// Entry is one line of the feed in the frontend's shape ({type, user, action, content, time,
// category}) plus what links it: ids, the actor's id and avatar, the path to open.
type Entry struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"` // the frontend's icon: question | answer | case | member
	Kind       string    `json:"kind"`
	User       string    `json:"user"`
	UserID     string    `json:"userId"`
	UserAvatar *string   `json:"userAvatar"`
	Action     string    `json:"action"`
	ActionAr   string    `json:"actionAr"`
	Content    string    `json:"content"`
	Time       time.Time `json:"time"`
	Category   string    `json:"category"`
	TargetType string    `json:"targetType"` // forum_topic | use_case | event | user
	TargetID   string    `json:"targetId"`
	Link       string    `json:"link"`

	// Who may be pushed the entry live: the actor's profile visibility, organization and the
	// owner of the content it is about.
	Visibility     string `json:"-"`
	OrganizationID string `json:"-"`
	OwnerID        string `json:"-"`
	// EventOrganizationID is an organization event's organization: only its members see it.
	EventOrganizationID string `json:"-"`
}

// words are the type and the action of each kind, in English and Arabic.
var words = map[string][3]string{
	KindQuestionAsked:    {"question", "asked a question", "طرح سؤالاً"},
	KindTopicPosted:      {"question", "started a discussion", "بدأ نقاشاً"},
	KindAnswerPosted:     {"answer", "answered a question", "أجاب عن سؤال"},
	KindReplyPosted:      {"answer", "replied to a discussion", "ردّ على نقاش"},
	KindBestAnswer:       {"answer", "chose a best answer", "اختار أفضل إجابة"},
	KindUseCasePublished: {"case", "published a use case", "نشر حالة استخدام"},
	KindMemberJoined:     {"member", "joined", "انضم إلى"},
	KindEventCreated:     {"event", "created an event", "أنشأ فعالية"},
	KindFollowed:         {"connection", "started following", "بدأ متابعة"},
}

// Describe fills the entry's type and action from its kind.
func (e *Entry) Describe() {
	w, ok := words[e.Kind]
	if !ok {
		w = [3]string{"other", e.Kind, e.Kind}
	}
	e.Type, e.Action, e.ActionAr = w[0], w[1], w[2]
}

// Query is one page of a feed as a viewer sees it.
type Query struct {
	Viewer         string
	OrganizationID string
	Scope          string
	Limit          int
	After          int64 // the id of the last entry seen; 0 for the first page
}

// Store reads the feed.
type Store interface {
	Feed(ctx context.Context, q Query) ([]Entry, error)
}

// Service answers feeds.
type Service struct{ store Store }

// NewService returns the service over store.
func NewService(store Store) *Service { return &Service{store: store} }

type cursor struct {
	ID int64 `json:"i"`
}

// Feed is one page of the viewer's feed of scope.
func (s *Service) Feed(ctx context.Context, p identity.Principal, scope string, limit int, after string) (page.Page[Entry], error) {
	switch scope {
	case "":
		scope = ScopePlatform
	case ScopeMe, ScopeOrganization, ScopePlatform:
	default:
		return page.Page[Entry]{}, errs.Fields(errs.FieldError{Field: "scope", Message: "must be me, organization or platform"})
	}
	n, err := page.Limit(limit)
	if err != nil {
		return page.Page[Entry]{}, err
	}
	var c cursor
	if after != "" {
		if err := page.Decode(after, &c); err != nil || c.ID <= 0 {
			return page.Page[Entry]{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "is not a cursor this list issued"})
		}
	}
	items, err := s.store.Feed(ctx, Query{Viewer: p.UserID, OrganizationID: p.OrganizationID, Scope: scope, Limit: n + 1, After: c.ID})
	if err != nil {
		return page.Page[Entry]{}, fmt.Errorf("activity: reading the %s feed: %w", scope, err)
	}
	return page.Build(items, n, func(e Entry) any {
		var id int64
		_, _ = fmt.Sscan(e.ID, &id)
		return cursor{ID: id}
	}), nil
}
