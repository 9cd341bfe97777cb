package dashboard

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
)

func TestParsePeriod(t *testing.T) {
	today := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in, name string
		since    time.Time
	}{
		{"", "30d", time.Date(2026, 2, 19, 0, 0, 0, 0, time.UTC)},
		{"7d", "7d", time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)},
		{"7", "7d", time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)},
		{"90d", "90d", time.Date(2025, 12, 21, 0, 0, 0, 0, time.UTC)},
		{"all", "all", time.Time{}},
	} {
		p, err := ParsePeriod(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.name, p.Name, c.in)
		assert.Equal(t, c.since, p.Since(today), c.in)
	}
	for _, bad := range []string{"365d", "7days", "-7", "all ", "\x00", "٧"} {
		_, err := ParsePeriod(bad)
		e, ok := errs.As(err)
		require.True(t, ok, bad)
		assert.Equal(t, errs.Validation, e.Code, bad)
	}
}

func TestMonthRanking(t *testing.T) {
	for _, c := range []struct {
		mine, below, active int64
		level, top          int
		summary             string
	}{
		{0, 0, 0, 0, 100, "No contributions yet this month"},
		{0, 0, 12, 0, 100, "No contributions yet this month"},
		{3, 0, 1, 0, 100, "You're in the top 100%"},
		{9, 9, 10, 90, 10, "You're in the top 10%"},
		{2, 1, 3, 33, 67, "You're in the top 67%"},
		{1, 0, 200, 0, 100, "You're in the top 100%"},
	} {
		m := month(Figures{MonthActions: c.mine, MonthBelow: c.below, MonthActive: c.active})
		assert.Equal(t, c.level, m.ActivityLevel, "%+v", c)
		assert.Equal(t, c.top, m.TopPercent, "%+v", c)
		assert.Equal(t, c.summary, m.Summary, "%+v", c)
		assert.NotEmpty(t, m.SummaryAr)
	}
}

func TestBuildOrganization(t *testing.T) {
	roi := 180.5
	f := Figures{
		User: map[string]int64{Questions: 4, Saved: 2, Drafts: 1}, UserWeek: map[string]int64{Questions: 1},
		Org: map[string]int64{Members: 8}, OrgPeriod: map[string]int64{Joined: 2, Topics: 5, Posts: 9, Submissions: 1},
		OrgWeek: map[string]int64{Topics: 3}, ActiveMembers: 3, Following: 6, UseCasesVerified: 2, UseCaseViews: 40, AverageROI: &roi,
	}
	per, _ := ParsePeriod("30d")
	now := time.Date(2026, 3, 20, 10, 0, 0, 0, time.UTC)
	d := Build(per, Query{Since: per.Since(now.Truncate(24 * time.Hour))}, f, now)
	assert.Equal(t, []Widget{
		{Key: Questions, Label: "Questions", LabelAr: "الأسئلة", Value: 4, WeeklyDelta: 1},
		{Key: Answers, Label: "Answers", LabelAr: "الإجابات"},
		{Key: Saved, Label: "Saved", LabelAr: "المحفوظات", Value: 2},
		{Key: Reputation, Label: "Reputation", LabelAr: "السمعة"},
	}, d.Progress)
	assert.Equal(t, []int64{2, 6, 1}, []int64{d.QuickAccess[0].Count, d.QuickAccess[1].Count, d.QuickAccess[2].Count})
	o := d.Organization
	assert.Equal(t, [3]int64{8, 3, 2}, [3]int64{o.Users.Total, o.Users.Active, o.Users.New})
	assert.Equal(t, 37.5, o.Forum.EngagementRate)
	assert.Equal(t, [3]int64{5, 9, 3}, [3]int64{o.Forum.Topics, o.Forum.Posts, o.Forum.TopicsThisWeek})
	assert.Equal(t, &roi, o.UseCases.AverageROI)
	require.NotNil(t, d.Since)
	assert.Equal(t, "30d", d.Period)
}
