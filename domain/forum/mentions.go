package forum

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

// A mention is written as the composer's autocomplete inserts it: @[Display Name](mention:<userId>).
// Users have no handles, and names repeat across organizations, so the id travels with the name.
var mentionRE = regexp.MustCompile(`@\[([^\]\n]{1,100})\]\(mention:([0-9a-fA-F-]{36})\)`)

// maxMentions bounds the people one post notifies.
const maxMentions = 20

// People tells which users a principal may see (profile visibility).
type People interface {
	VisibleUsers(ctx context.Context, p identity.Principal, userIDs []string) ([]string, error)
}

// mentioned is the users body mentions, in order, once each, at most maxMentions.
func mentioned(body string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range mentionRE.FindAllStringSubmatch(body, -1) {
		id := strings.ToLower(m[2])
		if !seen[id] && len(out) < maxMentions {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// linkMentions writes the mentions of users in keep as links to their profiles and the others
// (unknown, or hidden from the author) as plain "@Name".
func linkMentions(body string, keep map[string]bool) string {
	return mentionRE.ReplaceAllStringFunc(body, func(m string) string {
		parts := mentionRE.FindStringSubmatch(m)
		if keep[strings.ToLower(parts[2])] {
			return "[@" + parts[1] + "](/users/" + strings.ToLower(parts[2]) + ")"
		}
		return "@" + parts[1]
	})
}

// renderPost renders body as p writes it: the mentions p may see become profile links and are
// returned, for notifying.
func (s *Service) renderPost(ctx context.Context, p identity.Principal, body string) (Rendered, []string, error) {
	ids := mentioned(body)
	keep := map[string]bool{}
	var visible []string
	if len(ids) > 0 && s.people != nil {
		var err error
		if visible, err = s.people.VisibleUsers(ctx, p, ids); err != nil {
			return Rendered{}, nil, err
		}
		for _, id := range visible {
			keep[id] = true
		}
	}
	r, err := s.render.Render(linkMentions(body, keep))
	if err != nil {
		return Rendered{}, nil, err
	}
	// Links are counted as rendered (Markdown links, autolinked addresses and raw anchors alike;
	// mentions link within the site and are not counted): a post of many links is spam's shape.
	if n := strings.Count(r.HTML, `href="http`); n > MaxLinks {
		return Rendered{}, nil, errs.Fields(errs.FieldError{Field: "content", Message: fmt.Sprintf("at most %d links to other sites (this has %d)", MaxLinks, n)})
	}
	r.Markdown = body
	return r, visible, nil
}

// Candidate is someone the composer may mention.
type Candidate struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Title      string  `json:"title"`
	Avatar     *string `json:"avatar"`
	IsVerified bool    `json:"isVerified"`
	// Mention is the text to insert.
	Mention string `json:"mention"`
}

// maxCandidates bounds an autocomplete answer.
const maxCandidates = 10

// MentionCandidates are the active users whose first or last name (or full name) starts with
// prefix and whom p may see, for the composer's autocomplete: colleagues and other
// organizations' people alike.
func (s *Service) MentionCandidates(ctx context.Context, p identity.Principal, prefix string) ([]Candidate, error) {
	prefix = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(prefix), "@"))
	if n := len([]rune(prefix)); n == 0 || n > 50 {
		return nil, errs.Fields(errs.FieldError{Field: "q", Message: "must be 1 to 50 characters"})
	}
	found, err := s.store.People(ctx, prefix, 3*maxCandidates)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(found))
	for i, c := range found {
		ids[i] = c.ID
	}
	visible := map[string]bool{}
	if s.people != nil {
		seen, err := s.people.VisibleUsers(ctx, p, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range seen {
			visible[id] = true
		}
	}
	out := []Candidate{}
	for _, c := range found {
		if visible[c.ID] && len(out) < maxCandidates {
			c.Mention = "@[" + c.Name + "](mention:" + c.ID + ")"
			out = append(out, c)
		}
	}
	return out, nil
}
