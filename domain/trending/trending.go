// Package trending ranks topics and use cases by a hot score with time decay over three windows
// (24 hours, 7 days, 30 days), overall and per category. A periodic job computes the rankings
// from the raw signals (replies, likes, saves with their times; views as a count) into a fast
// cache (Redis sorted sets) and a durable snapshot (PostgreSQL) for cold starts; readers read the
// cache and fall back to the snapshot. A failed run changes nothing: the last ranking is served.
//
// The score, as Discourse's "hot" does, lets each signal count less the older it is, rather than
// counting raw totals (its "top" lists): every signal of weight w that happened a time a ago adds
// w·2^(−a/h), h the window's half-life, and only signals within the window count; views, which
// have no times, add a small log term decayed by the item's age, so a much-viewed item is lifted
// but never carried by views alone.
package trending

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/text"
)

// Kinds of item.
const (
	KindTopics   = "topics"
	KindUseCases = "use-cases"
)

// Kinds are the kinds ranked.
var Kinds = []string{KindTopics, KindUseCases}

// Window is a span of time ranked, with the half-life of its decay.
type Window struct {
	Name     string
	Span     time.Duration
	HalfLife time.Duration
}

// Windows are the windows ranked: a day's half-life is a quarter of it, so the last hours lead;
// longer windows decay slower so that a month's ranking is not just the last week's.
var Windows = []Window{
	{Name: "24h", Span: 24 * time.Hour, HalfLife: 6 * time.Hour},
	{Name: "7d", Span: 7 * 24 * time.Hour, HalfLife: 36 * time.Hour},
	{Name: "30d", Span: 30 * 24 * time.Hour, HalfLife: 6 * 24 * time.Hour},
}

// Weights of the signals.
const (
	WeightPost  = 1.0 // the item itself, posted or published within the window
	WeightReply = 3.0
	WeightLike  = 2.0
	WeightSave  = 3.0
	WeightViews = 0.5 // × ln(1+views)
)

// All is the category key of the overall ranking.
const All = ""

// Item is a trending topic or use case in the lists' light shape.
type Item struct {
	ID         string  `json:"id"`
	Kind       string  `json:"kind"`
	Title      string  `json:"title"`
	Category   string  `json:"category"`
	CategoryID string  `json:"categoryId,omitempty"` // topics: the category's id
	Replies    int     `json:"replies"`
	Likes      int     `json:"likes"`
	Views      int     `json:"views"`
	Saves      int     `json:"saves"`
	Score      float64 `json:"score"`
	Link       string  `json:"link"`
}

// Scored is an item with its score in each window it has signals in (by window name).
type Scored struct {
	Item
	Scores map[string]float64
}

// Ranking is the top of one kind, window and category, best first.
type Ranking struct {
	Kind, Window, Category string
	Items                  []Item
}

// Source reads every item of a kind with signals in the longest window, scored.
type Source interface {
	Scores(ctx context.Context, kind string, now time.Time) ([]Scored, error)
}

// Cache is the fast copy of the rankings: replaced whole, read one ranking at a time. Lock makes
// one run at a time across workers; it answers false when another holds it.
type Cache interface {
	Replace(ctx context.Context, rankings []Ranking, at time.Time) error
	Read(ctx context.Context, kind, window, category string, limit int) ([]Item, bool, error)
	Lock(ctx context.Context, ttl time.Duration) (unlock func(), ok bool, err error)
}

// Snapshots is the durable copy, read on a cold cache.
type Snapshots interface {
	Save(ctx context.Context, rankings []Ranking, at time.Time) error
	Read(ctx context.Context, kind, window, category string, limit int) ([]Item, error)
}

// Top is how many items each ranking keeps.
const Top = 100

// Rank cuts scored items into rankings: for each window, overall and per category (keyed by the
// category's name in lower case, and for topics by its id too), the Top best, ties by id.
func Rank(kind string, items []Scored) []Ranking {
	var out []Ranking
	for _, w := range Windows {
		groups := map[string][]Item{}
		for _, s := range items {
			score, ok := s.Scores[w.Name]
			if !ok || score <= 0 {
				continue
			}
			it := s.Item
			it.Kind, it.Score = kind, math.Round(score*1000)/1000
			keys := []string{All, CategoryKey(it.Category)}
			if it.CategoryID != "" && CategoryKey(it.CategoryID) != keys[1] {
				keys = append(keys, CategoryKey(it.CategoryID))
			}
			for _, k := range keys {
				groups[k] = append(groups[k], it)
			}
		}
		if len(groups[All]) == 0 {
			groups[All] = nil // an empty window is still a ranking: the old one must not linger
		}
		for cat, g := range groups {
			sort.Slice(g, func(i, j int) bool {
				if g[i].Score != g[j].Score {
					return g[i].Score > g[j].Score
				}
				return g[i].ID < g[j].ID
			})
			if len(g) > Top {
				g = g[:Top]
			}
			out = append(out, Ranking{Kind: kind, Window: w.Name, Category: cat, Items: g})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Window+"\x00"+a.Category < b.Window+"\x00"+b.Category
	})
	return out
}

// CategoryKey is how a category is asked for: any case, surrounding spaces ignored.
func CategoryKey(c string) string { return strings.ToLower(strings.TrimSpace(c)) }

// Job computes the rankings. Run computes them once, unless another run holds the lock.
type Job struct {
	Source    Source
	Cache     Cache
	Snapshots Snapshots
	// LockTTL outlives the longest run; a crashed run's lock expires after it.
	LockTTL time.Duration
	Now     func() time.Time
}

// ErrBusy is Run's answer when another run holds the lock.
var ErrBusy = errors.New("trending: another run is computing")

// Run computes every ranking, writes the snapshot and then replaces the cache. Nothing is
// written until everything is computed, so a failure leaves the last rankings in place.
func (j *Job) Run(ctx context.Context) error {
	unlock, ok, err := j.Cache.Lock(ctx, j.LockTTL)
	if err != nil {
		return fmt.Errorf("trending: taking the lock: %w", err)
	}
	if !ok {
		return ErrBusy
	}
	defer unlock()
	now := time.Now()
	if j.Now != nil {
		now = j.Now()
	}
	var all []Ranking
	for _, kind := range Kinds {
		scored, err := j.Source.Scores(ctx, kind, now)
		if err != nil {
			return fmt.Errorf("trending: scoring %s: %w", kind, err)
		}
		all = append(all, Rank(kind, scored)...)
	}
	if err := j.Snapshots.Save(ctx, all, now); err != nil {
		return fmt.Errorf("trending: saving the snapshot: %w", err)
	}
	if err := j.Cache.Replace(ctx, all, now); err != nil {
		return fmt.Errorf("trending: replacing the cache: %w", err)
	}
	return nil
}

// Service reads rankings: the cache, else the snapshot.
type Service struct {
	Cache      Cache
	Snapshots  Snapshots
	OnFallback func(err error)
}

// Limits of a read.
const (
	DefaultLimit = 10
	MaxLimit     = Top
)

// Trending is the ranking of kind in window (and category), best first.
func (s *Service) Trending(ctx context.Context, kind, window, category string, limit int) ([]Item, error) {
	var fields []errs.FieldError
	if kind != KindTopics && kind != KindUseCases {
		fields = append(fields, errs.FieldError{Field: "kind", Message: "must be topics or use-cases"})
	}
	if window == "" {
		window = "7d"
	}
	if !validWindow(window) {
		fields = append(fields, errs.FieldError{Field: "window", Message: "must be 24h, 7d or 30d"})
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		fields = append(fields, errs.FieldError{Field: "limit", Message: "must be between 1 and 100"})
	}
	if len(category) > 100 {
		fields = append(fields, errs.FieldError{Field: "category", Message: "is too long"})
	} else if p := text.Problem(category); p != "" {
		fields = append(fields, errs.FieldError{Field: "category", Message: p})
	}
	if len(fields) > 0 {
		return nil, errs.Fields(fields...)
	}
	cat := CategoryKey(category)
	items, ok, err := s.Cache.Read(ctx, kind, window, cat, limit)
	if err == nil && ok {
		return items, nil
	}
	if s.OnFallback != nil {
		s.OnFallback(err)
	}
	items, err = s.Snapshots.Read(ctx, kind, window, cat, limit)
	if err != nil {
		return nil, fmt.Errorf("trending: reading the snapshot: %w", err)
	}
	return items, nil
}

func validWindow(name string) bool {
	for _, w := range Windows {
		if w.Name == name {
			return true
		}
	}
	return false
}
