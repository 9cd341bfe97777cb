// Package search is one search across the platform: topics, replies, use cases, people,
// organizations and the searcher's own messages, each found by its own area's search (with that
// area's visibility rules, Arabic normalisation and highlights) or, for replies and
// organizations, which no area searches, by the search's own store under the same rules; answered
// together, and suggestions while typing under a time budget.
package search

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/forum"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/location"
	"github.com/p2psandbox/hub/domain/messaging"
	"github.com/p2psandbox/hub/domain/page"
	"github.com/p2psandbox/hub/domain/people"
	"github.com/p2psandbox/hub/domain/usecase"
)

// Types of results.
const (
	TypeAll           = "all"
	TypeTopics        = "topics"
	TypeReplies       = "replies"
	TypeUseCases      = "use-cases"
	TypePeople        = "people"
	TypeOrganizations = "organizations"
	TypeMessages      = "messages"
)

// types are the types a search of all of them runs, in the order the error message names them.
var types = []string{TypeTopics, TypeReplies, TypeUseCases, TypePeople, TypeOrganizations, TypeMessages}

// Limits.
const (
	MaxQuery      = 200
	MaxSuggest    = 100
	DefaultEach   = 5                      // results of each type when searching all of them
	SuggestEach   = 3                      // suggestions of each type
	SuggestBudget = 300 * time.Millisecond // what a keystroke may wait; slower sources are left out
)

// The areas' searches, as the search needs them.
type (
	Topics interface {
		Search(ctx context.Context, p identity.Principal, text string, q forum.Query, limit int, cursor string) (page.Page[forum.Hit], error)
	}
	UseCases interface {
		Library(ctx context.Context, p identity.Principal, q usecase.Query, limit int, cursor string) (page.Page[usecase.Summary], error)
	}
	People interface {
		Directory(ctx context.Context, p identity.Principal, q people.Query, limit int, cursor string) (page.Page[people.Person], error)
	}
	Messages interface {
		Search(ctx context.Context, p identity.Principal, text, conversationID string, limit int, cursor string) (page.Page[messaging.SearchHit], error)
	}
	Cities interface {
		Search(q string, near *location.Point, limit int) []location.City
	}
	// Titles are what suggestions complete: titles containing the text typed, newest first.
	Titles interface {
		TopicTitles(ctx context.Context, text string, limit int) ([]Suggestion, error)
		UseCaseTitles(ctx context.Context, text string, limit int) ([]Suggestion, error)
	}
	// Replies finds live replies of live topics whose text matches, best first, after the cursor,
	// with the rank of each.
	Replies interface {
		Replies(ctx context.Context, text string, after *RankCursor, limit int) ([]ReplyHit, []float32, error)
	}
	// Organizations finds active organizations whose name contains text (starts with it, for
	// text too short to look for inside names), those whose name starts with it first, then by
	// name, after the cursor.
	Organizations interface {
		Organizations(ctx context.Context, text string, after *NameCursor, limit int) ([]OrganizationHit, error)
	}
)

// ReplyHit is a reply that matched, with its matches marked as a topic's are (`<mark>…</mark>`
// in otherwise HTML-escaped text).
type ReplyHit struct {
	ID         string `json:"id"`
	TopicID    string `json:"topicId"`
	TopicTitle string `json:"topicTitle"`
	Highlight  string `json:"highlight"`
	forum.Author
	CreatedAt time.Time `json:"createdAt"`
	Link      string    `json:"link"`
}

// OrganizationHit is an organization whose name matched.
type OrganizationHit struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Industry string  `json:"industry"`
	City     string  `json:"city"`
	Country  string  `json:"country"`
	Logo     *string `json:"logo"`
	// MemberCount counts its active members.
	MemberCount int    `json:"memberCount"`
	IsVerified  bool   `json:"isVerified"`
	Link        string `json:"link"`
	// Key is the name as matched (normalised, lower-cased) and Prefix whether it starts with the
	// text: the order and the cursor.
	Key    string `json:"-"`
	Prefix bool   `json:"-"`
}

// RankCursor is the position of the last hit of a page ranked by relevance.
type RankCursor struct {
	Rank float32 `json:"r"`
	ID   string  `json:"i"`
}

// NameCursor is the position of the last organization of a page.
type NameCursor struct {
	Prefix bool   `json:"p"`
	Key    string `json:"n"`
	ID     string `json:"i"`
}

// Service searches everywhere.
type Service struct {
	Topics        Topics
	Replies       Replies
	UseCases      UseCases
	People        People
	Organizations Organizations
	Messages      Messages
	Cities        Cities
	Titles        Titles
}

// Results are the pages of each type searched; a type not searched is nil.
type Results struct {
	Query         string                          `json:"query"`
	Type          string                          `json:"type"`
	Topics        *page.Page[forum.Hit]           `json:"topics,omitempty"`
	Replies       *page.Page[ReplyHit]            `json:"replies,omitempty"`
	UseCases      *page.Page[usecase.Summary]     `json:"useCases,omitempty"`
	People        *page.Page[people.Person]       `json:"people,omitempty"`
	Organizations *page.Page[OrganizationHit]     `json:"organizations,omitempty"`
	Messages      *page.Page[messaging.SearchHit] `json:"messages,omitempty"`
	// Counts are the results of each type in this answer (the facets of a search of all types).
	Counts map[string]int `json:"counts"`
}

// Search finds text in one type of content (with a cursor for its next page) or in all of them
// (the first limit of each, no cursor).
func (s *Service) Search(ctx context.Context, p identity.Principal, text, typ string, limit int, cursor string) (Results, error) {
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n == 0 || n > MaxQuery || !clean(text) {
		return Results{}, errs.Fields(errs.FieldError{Field: "q", Message: "must be 1 to 200 characters"})
	}
	if typ == "" {
		typ = TypeAll
	}
	var run []string
	switch typ {
	case TypeAll:
		if cursor != "" {
			return Results{}, errs.Fields(errs.FieldError{Field: "cursor", Message: "pages one type at a time: give type"})
		}
		if limit == 0 {
			limit = DefaultEach
		}
		run = types
	case TypeTopics, TypeReplies, TypeUseCases, TypePeople, TypeOrganizations, TypeMessages:
		run = []string{typ}
	default:
		return Results{}, errs.Fields(errs.FieldError{Field: "type",
			Message: "must be all, topics, replies, use-cases, people, organizations or messages"})
	}
	if _, err := page.Limit(limit); err != nil {
		return Results{}, err
	}
	r := Results{Query: text, Type: typ, Counts: map[string]int{}}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errl []error
	)
	for _, t := range run {
		wg.Go(func() {
			err := s.one(ctx, p, &r, &mu, t, text, limit, cursor, typ == TypeAll)
			if err != nil {
				mu.Lock()
				errl = append(errl, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errl...); err != nil {
		return Results{}, err
	}
	return r, nil
}

// one searches one type into r.
func (s *Service) one(ctx context.Context, p identity.Principal, r *Results, mu *sync.Mutex, typ, text string, limit int, cursor string, all bool) error {
	var (
		n   int
		err error
	)
	switch typ {
	case TypeTopics:
		var pg *page.Page[forum.Hit]
		pg, n, err = run(all, func() (page.Page[forum.Hit], error) {
			return s.Topics.Search(ctx, p, text, forum.Query{}, limit, cursor)
		})
		defer set(mu, func() { r.Topics = pg })
	case TypeReplies:
		var pg *page.Page[ReplyHit]
		pg, n, err = run(all, func() (page.Page[ReplyHit], error) { return s.replies(ctx, text, limit, cursor) })
		defer set(mu, func() { r.Replies = pg })
	case TypeUseCases:
		var pg *page.Page[usecase.Summary]
		pg, n, err = run(all, func() (page.Page[usecase.Summary], error) {
			return s.UseCases.Library(ctx, p, usecase.Query{Text: text, Sort: usecase.SortRelevance}, limit, cursor)
		})
		defer set(mu, func() { r.UseCases = pg })
	case TypePeople:
		var pg *page.Page[people.Person]
		pg, n, err = run(all, func() (page.Page[people.Person], error) {
			return s.People.Directory(ctx, p, people.Query{Q: text}, limit, cursor)
		})
		defer set(mu, func() { r.People = pg })
	case TypeOrganizations:
		var pg *page.Page[OrganizationHit]
		pg, n, err = run(all, func() (page.Page[OrganizationHit], error) { return s.organizations(ctx, text, limit, cursor) })
		defer set(mu, func() { r.Organizations = pg })
	case TypeMessages:
		var pg *page.Page[messaging.SearchHit]
		pg, n, err = run(all, func() (page.Page[messaging.SearchHit], error) {
			return s.Messages.Search(ctx, p, text, "", limit, cursor)
		})
		defer set(mu, func() { r.Messages = pg })
	}
	mu.Lock()
	r.Counts[typ] = n
	mu.Unlock()
	return err
}

// replies pages the replies matching text, best first.
func (s *Service) replies(ctx context.Context, text string, limit int, cursor string) (page.Page[ReplyHit], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[ReplyHit]{}, err
	}
	var after *RankCursor
	if cursor != "" {
		after = &RankCursor{}
		if err := page.Decode(cursor, after); err != nil {
			return page.Page[ReplyHit]{}, err
		}
	}
	hits, ranks, err := s.Replies.Replies(ctx, text, after, limit+1)
	if err != nil {
		return page.Page[ReplyHit]{}, err
	}
	rank := make(map[string]float32, len(hits))
	for i, h := range hits {
		rank[h.ID] = ranks[i]
	}
	return page.Build(hits, limit, func(h ReplyHit) any { return RankCursor{Rank: rank[h.ID], ID: h.ID} }), nil
}

// organizations pages the organizations whose name contains text.
func (s *Service) organizations(ctx context.Context, text string, limit int, cursor string) (page.Page[OrganizationHit], error) {
	limit, err := page.Limit(limit)
	if err != nil {
		return page.Page[OrganizationHit]{}, err
	}
	var after *NameCursor
	if cursor != "" {
		after = &NameCursor{}
		if err := page.Decode(cursor, after); err != nil {
			return page.Page[OrganizationHit]{}, err
		}
	}
	hits, err := s.Organizations.Organizations(ctx, text, after, limit+1)
	if err != nil {
		return page.Page[OrganizationHit]{}, err
	}
	return page.Build(hits, limit, func(h OrganizationHit) any { return NameCursor{Prefix: h.Prefix, Key: h.Key, ID: h.ID} }), nil
}

// run runs one type's search. Searching all types, a query one type refuses (a single letter is
// too short for messages) leaves that type empty rather than failing the rest.
func run[T any](all bool, search func() (page.Page[T], error)) (*page.Page[T], int, error) {
	pg, err := search()
	if err != nil && all && errs.CodeOf(err) == errs.Validation {
		pg, err = page.Page[T]{}, nil
	}
	if pg.Items == nil {
		pg.Items = []T{}
	}
	return &pg, len(pg.Items), err
}

// minTitle is the shortest text titles are searched for: a trigram index cannot narrow one or
// two letters, and they suggest too much to be useful anyway.
const minTitle = 3

// titles asks one kind of titles, when text is long enough to be worth it.
func (s *Service) titles(ctx context.Context, text string, find func(context.Context, string, int) ([]Suggestion, error)) ([]Suggestion, error) {
	if utf8.RuneCountInString(text) < minTitle {
		return nil, nil
	}
	return find(ctx, text, SuggestEach)
}

// clean is text without NUL bytes, in UTF-8.
func clean(text string) bool { return utf8.ValidString(text) && !strings.ContainsRune(text, 0) }

func set(mu *sync.Mutex, f func()) {
	mu.Lock()
	defer mu.Unlock()
	f()
}

// Suggestion is one completion of what is being typed.
type Suggestion struct {
	Type string `json:"type"` // topic | use-case | person | organization | city
	ID   string `json:"id"`
	Text string `json:"text"`
	// TextAr is the Arabic name, where the thing has one (cities).
	TextAr string `json:"textAr,omitempty"`
	Link   string `json:"link"`
}

// Suggestions are what Suggest found in its budget; Partial tells that a source ran out of time.
type Suggestions struct {
	Items   []Suggestion `json:"items"`
	Partial bool         `json:"partial"`
}

// Suggest completes text from topics and use cases (titles containing it, from three letters
// on), people and organizations (names) and cities (English or Arabic names), SuggestEach of
// each, in that order.
// A source that has not answered within SuggestBudget is left out.
func (s *Service) Suggest(ctx context.Context, p identity.Principal, text string) (Suggestions, error) {
	text = strings.TrimSpace(text)
	if n := utf8.RuneCountInString(text); n == 0 || n > MaxSuggest || !clean(text) {
		return Suggestions{}, errs.Fields(errs.FieldError{Field: "q", Message: "must be 1 to 100 characters"})
	}
	ctx, cancel := context.WithTimeout(ctx, SuggestBudget)
	defer cancel()
	sources := []func(context.Context) ([]Suggestion, error){
		func(ctx context.Context) ([]Suggestion, error) { return s.titles(ctx, text, s.Titles.TopicTitles) },
		func(ctx context.Context) ([]Suggestion, error) { return s.titles(ctx, text, s.Titles.UseCaseTitles) },
		func(ctx context.Context) ([]Suggestion, error) {
			pg, err := s.People.Directory(ctx, p, people.Query{Q: text}, SuggestEach, "")
			out := make([]Suggestion, 0, len(pg.Items))
			for _, x := range pg.Items {
				out = append(out, Suggestion{Type: "person", ID: x.ID, Text: strings.TrimSpace(x.FirstName + " " + x.LastName), Link: "/people/" + x.ID})
			}
			return out, err
		},
		func(ctx context.Context) ([]Suggestion, error) {
			found, err := s.Organizations.Organizations(ctx, text, nil, SuggestEach)
			out := make([]Suggestion, 0, len(found))
			for _, x := range found {
				out = append(out, Suggestion{Type: "organization", ID: x.ID, Text: x.Name, Link: x.Link})
			}
			return out, err
		},
		func(context.Context) ([]Suggestion, error) {
			var out []Suggestion
			for _, c := range s.Cities.Search(text, nil, SuggestEach) {
				out = append(out, Suggestion{Type: "city", ID: c.Name, Text: c.Name, TextAr: c.NameAr,
					Link: "/use-cases?city=" + url.QueryEscape(c.Name)})
			}
			return out, nil
		},
	}
	found := make([][]Suggestion, len(sources))
	failed := make([]error, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Go(func() { found[i], failed[i] = src(ctx) })
	}
	wg.Wait()
	res := Suggestions{Items: []Suggestion{}}
	for i := range sources {
		switch err := failed[i]; {
		case err == nil:
			res.Items = append(res.Items, found[i]...)
		case ctx.Err() != nil:
			res.Partial = true
		case errs.CodeOf(err) == errs.Validation:
			// Text a source does not search (too short, say) suggests nothing from it.
		default:
			return Suggestions{}, err
		}
	}
	return res, nil
}
