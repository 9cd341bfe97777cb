// Package forum is the platform-wide forum: topics in categories, threaded replies, likes,
// bookmarks and best answers. Every signed-in user of every organization reads and posts; what
// one may change is one's own (the best answer: the topic's author's).
package forum

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/ids"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/platform/markdown"
)

// Kinds of topic.
const (
	KindQuestion   = "question"
	KindDiscussion = "discussion"
)

// Sorts of the topic list.
const (
	SortActivity = "activity" // latest activity first, pinned topics on top (the default)
	SortNewest   = "newest"
	SortLiked    = "liked"
	SortViewed   = "viewed"
	// SortHot ranks engagement with time decay: log10(2 × likes + replies + 1) plus the time of
	// posting in units of 12.5 hours (Reddit's form of it), so a lively new topic climbs past an
	// old one and every 12.5 hours of age weigh as ten times the engagement. The score changes
	// only with the counters, never with the clock, so the store keeps it indexed.
	SortHot = "hot"
	// SortUnanswered lists questions nobody replied to yet, newest first.
	SortUnanswered = "unanswered"
)

// Limits of what a post holds.
const (
	MinTitle    = 5
	MaxTitle    = 200
	MaxBody     = 50_000 // characters of Markdown
	MaxTags     = 5
	MaxTag      = 30
	ExcerptLen  = 200
	MaxLinks    = 10   // links to other sites in one post
	countUpTo   = 1000 // a list's total is counted this far (the categories' counters are exact)
	nestedShown = 3    // replies to a reply shown with it; the rest load by parentId
)

// Category is a forum category.
type Category struct {
	ID         string `json:"id"` // the slug
	Slug       string `json:"slug"`
	Name       string `json:"name"`
	NameAr     string `json:"nameAr"`
	TopicCount int    `json:"topicCount"`
}

// Author is who wrote a post, as the frontend shows them.
type Author struct {
	ID         string  `json:"authorId"`
	Name       string  `json:"author"`
	Title      string  `json:"authorTitle"` // "job title - city"
	Avatar     *string `json:"authorAvatar"`
	IsVerified bool    `json:"isVerified"` // of a verified organization
}

// Topic is a topic as the list and the detail show it (§2.4 of the frontend contract).
type Topic struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Kind       string   `json:"kind"`
	Category   string   `json:"category"` // the category's name, as the frontend filters by it
	CategoryID string   `json:"categoryId"`
	Tags       []string `json:"tags"`
	Excerpt    string   `json:"excerpt"`
	// Content (Markdown, for editing) and ContentHTML (rendered, sanitized) come with the detail.
	Content     string `json:"content,omitempty"`
	ContentHTML string `json:"contentHtml,omitempty"`
	Author
	Replies        int        `json:"replies"`
	Views          int        `json:"views"`
	Likes          int        `json:"likes"`
	LikedByMe      bool       `json:"likedByMe"`
	BookmarkedByMe bool       `json:"bookmarkedByMe"`
	IsPinned       bool       `json:"isPinned"`
	IsLocked       bool       `json:"isLocked"`
	HasBestAnswer  bool       `json:"hasBestAnswer"`
	BestAnswerID   *string    `json:"bestAnswerId"`
	IsMine         bool       `json:"isMine"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	EditedAt       *time.Time `json:"editedAt"`
	LastActivityAt time.Time  `json:"lastActivityAt"`
	// Attachments are the topic's files, with the detail.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Comments is the first page of replies to the topic, with the detail.
	Comments         []Reply `json:"comments,omitempty"`
	CommentsNextPage *string `json:"commentsNextCursor,omitempty"`
}

// Reply is a reply to a topic or to another reply. A deleted one stays as a tombstone while it
// has replies, so the thread reads on: no content, no author, IsDeleted.
type Reply struct {
	ID          string  `json:"id"`
	TopicID     string  `json:"topicId"`
	ParentID    *string `json:"parentId"`
	Depth       int     `json:"depth"`
	Content     string  `json:"content"`
	ContentHTML string  `json:"contentHtml"`
	Author
	Likes        int        `json:"likes"`
	LikedByMe    bool       `json:"likedByMe"`
	IsBestAnswer bool       `json:"isBestAnswer"`
	IsDeleted    bool       `json:"isDeleted"`
	IsMine       bool       `json:"isMine"`
	ReplyCount   int        `json:"replyCount"` // direct replies; Replies holds the first few
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	EditedAt     *time.Time `json:"editedAt"`
	Replies      []Reply    `json:"replies"`
}

// Stats are the forum sidebar's aggregates.
type Stats struct {
	Topics          int           `json:"topics"`
	Replies         int           `json:"replies"`
	ActiveMembers   int           `json:"activeMembers"` // posted in the last 30 days
	BestAnswers     int           `json:"bestAnswers"`
	TopContributors []Contributor `json:"topContributors"`
}

// Contributor is a user with their reputation: PointsPerLike for each like their posts received,
// PointsPerBestAnswer for each of their replies chosen as a best answer, PointsPerHelpfulReply
// for each of their replies someone found helpful (liked at least once).
type Contributor struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Title      string  `json:"title"`
	Avatar     *string `json:"avatar"`
	IsVerified bool    `json:"isVerified"`
	Points     int     `json:"points"`
}

// Reputation points.
const (
	PointsPerLike         = 10
	PointsPerBestAnswer   = 50
	PointsPerHelpfulReply = 5
	topContributors       = 5
)

// NewTopic is what POST /forum/topics takes.
type NewTopic struct {
	Title    string   `json:"title"`
	Content  string   `json:"content"`
	Category string   `json:"category"` // slug or name
	Kind     string   `json:"kind"`
	Tags     []string `json:"tags"`
	// AttachmentIDs are the author's uploads (POST /uploads) the topic carries.
	AttachmentIDs []string `json:"attachmentIds"`
}

// TopicUpdate is what PATCH /forum/topics/{id} takes; nil leaves a field as it is.
type TopicUpdate struct {
	Title    *string   `json:"title"`
	Content  *string   `json:"content"`
	Category *string   `json:"category"`
	Tags     *[]string `json:"tags"`
	// AttachmentIDs replaces the topic's files: new ones are attached, missing ones released.
	AttachmentIDs *[]string `json:"attachmentIds"`
}

// NewReply is what POST /forum/topics/{id}/replies takes.
type NewReply struct {
	Content  string  `json:"content"`
	ParentID *string `json:"parentId"`
}

// Query filters and sorts the topic list.
type Query struct {
	Category   string
	Tag        string
	AuthorID   string
	Answered   *bool // questions with (true) or without (false) a best answer
	Bookmarked bool  // the viewer's bookmarks
	Sort       string
}

// Rendered is a post's body as written and as shown.
type Rendered struct {
	Markdown, HTML, Text, Excerpt string
}

// Hit is a topic that matched a search, with the matches marked (`<mark>…</mark>` in text that
// is otherwise HTML-escaped, so a client may render it as HTML).
type Hit struct {
	Topic     Topic  `json:"topic"`
	Title     string `json:"titleHighlight"`
	Highlight string `json:"highlight"`
}

// Store keeps the forum. Methods that take a viewer fill the viewer's likedByMe and
// bookmarkedByMe. Unknown and deleted ids are errs.NotFound.
type Store interface {
	Categories(ctx context.Context) ([]Category, error)
	// Category resolves a slug or a name (either language, any case).
	Category(ctx context.Context, ref string) (Category, error)
	// CreateTopic stores t, counts it in its category and records TopicPosted.
	CreateTopic(ctx context.Context, t StoredTopic) error
	// Topics lists topics in q's order after the cursor, with each one's hot score.
	Topics(ctx context.Context, viewer string, q Query, after *Cursor, limit int) ([]Topic, []float64, error)
	// CountTopics counts the topics q lists, up to upTo: exact is false when there are more.
	CountTopics(ctx context.Context, viewer string, q Query, upTo int) (n int, exact bool, err error)
	Topic(ctx context.Context, viewer, id string) (Topic, error)
	UpdateTopic(ctx context.Context, id string, up StoredTopicUpdate) error
	DeleteTopic(ctx context.Context, id string, at time.Time) error
	// Replies lists the replies to parentID (the topic's when empty) oldest first, each with its
	// first nested replies.
	Replies(ctx context.Context, viewer, topicID, parentID string, after *Cursor, limit, nested int) ([]Reply, error)
	Reply(ctx context.Context, viewer, id string) (Reply, error)
	// CreateReply stores r, counts it on the topic and its parent and records ReplyPosted; a
	// locked or deleted topic, or a parent of another topic, answers errs.NotFound or errs.Conflict.
	CreateReply(ctx context.Context, r StoredReply) error
	UpdateReply(ctx context.Context, id string, body Rendered, at time.Time) error
	DeleteReply(ctx context.Context, id string, at time.Time) error
	// Like records or removes the viewer's like of a topic or reply and returns its count.
	Like(ctx context.Context, targetType, id, userID string, on bool, at time.Time) (int, error)
	Bookmark(ctx context.Context, topicID, userID string, on bool, at time.Time) error
	// Search matches topics' titles and bodies in English and Arabic (spelling variants alike),
	// best first, within q's filters.
	Search(ctx context.Context, viewer, text string, q Query, after *SearchCursor, limit int) ([]Hit, []float32, error)
	// People finds active users whose first, last or full name starts with prefix.
	People(ctx context.Context, prefix string, limit int) ([]Candidate, error)
	// AddViews adds counted views to topics.
	AddViews(ctx context.Context, views map[string]int) error
	// Stats counts the forum's live content and ranks the top contributors.
	Stats(ctx context.Context, since time.Time, top int) (Stats, error)
	// SetTopicFlags sets a topic's moderators' flags (moderation.go).
	SetTopicFlags(ctx context.Context, id string, f TopicFlags, at time.Time) error
	// HideTopic and HideReply delete a post as its author would, keeping who hid it and why and
	// recording h.Event with the change.
	HideTopic(ctx context.Context, id string, h Hide) error
	HideReply(ctx context.Context, id string, h Hide) error
	// Revisions lists the earlier versions of a topic ("topic") or reply ("post"), oldest first.
	Revisions(ctx context.Context, targetType, id string) ([]Revision, error)
	// CreateCategory adds c at position (last when nil); a taken slug or name is errs.Conflict.
	CreateCategory(ctx context.Context, c Category, position *int) error
	UpdateCategory(ctx context.Context, id string, up CategoryUpdate) error
	// DeleteCategory removes a category without live topics (errs.Conflict otherwise), moving
	// its deleted topics to fallback.
	DeleteCategory(ctx context.Context, id, fallback string) error
	// SetBestAnswer marks replyID (a reply of the topic) the topic's best answer, recording
	// BestAnswerMarked when it changed.
	SetBestAnswer(ctx context.Context, topicID, replyID, by string, at time.Time) error
}

// StoredTopic is a new topic as stored.
type StoredTopic struct {
	ID, CategoryID, AuthorID, Kind, Title string
	Body                                  Rendered
	Tags                                  []string
	Mentioned                             []string // users to tell (TopicPosted)
	At                                    time.Time
}

// StoredTopicUpdate is a change of a topic as stored; nil leaves a field.
type StoredTopicUpdate struct {
	Title      *string
	Body       *Rendered
	CategoryID *string
	Tags       []string // nil leaves them
	At         time.Time
}

// StoredReply is a new reply as stored.
type StoredReply struct {
	ID, TopicID, AuthorID string
	ParentID              *string
	Body                  Rendered
	Mentioned             []string // users to tell (ReplyPosted)
	At                    time.Time
}

// Cursor is the position of the last item of a page.
type Cursor struct {
	At    time.Time `json:"t"`
	ID    string    `json:"i"`
	Count int       `json:"n,omitempty"` // the sort's count (likes, views)
	Pin   bool      `json:"p,omitempty"`
	Score float64   `json:"s,omitempty"` // the hot score
}

// SearchCursor is the position of the last hit of a page.
type SearchCursor struct {
	Rank float32 `json:"r"`
	ID   string  `json:"i"`
}

// MaxQuery bounds a search's text.
const MaxQuery = 200

// Search finds topics whose title or body matches text, best first.
func (s *Service) Search(ctx context.Context, p identity.Principal, text string, q Query, limit int, cursor string) (page.Page[Hit], error) {
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n == 0 || n > MaxQuery {
		return page.Page[Hit]{}, errs.Fields(errs.FieldError{Field: "q", Message: "must be 1 to 200 characters"})
	}
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Hit]{}, err
	}
	if q.Category != "" {
		cat, err := s.category(ctx, q.Category)
		if err != nil {
			return page.Page[Hit]{}, errs.Fields(errs.FieldError{Field: "category", Message: "is not a forum category"})
		}
		q.Category = cat.ID
	}
	after, err := decodeAfter[SearchCursor](cursor)
	if err != nil {
		return page.Page[Hit]{}, err
	}
	hits, ranks, err := s.store.Search(ctx, p.UserID, text, q, after, limit+1)
	if err != nil {
		return page.Page[Hit]{}, err
	}
	rank := map[string]float32{}
	for i, h := range hits {
		rank[h.Topic.ID] = ranks[i]
	}
	return page.Build(hits, limit, func(h Hit) any { return SearchCursor{Rank: rank[h.Topic.ID], ID: h.Topic.ID} }), nil
}

// Renderer turns Markdown into sanitized HTML.
type Renderer interface {
	Render(markdown string) (Rendered, error)
}

// Markdown renders posts with platform/markdown.
type Markdown struct{ MD *markdown.Renderer }

// Render implements Renderer.
func (m Markdown) Render(src string) (Rendered, error) {
	html, text, err := m.MD.Render(src)
	if err != nil {
		return Rendered{}, err
	}
	return Rendered{Markdown: src, HTML: html, Text: text, Excerpt: markdown.Excerpt(text, ExcerptLen)}, nil
}

// Views counts a topic's views, once per user per day, away from the request: Seen is cheap and
// the counts reach the store later.
type Views interface {
	Seen(ctx context.Context, topicID, userID string)
}

// Limiter counts a user's posts: 0 when one more is allowed, else how long until it would be.
type Limiter interface {
	Post(ctx context.Context, userID string) (retryAfter time.Duration, err error)
}

// Service is the forum's rules.
type Service struct {
	store  Store
	render Renderer
	events event.Publisher
	limit  Limiter
	views  Views
	people People
	files  Attachments
	now    func() time.Time
}

// now is the forum's clock, to the millisecond: what a document store keeps of a time (MongoDB's
// dates, where the bodies' versions may live) and what a browser's Date shows, so that a post
// reads the same whichever store holds it.
func now() time.Time { return time.Now().Truncate(time.Millisecond) }

// Deps are what the service is built from; Events and Limits may be nil (nobody hears, nothing
// is limited).
type Deps struct {
	Store    Store
	Renderer Renderer
	Events   event.Publisher
	Limits   Limiter
	Views    Views
	// People resolves mentions (nil: mentions are plain text).
	People People
	// Files keeps topics' attachments (nil: attachmentIds is refused).
	Files Attachments
}

// NewService returns the forum service.
func NewService(d Deps) *Service {
	if d.Events == nil {
		d.Events = event.Discard{}
	}
	return &Service{store: d.Store, render: d.Renderer, events: d.Events, limit: d.Limits, views: d.Views, people: d.People, files: d.Files, now: now}
}

// compose turns a new post into what is stored: what was found wrong with it refuses it, then
// the poster's rate, then its body is rendered with its mentions.
func (s *Service) compose(ctx context.Context, p identity.Principal, bad []errs.FieldError, content string) (Rendered, []string, error) {
	if !p.EmailVerified {
		// Posts reach every organization: they wait for a confirmed address, as messages do.
		return Rendered{}, nil, errs.E(errs.Forbidden, "confirm your email address before posting; the link is in the mail we sent you")
	}
	if len(bad) > 0 {
		return Rendered{}, nil, errs.Fields(bad...)
	}
	if err := s.allowPost(ctx, p); err != nil {
		return Rendered{}, nil, err
	}
	return s.renderPost(ctx, p, content)
}

// allowPost refuses a post beyond the user's rate with errs.RateLimited and when to retry.
func (s *Service) allowPost(ctx context.Context, p identity.Principal) error {
	if s.limit == nil {
		return nil
	}
	wait, err := s.limit.Post(ctx, p.UserID)
	if err != nil {
		return err
	}
	if wait > 0 {
		e := errs.E(errs.RateLimited, "you are posting too fast; try again in a moment")
		e.RetryAfter = wait
		return e
	}
	return nil
}

// announce publishes a change of the topic (as anyone sees it) after the fact: with the reply
// that came or went when there is one, else on its own.
func (s *Service) announce(ctx context.Context, topicID string, post ...PostChanged) {
	var topic *Topic
	if t, err := s.store.Topic(ctx, "", topicID); err == nil {
		t.Content, t.ContentHTML = "", ""
		t = public(t)
		topic = &t
	}
	if len(post) > 0 {
		p := post[0]
		p.Reply.LikedByMe, p.Reply.IsMine = false, false
		p.Topic = topic
		s.events.Publish(ctx, p)
		return
	}
	if topic != nil {
		s.events.Publish(ctx, TopicChanged{Topic: *topic})
	}
}

// public is t as every viewer sees it.
func public(t Topic) Topic {
	t.LikedByMe, t.BookmarkedByMe, t.IsMine = false, false, false
	return t
}

// Stats are the sidebar's aggregates: counts, members active in the last 30 days, and the top
// contributors by reputation.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	return s.store.Stats(ctx, s.now().Add(-30*24*time.Hour), topContributors)
}

// Categories lists the categories with their topic counts.
func (s *Service) Categories(ctx context.Context) ([]Category, error) { return s.store.Categories(ctx) }

// CreateTopic posts a topic as p.
func (s *Service) CreateTopic(ctx context.Context, p identity.Principal, in NewTopic) (Topic, error) {
	var bad []errs.FieldError
	title := strings.TrimSpace(in.Title)
	bad = append(bad, checkTitle(title)...)
	bad = append(bad, checkBody("content", in.Content)...)
	if in.Kind == "" {
		in.Kind = KindDiscussion
	}
	if in.Kind != KindQuestion && in.Kind != KindDiscussion {
		bad = append(bad, errs.FieldError{Field: "kind", Message: "must be question or discussion"})
	}
	tags, tagProblems := cleanTags(in.Tags)
	bad = append(bad, tagProblems...)
	bad = append(bad, checkAttachments(in.AttachmentIDs)...)
	cat, err := s.category(ctx, in.Category)
	if err != nil {
		bad = append(bad, errs.FieldError{Field: "category", Message: "is not a forum category"})
	}
	body, who, err := s.compose(ctx, p, bad, in.Content)
	if err != nil {
		return Topic{}, err
	}
	t := StoredTopic{ID: ids.New(), CategoryID: cat.ID, AuthorID: p.UserID, Kind: in.Kind, Title: title,
		Body: body, Tags: tags, Mentioned: who, At: s.now().UTC()}
	if err := s.attach(ctx, p, t.ID, nil, in.AttachmentIDs); err != nil {
		return Topic{}, err
	}
	if err := s.store.CreateTopic(ctx, t); err != nil {
		return Topic{}, s.unattach(ctx, t.ID, nil, err)
	}
	stored, err := s.store.Topic(ctx, p.UserID, t.ID)
	if err != nil {
		return Topic{}, err
	}
	listed := public(stored)
	listed.Content, listed.ContentHTML = "", ""
	s.events.Publish(ctx, TopicCreated{Topic: listed})
	return stored, nil
}

// Topics lists topics as q asks, a page at a time.
func (s *Service) Topics(ctx context.Context, p identity.Principal, q Query, limit int, cursor string) (page.Page[Topic], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Topic]{}, err
	}
	switch q.Sort {
	case "":
		q.Sort = SortActivity
	case SortActivity, SortNewest, SortLiked, SortViewed, SortHot, SortUnanswered:
	default:
		return page.Page[Topic]{}, errs.Fields(errs.FieldError{Field: "sort",
			Message: "must be activity, newest, liked, viewed, hot or unanswered"})
	}
	if q.Category != "" {
		cat, err := s.category(ctx, q.Category)
		if err != nil {
			return page.Page[Topic]{}, errs.Fields(errs.FieldError{Field: "category", Message: "is not a forum category"})
		}
		q.Category = cat.ID
	}
	if q.AuthorID != "" && !ids.Valid(q.AuthorID) {
		return page.Page[Topic]{}, errs.Fields(errs.FieldError{Field: "authorId", Message: "is not an id"})
	}
	after, err := decodeAfter[Cursor](cursor)
	if err != nil {
		return page.Page[Topic]{}, err
	}
	items, scores, err := s.store.Topics(ctx, p.UserID, q, after, limit+1)
	if err != nil {
		return page.Page[Topic]{}, err
	}
	score := map[string]float64{}
	for i, t := range items {
		score[t.ID] = scores[i]
	}
	pg := page.Build(items, limit, func(t Topic) any {
		c := topicCursor(t, q.Sort)
		if q.Sort == SortHot {
			c.Score = score[t.ID]
		}
		return c
	})
	if after == nil {
		// The total comes with the first page ("128 topics"); later pages keep it. Past
		// countUpTo it reads "1,000+", as counting every match of a filter costs more than a page.
		total, exact, err := s.store.CountTopics(ctx, p.UserID, q, countUpTo)
		if err != nil {
			return page.Page[Topic]{}, err
		}
		pg.Total, pg.TotalCapped = &total, !exact
	}
	return pg, nil
}

// decodeAfter reads a page cursor; nil for the first page.
func decodeAfter[T any](cursor string) (*T, error) {
	if cursor == "" {
		return nil, nil
	}
	var after T
	if err := page.Decode(cursor, &after); err != nil {
		return nil, err
	}
	return &after, nil
}

func topicCursor(t Topic, sort string) Cursor {
	switch sort {
	case SortHot:
		return Cursor{ID: t.ID}
	case SortNewest, SortUnanswered:
		return Cursor{At: t.CreatedAt, ID: t.ID}
	case SortLiked:
		return Cursor{At: t.CreatedAt, ID: t.ID, Count: t.Likes}
	case SortViewed:
		return Cursor{At: t.CreatedAt, ID: t.ID, Count: t.Views}
	}
	return Cursor{At: t.LastActivityAt, ID: t.ID, Pin: t.IsPinned}
}

// Topic is one topic with the first page of its replies.
func (s *Service) Topic(ctx context.Context, p identity.Principal, id string) (Topic, error) {
	if !ids.Valid(id) {
		return Topic{}, errs.E(errs.NotFound, "no such topic")
	}
	t, err := s.store.Topic(ctx, p.UserID, id)
	if err != nil {
		return Topic{}, err
	}
	pg, err := s.Replies(ctx, p, id, "", 0, "")
	if err != nil {
		return Topic{}, err
	}
	t.Comments, t.CommentsNextPage = pg.Items, pg.NextCursor
	if s.files != nil {
		if t.Attachments, err = s.files.Of(ctx, id); err != nil {
			return Topic{}, err
		}
	}
	if s.views != nil && p.UserID != "" {
		s.views.Seen(ctx, id, p.UserID)
	}
	return t, nil
}

// UpdateTopic changes p's own topic.
func (s *Service) UpdateTopic(ctx context.Context, p identity.Principal, id string, up TopicUpdate) (Topic, error) {
	t, err := s.own(ctx, p, id)
	if err != nil {
		return Topic{}, err
	}
	var bad []errs.FieldError
	st := StoredTopicUpdate{At: s.now().UTC()}
	if up.Title != nil {
		title := strings.TrimSpace(*up.Title)
		bad = append(bad, checkTitle(title)...)
		st.Title = &title
	}
	if up.Content != nil {
		bad = append(bad, checkBody("content", *up.Content)...)
	}
	if up.Category != nil {
		cat, err := s.category(ctx, *up.Category)
		if err != nil {
			bad = append(bad, errs.FieldError{Field: "category", Message: "is not a forum category"})
		}
		st.CategoryID = &cat.ID
	}
	if up.Tags != nil {
		tags, problems := cleanTags(*up.Tags)
		bad = append(bad, problems...)
		st.Tags = tags
		if st.Tags == nil {
			st.Tags = []string{}
		}
	}
	var had []string
	if up.AttachmentIDs != nil {
		bad = append(bad, checkAttachments(*up.AttachmentIDs)...)
		if s.files != nil {
			current, err := s.files.Of(ctx, id)
			if err != nil {
				return Topic{}, err
			}
			had = attachmentIDs(current)
		}
	}
	if len(bad) > 0 {
		return Topic{}, errs.Fields(bad...)
	}
	if up.Content != nil && *up.Content != t.Content {
		body, _, err := s.renderPost(ctx, p, *up.Content)
		if err != nil {
			return Topic{}, err
		}
		st.Body = &body
	}
	if up.AttachmentIDs != nil {
		if err := s.attach(ctx, p, id, had, *up.AttachmentIDs); err != nil {
			return Topic{}, err
		}
	}
	if err := s.store.UpdateTopic(ctx, id, st); err != nil {
		if up.AttachmentIDs != nil {
			err = s.unattach(ctx, id, had, err)
		}
		return Topic{}, err
	}
	if up.AttachmentIDs != nil && s.files != nil {
		if err := s.files.Release(ctx, id, *up.AttachmentIDs); err != nil {
			return Topic{}, err
		}
	}
	s.announce(ctx, id)
	return s.Topic(ctx, p, id)
}

// DeleteTopic deletes p's own topic (it stays stored, out of every list).
func (s *Service) DeleteTopic(ctx context.Context, p identity.Principal, id string) error {
	t, err := s.own(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTopic(ctx, id, s.now().UTC()); err != nil {
		return err
	}
	t.Content, t.ContentHTML = "", ""
	s.events.Publish(ctx, TopicChanged{Topic: public(t), Deleted: true})
	return nil
}

// own loads a topic that p wrote: someone else's is errs.Forbidden (with the topic).
func (s *Service) own(ctx context.Context, p identity.Principal, id string) (Topic, error) {
	if !ids.Valid(id) {
		return Topic{}, errs.E(errs.NotFound, "no such topic")
	}
	t, err := s.store.Topic(ctx, p.UserID, id)
	if err != nil {
		return Topic{}, err
	}
	if t.Author.ID != p.UserID {
		// The topic comes along: a moderator may act where the author may (MarkBestAnswer).
		return t, errs.E(errs.Forbidden, "only its author may change a topic")
	}
	return t, nil
}

// Replies lists the replies to the topic (parentID empty) or to one of its replies.
func (s *Service) Replies(ctx context.Context, p identity.Principal, topicID, parentID string, limit int, cursor string) (page.Page[Reply], error) {
	if !ids.Valid(topicID) {
		return page.Page[Reply]{}, errs.E(errs.NotFound, "no such topic")
	}
	if parentID != "" && !ids.Valid(parentID) {
		return page.Page[Reply]{}, errs.Fields(errs.FieldError{Field: "parentId", Message: "is not an id"})
	}
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Reply]{}, err
	}
	after, err := decodeAfter[Cursor](cursor)
	if err != nil {
		return page.Page[Reply]{}, err
	}
	items, err := s.store.Replies(ctx, p.UserID, topicID, parentID, after, limit+1, nestedShown)
	if err != nil {
		return page.Page[Reply]{}, err
	}
	return page.Build(items, limit, func(r Reply) any { return Cursor{At: r.CreatedAt, ID: r.ID} }), nil
}

// Reply posts a reply to the topic, or to one of its replies when in.ParentID is set.
func (s *Service) Reply(ctx context.Context, p identity.Principal, topicID string, in NewReply) (Reply, error) {
	if !ids.Valid(topicID) {
		return Reply{}, errs.E(errs.NotFound, "no such topic")
	}
	bad := checkBody("content", in.Content)
	if in.ParentID != nil && !ids.Valid(*in.ParentID) {
		bad = append(bad, errs.FieldError{Field: "parentId", Message: "is not a reply of this topic"})
	}
	body, who, err := s.compose(ctx, p, bad, in.Content)
	if err != nil {
		return Reply{}, err
	}
	r := StoredReply{ID: ids.New(), TopicID: topicID, AuthorID: p.UserID, ParentID: in.ParentID, Body: body,
		Mentioned: who, At: s.now().UTC()}
	if err := s.store.CreateReply(ctx, r); err != nil {
		return Reply{}, err
	}
	stored, err := s.store.Reply(ctx, p.UserID, r.ID)
	if err != nil {
		return Reply{}, err
	}
	s.announce(ctx, topicID, PostChanged{Change: PostNew, Reply: stored})
	return stored, nil
}

// EditReply changes p's own reply.
func (s *Service) EditReply(ctx context.Context, p identity.Principal, id, content string) (Reply, error) {
	if _, err := s.ownReply(ctx, p, id); err != nil {
		return Reply{}, err
	}
	if bad := checkBody("content", content); len(bad) > 0 {
		return Reply{}, errs.Fields(bad...)
	}
	body, _, err := s.renderPost(ctx, p, content)
	if err != nil {
		return Reply{}, err
	}
	if err := s.store.UpdateReply(ctx, id, body, s.now().UTC()); err != nil {
		return Reply{}, err
	}
	stored, err := s.store.Reply(ctx, p.UserID, id)
	if err != nil {
		return Reply{}, err
	}
	s.events.Publish(ctx, PostChanged{Change: PostUpdated, Reply: withoutViewer(stored)})
	return stored, nil
}

// DeleteReply deletes p's own reply; it stays as a tombstone in the thread.
func (s *Service) DeleteReply(ctx context.Context, p identity.Principal, id string) error {
	r, err := s.ownReply(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteReply(ctx, id, s.now().UTC()); err != nil {
		return err
	}
	s.announce(ctx, r.TopicID, PostChanged{Change: PostDeleted, Reply: tombstone(r, s.now().UTC())})
	return nil
}

func withoutViewer(r Reply) Reply {
	r.LikedByMe, r.IsMine = false, false
	return r
}

func (s *Service) ownReply(ctx context.Context, p identity.Principal, id string) (Reply, error) {
	if !ids.Valid(id) {
		return Reply{}, errs.E(errs.NotFound, "no such reply")
	}
	r, err := s.store.Reply(ctx, p.UserID, id)
	if err != nil {
		return Reply{}, err
	}
	if r.IsDeleted {
		return Reply{}, errs.E(errs.NotFound, "no such reply")
	}
	if r.Author.ID != p.UserID {
		return Reply{}, errs.E(errs.Forbidden, "only its author may change a reply")
	}
	return r, nil
}

// Like likes (on) or unlikes a topic ("topic") or reply ("post") as p and returns its likes.
// Liking twice is liking once.
func (s *Service) Like(ctx context.Context, p identity.Principal, targetType, id string, on bool) (int, error) {
	if !ids.Valid(id) {
		return 0, errs.E(errs.NotFound, "no such %s", noun(targetType))
	}
	n, err := s.store.Like(ctx, targetType, id, p.UserID, on, s.now().UTC())
	if err != nil {
		return 0, err
	}
	if targetType == "topic" {
		s.announce(ctx, id)
	} else if r, err := s.store.Reply(ctx, "", id); err == nil {
		s.events.Publish(ctx, PostChanged{Change: PostUpdated, Reply: withoutViewer(r)})
	}
	return n, nil
}

// Bookmark bookmarks (on) or forgets a topic for p.
func (s *Service) Bookmark(ctx context.Context, p identity.Principal, topicID string, on bool) error {
	if !ids.Valid(topicID) {
		return errs.E(errs.NotFound, "no such topic")
	}
	return s.store.Bookmark(ctx, topicID, p.UserID, on, s.now().UTC())
}

// MarkBestAnswer marks a reply of p's own question its best answer (replacing any other); a
// moderator may mark one on any question, as in Stack Overflow for Teams.
func (s *Service) MarkBestAnswer(ctx context.Context, p identity.Principal, topicID, replyID string) (Topic, error) {
	t, err := s.own(ctx, p, topicID)
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Forbidden {
			return Topic{}, err
		}
		if !p.Can(identity.PermForumModerate) {
			return Topic{}, errs.E(errs.Forbidden, "only the topic's author may mark its best answer")
		}
	}
	if t.Kind != KindQuestion {
		return Topic{}, errs.E(errs.Conflict, "only a question has a best answer")
	}
	if !ids.Valid(replyID) {
		return Topic{}, errs.Fields(errs.FieldError{Field: "replyId", Message: "is not a reply of this topic"})
	}
	if err := s.store.SetBestAnswer(ctx, topicID, replyID, p.UserID, s.now().UTC()); err != nil {
		return Topic{}, err
	}
	s.announce(ctx, topicID)
	return s.Topic(ctx, p, topicID)
}

func (s *Service) category(ctx context.Context, ref string) (Category, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		ref = "general"
	}
	return s.store.Category(ctx, ref)
}

func noun(targetType string) string {
	if targetType == "topic" {
		return "topic"
	}
	return "reply"
}

func checkTitle(title string) []errs.FieldError {
	if n := utf8.RuneCountInString(title); n < MinTitle || n > MaxTitle {
		return []errs.FieldError{{Field: "title", Message: "must be 5 to 200 characters"}}
	}
	return nil
}

func checkBody(field, body string) []errs.FieldError {
	switch n := utf8.RuneCountInString(strings.TrimSpace(body)); {
	case n == 0:
		return []errs.FieldError{{Field: field, Message: "is required"}}
	case n > MaxBody:
		return []errs.FieldError{{Field: field, Message: "must be at most 50000 characters"}}
	}
	return nil
}

// cleanTags lowercases, trims and de-duplicates tags.
func cleanTags(in []string) ([]string, []errs.FieldError) {
	var out []string
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || seen[t] {
			continue
		}
		if utf8.RuneCountInString(t) > MaxTag {
			return nil, []errs.FieldError{{Field: "tags", Message: "a tag is at most 30 characters"}}
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > MaxTags {
		return nil, []errs.FieldError{{Field: "tags", Message: "at most 5 tags"}}
	}
	return out, nil
}
