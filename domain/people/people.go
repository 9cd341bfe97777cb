// Package people is the directory of professionals across organizations ("Find professionals")
// and the follows between people. Who may see whom is identity's rule (identity.CanSeeProfile):
// the directory lists only the people the viewer may see, and someone the viewer may not see
// answers like someone who does not exist.
package people

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/page"
)

// Person is one entry of the directory and of the follow lists.
type Person struct {
	ID             string       `json:"id"`
	FirstName      string       `json:"firstName"`
	LastName       string       `json:"lastName"`
	JobTitle       string       `json:"jobTitle"`
	Avatar         *string      `json:"avatar"`
	City           string       `json:"city"`
	ExpertiseTags  []string     `json:"expertiseTags"`
	Organization   Organization `json:"organization"`
	FollowersCount int          `json:"followersCount"`
	FollowedByMe   bool         `json:"followedByMe"`
	// FollowedAt is when the follow a follow list shows was made (those lists only).
	FollowedAt *time.Time `json:"followedAt,omitempty"`

	// SortName is the directory's key (the lower-cased full name).
	SortName string `json:"-"`
}

// Organization is where a person works, as the directory shows it.
type Organization struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Industry   string `json:"industry"`
	IsVerified bool   `json:"isVerified"`
}

// Query filters the directory; every field is optional and they combine with AND.
type Query struct {
	Q         string   // a part of the name
	Expertise []string // every one of these tags
	Industry  string   // of the person's organization, any case
	City      string   // any case
}

// Counts are a person's follow counts (the dashboard's connections).
type Counts struct {
	Followers int `json:"followers"`
	Following int `json:"following"`
}

// Followed: someone followed someone. Recorded with the follow (the activity feed follows it).
type Followed struct {
	FollowerID string    `json:"followerId"`
	FolloweeID string    `json:"followeeId"`
	At         time.Time `json:"at"`
}

func (Followed) EventName() string     { return "people.followed" }
func (e Followed) AggregateID() string { return e.FolloweeID }

// Unfollowed: someone stopped following someone. Recorded with the change.
type Unfollowed struct {
	FollowerID string    `json:"followerId"`
	FolloweeID string    `json:"followeeId"`
	At         time.Time `json:"at"`
}

func (Unfollowed) EventName() string     { return "people.unfollowed" }
func (e Unfollowed) AggregateID() string { return e.FolloweeID }

// DirectoryCursor is the directory's keyset: the sort name and the id of the last person.
type DirectoryCursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

// FollowCursor is a follow list's keyset: newest follows first.
type FollowCursor struct {
	At time.Time `json:"t"`
	ID string    `json:"i"`
}

// Store keeps follows and reads the directory. Viewer-dependent reads take the principal and
// apply the visibility rule in the query.
type Store interface {
	Directory(ctx context.Context, viewer identity.Principal, q Query, limit int, after *DirectoryCursor) ([]Person, error)
	// Visible says whether viewer may see the active user id.
	Visible(ctx context.Context, viewer identity.Principal, id string) (bool, error)
	// Follow records the follow and Followed; false when it existed.
	Follow(ctx context.Context, followerID, followeeID string, at time.Time) (bool, error)
	// Unfollow removes the follow and records Unfollowed; false when there was none.
	Unfollow(ctx context.Context, followerID, followeeID string, at time.Time) (bool, error)
	// Follows lists the followers (followers true) or the followed of id, as viewer may see them.
	Follows(ctx context.Context, viewer identity.Principal, id string, followers bool, limit int, after *FollowCursor) ([]Person, error)
	Counts(ctx context.Context, id string) (Counts, error)
}

// Service is the people area's rules.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns the service over store.
func NewService(store Store) *Service { return &Service{store: store, now: time.Now} }

// Limits of the directory's filters.
const (
	maxQuery     = 100
	maxTags      = 10
	maxTagLength = 50
)

func checkQuery(q *Query) error {
	var fe []errs.FieldError
	q.Q, q.Industry, q.City = strings.TrimSpace(q.Q), strings.TrimSpace(q.Industry), strings.TrimSpace(q.City)
	for name, v := range map[string]string{"q": q.Q, "industry": q.Industry, "city": q.City} {
		if utf8.RuneCountInString(v) > maxQuery {
			fe = append(fe, errs.FieldError{Field: name, Message: fmt.Sprintf("must be at most %d characters", maxQuery)})
		}
	}
	var tags []string
	for _, t := range q.Expertise {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if utf8.RuneCountInString(t) > maxTagLength {
			fe = append(fe, errs.FieldError{Field: "expertise", Message: fmt.Sprintf("each tag must be at most %d characters", maxTagLength)})
			break
		}
		tags = append(tags, t)
	}
	if len(tags) > maxTags {
		fe = append(fe, errs.FieldError{Field: "expertise", Message: fmt.Sprintf("at most %d tags", maxTags)})
	}
	q.Expertise = tags
	if len(fe) > 0 {
		return errs.Fields(fe...)
	}
	return nil
}

// Directory finds professionals across organizations, by name, ordered by name.
func (s *Service) Directory(ctx context.Context, p identity.Principal, q Query, limit int, cursor string) (page.Page[Person], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Person]{}, err
	}
	if err := checkQuery(&q); err != nil {
		return page.Page[Person]{}, err
	}
	var after *DirectoryCursor
	if cursor != "" {
		after = &DirectoryCursor{}
		if err := page.Decode(cursor, after); err != nil {
			return page.Page[Person]{}, err
		}
	}
	list, err := s.store.Directory(ctx, p, q, limit+1, after)
	if err != nil {
		return page.Page[Person]{}, fmt.Errorf("reading the directory: %w", err)
	}
	return page.Build(list, limit, func(x Person) any { return DirectoryCursor{Name: x.SortName, ID: x.ID} }), nil
}

// FollowState is a person's followers count and whether the caller follows them.
type FollowState struct {
	FollowersCount int  `json:"followersCount"`
	FollowedByMe   bool `json:"followedByMe"`
}

var errNoPerson = errs.E(errs.NotFound, "no such person")

// visible answers NotFound for ids that are malformed, unknown, inactive or hidden from p.
func (s *Service) visible(ctx context.Context, p identity.Principal, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return errNoPerson
	}
	ok, err := s.store.Visible(ctx, p, id)
	if err != nil {
		return fmt.Errorf("checking who may see %s: %w", id, err)
	}
	if !ok {
		return errNoPerson
	}
	return nil
}

// Follow makes p follow id (on) or stop following (off); both are idempotent. Following
// oneself is refused; someone p may not see answers NotFound, except that a follow p already
// holds can always be dropped.
func (s *Service) Follow(ctx context.Context, p identity.Principal, id string, on bool) (FollowState, error) {
	if id == p.UserID {
		return FollowState{}, errs.Fields(errs.FieldError{Field: "id", Message: "you cannot follow yourself"})
	}
	if _, err := uuid.Parse(id); err != nil {
		return FollowState{}, errNoPerson
	}
	now := s.now().UTC()
	if on {
		if err := s.visible(ctx, p, id); err != nil {
			return FollowState{}, err
		}
		if _, err := s.store.Follow(ctx, p.UserID, id, now); err != nil {
			return FollowState{}, fmt.Errorf("following %s: %w", id, err)
		}
	} else {
		removed, err := s.store.Unfollow(ctx, p.UserID, id, now)
		if err != nil {
			return FollowState{}, fmt.Errorf("unfollowing %s: %w", id, err)
		}
		if !removed {
			if err := s.visible(ctx, p, id); err != nil {
				return FollowState{}, err
			}
		}
	}
	c, err := s.store.Counts(ctx, id)
	if err != nil {
		return FollowState{}, fmt.Errorf("counting followers: %w", err)
	}
	return FollowState{FollowersCount: c.Followers, FollowedByMe: on}, nil
}

// Follows lists the followers (followers true) or the people followed by id, newest first, as p
// may see them.
func (s *Service) Follows(ctx context.Context, p identity.Principal, id string, followers bool, limit int, cursor string) (page.Page[Person], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[Person]{}, err
	}
	var after *FollowCursor
	if cursor != "" {
		after = &FollowCursor{}
		if err := page.Decode(cursor, after); err != nil {
			return page.Page[Person]{}, err
		}
	}
	if err := s.visible(ctx, p, id); err != nil {
		return page.Page[Person]{}, err
	}
	list, err := s.store.Follows(ctx, p, id, followers, limit+1, after)
	if err != nil {
		return page.Page[Person]{}, fmt.Errorf("listing follows of %s: %w", id, err)
	}
	return page.Build(list, limit, func(x Person) any { return FollowCursor{At: *x.FollowedAt, ID: x.ID} }), nil
}

// Counts are id's follow counts: the dashboard's connections.
func (s *Service) Counts(ctx context.Context, id string) (Counts, error) {
	c, err := s.store.Counts(ctx, id)
	if err != nil {
		return Counts{}, fmt.Errorf("counting follows of %s: %w", id, err)
	}
	return c, nil
}
