// Package dashboard is a signed-in user's dashboard: their progress (questions asked, answers
// given, saved items, reputation, each with its change over the last seven days), quick access
// counts, how active they were this month among everyone active, their messages, and their
// organization's figures over a period.
//
// The figures are counters kept by a durable subscriber of the areas' events (app/dashboardapp)
// per user or organization and per day, never counted from the areas' tables on a request; a
// computed dashboard is cached until an event changes one of its counters. Rebuild recounts
// every counter from the areas' tables, for a new installation or after a repair.
package dashboard

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
)

// Counters of a user.
const (
	Questions  = "questions"  // live questions they asked
	Answers    = "answers"    // live replies they posted
	Saved      = "saved"      // topics bookmarked and use cases saved
	Reputation = "reputation" // earned: likes of their posts and use cases, best answers
	Drafts     = "drafts"     // their use cases in draft or sent back for changes
)

// Counters of an organization.
const (
	Members     = "members"     // members not removed
	Joined      = "joined"      // members who joined (never taken back)
	Topics      = "topics"      // live topics its members posted
	Posts       = "posts"       // live topics and replies its members posted
	Submissions = "submissions" // use cases its members submitted for the first time
)

// Reputation earned, as Stack Overflow counts it: a like of a post or use case, and an answer
// chosen as a question's best.
const (
	ReputationPerLike       = 10
	ReputationPerBestAnswer = 15
)

// Delta changes a counter by N: the user's (Organization false) or their organization's.
type Delta struct {
	UserID       string
	Organization bool
	Metric       string
	N            int64
}

// Change is what one event does to the counters: Deltas, and the users whose contribution it
// was (posting a topic or reply, submitting a use case), who count as active that day.
type Change struct {
	Deltas      []Delta
	Contributed []string
}

// Touched names whose cached dashboards a change makes stale.
type Touched struct {
	Users, Organizations []string
}

// Period is the organization block's time filter.
type Period struct {
	Name string // 7d | 30d | 90d | all
	Days int    // 0: all
}

var periods = map[string]int{"7d": 7, "30d": 30, "90d": 90, "all": 0}

// ParsePeriod reads ?period= (7d, 30d, 90d or all; the bare numbers too); empty is 30 days.
func ParsePeriod(s string) (Period, error) {
	if s == "" {
		s = "30d"
	}
	if _, ok := periods[s]; !ok {
		if _, ok := periods[s+"d"]; ok {
			s += "d"
		}
	}
	days, ok := periods[s]
	if !ok {
		return Period{}, errs.Fields(errs.FieldError{Field: "period", Message: "must be one of 7d, 30d, 90d or all"})
	}
	return Period{Name: s, Days: days}, nil
}

// Since is the first day the period counts, as of today; the zero time for all.
func (p Period) Since(today time.Time) time.Time {
	if p.Days == 0 {
		return time.Time{}
	}
	return today.AddDate(0, 0, -(p.Days - 1))
}

// Query is what Figures reads: the user, their organization, and the days that bound the
// period, the week and the month (UTC dates).
type Query struct {
	UserID, OrganizationID string
	Today, Since, Month    time.Time
}

// Figures are the raw counts a dashboard is made of.
type Figures struct {
	// The user's counters: total and over the last seven days.
	User, UserWeek map[string]int64
	// The organization's counters: total, in the period and over the last seven days.
	Org, OrgPeriod, OrgWeek map[string]int64
	ActiveMembers           int64 // members who contributed in the period
	Following               int64
	// This month: the user's contributions, how many active users contributed fewer, and how
	// many were active.
	MonthActions, MonthBelow, MonthActive int64
	// The organization's published use cases now.
	UseCasesVerified, UseCaseViews int64
	AverageROI                     *float64
}

// Store keeps the counters.
type Store interface {
	// Apply adds a change made on day, unless the event was already counted by a rebuild; it
	// joins the caller's unit of work and says whose dashboards changed.
	Apply(ctx context.Context, eventID int64, day time.Time, c Change) (Touched, error)
	// Figures reads the counters a dashboard shows, in one round trip.
	Figures(ctx context.Context, q Query) (Figures, error)
	// Messages counts the user's conversations, their unread messages (muted and archived
	// conversations aside) and the conversations with a message since today began.
	Messages(ctx context.Context, userID string, today time.Time) (Messages, error)
	// Upcoming lists the next events after now that the user may see (the platform's and their
	// organization's), soonest first, at most n.
	Upcoming(ctx context.Context, userID, orgID string, now time.Time, n int) ([]Event, error)
	// Rebuild recounts every counter from the areas' tables, during activity too: what it
	// counted is never counted again by Apply.
	Rebuild(ctx context.Context) (RebuildReport, error)
}

// RebuildReport says what a rebuild wrote. Counted are the events logged after the cursor it
// set whose changes it had already counted (they are skipped once).
type RebuildReport struct {
	Counters, ActiveDays, MonthRows, Counted int64
	Took                                     time.Duration
}

// Cache keeps computed dashboards until one of their counters changes. Get's stamp names the
// counters' versions as they were before the dashboard was computed; Put keeps it with them, so
// a change made while it was computed makes it stale at once.
type Cache interface {
	Get(ctx context.Context, userID, orgID, period string) (d *Dashboard, stamp string, ok bool)
	Put(ctx context.Context, userID, period, stamp string, d Dashboard)
	Invalidate(ctx context.Context, t Touched)
	// Flush makes every cached dashboard stale (after a rebuild).
	Flush(ctx context.Context)
}

// Widget is a progress figure in the frontend's shape.
type Widget struct {
	Key         string `json:"key"`
	Label       string `json:"label"`
	LabelAr     string `json:"labelAr"`
	Value       int64  `json:"value"`
	WeeklyDelta int64  `json:"weeklyDelta"`
}

// Access is a quick access count in the frontend's shape.
type Access struct {
	Key     string `json:"key"`
	Title   string `json:"title"`
	TitleAr string `json:"titleAr"`
	Count   int64  `json:"count"`
	Link    string `json:"link"`
}

// Month is "This Month": ActivityLevel is the share (percent) of this month's active users who
// contributed less than the user; TopPercent the frontend's "You're in the top N%".
type Month struct {
	Contributions int64  `json:"contributions"`
	ActivityLevel int    `json:"activityLevel"`
	TopPercent    int    `json:"topPercent"`
	ActiveUsers   int64  `json:"activeUsers"`
	Summary       string `json:"summary"`
	SummaryAr     string `json:"summaryAr"`
}

// Messages are the user's conversations: how many, their unread messages, and how many had a
// message today.
type Messages struct {
	Conversations int64 `json:"conversations"`
	Unread        int64 `json:"unread"`
	Today         int64 `json:"today"`
}

// Event is an upcoming event in the frontend's shape ({title, date, location}) with what links
// it.
type Event struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	TitleAr       string    `json:"titleAr"`
	Date          time.Time `json:"date"`
	Location      string    `json:"location"` // the place, or "Online"
	Online        bool      `json:"online"`
	AttendingByMe bool      `json:"attendingByMe"`
	Link          string    `json:"link"`
}

// UpcomingShown is how many upcoming events the dashboard lists.
const UpcomingShown = 3

// Organization is seed 004's DashboardStats for the user's organization over the period.
type Organization struct {
	Users struct {
		Total  int64 `json:"total"`
		Active int64 `json:"active"`
		New    int64 `json:"new"`
	} `json:"users"`
	Forum struct {
		Topics         int64   `json:"topics"`
		Posts          int64   `json:"posts"`
		TopicsThisWeek int64   `json:"topicsThisWeek"`
		EngagementRate float64 `json:"engagementRate"` // percent of members who contributed
	} `json:"forum"`
	UseCases struct {
		Submissions int64    `json:"submissions"`
		Verified    int64    `json:"verified"`
		Views       int64    `json:"views"`
		AverageROI  *float64 `json:"averageRoi"`
	} `json:"useCases"`
}

// Dashboard is GET /dashboard.
type Dashboard struct {
	Period       string       `json:"period"`
	Since        *time.Time   `json:"since"`
	Progress     []Widget     `json:"progress"`
	QuickAccess  []Access     `json:"quickAccess"`
	ThisMonth    Month        `json:"thisMonth"`
	Messages     Messages     `json:"messages"`
	Upcoming     []Event      `json:"upcomingEvents"`
	Organization Organization `json:"organization"`
	GeneratedAt  time.Time    `json:"generatedAt"`
}

// Service answers dashboards.
type Service struct {
	store Store
	cache Cache
	now   func() time.Time
}

// NewService returns the service; cache may be nil (every dashboard computed).
func NewService(store Store, cache Cache, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, cache: cache, now: now}
}

// Get is p's dashboard for the period (ParsePeriod's names). The counters come from the cache
// when no event changed them since; the messages and upcoming events are read live (they change
// with every message and as time passes, which are no events of the dashboard's).
func (s *Service) Get(ctx context.Context, p identity.Principal, period string) (Dashboard, error) {
	per, err := ParsePeriod(period)
	if err != nil {
		return Dashboard{}, err
	}
	now := s.now().UTC()
	today := now.Truncate(24 * time.Hour)
	var (
		d     Dashboard
		hit   bool
		stamp string
	)
	if s.cache != nil {
		var c *Dashboard
		if c, stamp, hit = s.cache.Get(ctx, p.UserID, p.OrganizationID, per.Name); hit {
			d = *c
		}
	}
	if !hit {
		q := Query{UserID: p.UserID, OrganizationID: p.OrganizationID, Today: today, Since: per.Since(today),
			Month: time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)}
		f, err := s.store.Figures(ctx, q)
		if err != nil {
			return Dashboard{}, err
		}
		d = Build(per, q, f, now)
		if s.cache != nil {
			s.cache.Put(ctx, p.UserID, per.Name, stamp, d)
		}
	}
	if d.Messages, err = s.store.Messages(ctx, p.UserID, today); err != nil {
		return Dashboard{}, err
	}
	if d.Upcoming, err = s.store.Upcoming(ctx, p.UserID, p.OrganizationID, now, UpcomingShown); err != nil {
		return Dashboard{}, err
	}
	return d, nil
}

// Rebuild recounts every counter and makes every cached dashboard stale.
func (s *Service) Rebuild(ctx context.Context) (RebuildReport, error) {
	start := s.now()
	r, err := s.store.Rebuild(ctx)
	r.Took = s.now().Sub(start)
	if err == nil && s.cache != nil {
		s.cache.Flush(ctx)
	}
	return r, err
}

// Build makes the dashboard of the figures.
func Build(per Period, q Query, f Figures, now time.Time) Dashboard {
	d := Dashboard{Period: per.Name, GeneratedAt: now}
	if per.Days > 0 {
		since := q.Since
		d.Since = &since
	}
	widget := func(key, en, ar string) Widget {
		return Widget{Key: key, Label: en, LabelAr: ar, Value: f.User[key], WeeklyDelta: f.UserWeek[key]}
	}
	d.Progress = []Widget{
		widget(Questions, "Questions", "الأسئلة"),
		widget(Answers, "Answers", "الإجابات"),
		widget(Saved, "Saved", "المحفوظات"),
		widget(Reputation, "Reputation", "السمعة"),
	}
	d.QuickAccess = []Access{
		{Key: "saved", Title: "Saved Articles", TitleAr: "المقالات المحفوظة", Count: f.User[Saved], Link: "/forum?filter=bookmarked"},
		{Key: "connections", Title: "My Connections", TitleAr: "اتصالاتي", Count: f.Following, Link: "/people?following=true"},
		{Key: "drafts", Title: "Draft Posts", TitleAr: "المسودات", Count: f.User[Drafts], Link: "/use-cases?mine=drafts"},
	}
	d.ThisMonth = month(f)

	o := &d.Organization
	o.Users.Total, o.Users.Active = f.Org[Members], f.ActiveMembers
	o.Users.New = f.OrgPeriod[Joined]
	o.Forum.Topics, o.Forum.Posts, o.Forum.TopicsThisWeek = f.OrgPeriod[Topics], f.OrgPeriod[Posts], f.OrgWeek[Topics]
	if o.Users.Total > 0 {
		o.Forum.EngagementRate = math.Round(1000*float64(min(f.ActiveMembers, o.Users.Total))/float64(o.Users.Total)) / 10
	}
	o.UseCases.Submissions = f.OrgPeriod[Submissions]
	o.UseCases.Verified, o.UseCases.Views, o.UseCases.AverageROI = f.UseCasesVerified, f.UseCaseViews, f.AverageROI
	return d
}

// month ranks the user among this month's active users: the share who contributed less.
func month(f Figures) Month {
	m := Month{Contributions: f.MonthActions, ActiveUsers: f.MonthActive}
	if f.MonthActions == 0 || f.MonthActive == 0 {
		m.TopPercent = 100
		m.Summary, m.SummaryAr = "No contributions yet this month", "لا مساهمات بعد هذا الشهر"
		return m
	}
	m.ActivityLevel = int(100 * f.MonthBelow / f.MonthActive)
	// The top share that includes the user: of 10 active users, the most active is in the top 10%.
	m.TopPercent = int(math.Ceil(100 * float64(f.MonthActive-f.MonthBelow) / float64(f.MonthActive)))
	m.Summary = "You're in the top " + strconv.Itoa(m.TopPercent) + "%"
	m.SummaryAr = "أنت ضمن أعلى " + strconv.Itoa(m.TopPercent) + "٪"
	return m
}
