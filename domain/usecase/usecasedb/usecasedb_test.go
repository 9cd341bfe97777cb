package usecasedb_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/identity"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// complete is a use case that passes every step (../testdata/complete.json), as a patch.
func complete(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../testdata/complete.json")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func code(err error) errs.Code { return errs.CodeOf(err) }

// TestLifecycle: a draft autosaved (stale versions refused), seen only by its organization,
// submitted when complete, sent back with comments (the event recorded with the change),
// resubmitted, published, then listed, searched in English and Arabic, liked and saved.
func testLifecycle(t *testing.T, open opener) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := usecase.NewService(usecase.Deps{Store: open(t, pool)})
	org, other := identitytest.NewOrg(t, pool), identitytest.NewOrg(t, pool)
	author, colleague := org.Owner, org.Member(t, pool)
	outsider := other.Owner
	mod := other.Member(t, pool)
	mod.Roles = append(mod.Roles, identity.RoleModerator)

	u, err := svc.Create(ctx, author, map[string]any{"title": "Draft"})
	require.NoError(t, err)
	assert.Equal(t, usecase.StatusDraft, u.Status)
	assert.Equal(t, 1, u.Version)
	assert.Equal(t, []string{}, u.Tags)
	assert.True(t, u.IsMine)

	// Autosave: any subset; a stale version is refused.
	u, err = svc.Update(ctx, author, u.ID, 1, complete(t))
	require.NoError(t, err)
	assert.Equal(t, 2, u.Version)
	assert.Equal(t, "AI Quality Inspection System", u.Title)
	_, err = svc.Update(ctx, author, u.ID, 1, map[string]any{"title": "Other tab"})
	assert.ErrorIs(t, err, usecase.ErrStale)
	_, err = svc.Update(ctx, author, u.ID, 0, map[string]any{"subtitle": strings.Repeat("x", 5001)})
	assert.Equal(t, errs.Validation, code(err), "sizes are held on autosave")

	// Only the organization sees a draft; only its author changes it.
	_, err = svc.Get(ctx, outsider, u.ID)
	assert.Equal(t, errs.NotFound, code(err))
	_, err = svc.Get(ctx, mod, u.ID)
	assert.Equal(t, errs.NotFound, code(err), "moderators see use cases once submitted")
	_, err = svc.Update(ctx, outsider, u.ID, 0, map[string]any{"title": "Hijack"})
	assert.Equal(t, errs.NotFound, code(err))
	got, err := svc.Get(ctx, colleague, u.ID)
	require.NoError(t, err)
	assert.False(t, got.IsMine)
	_, err = svc.Update(ctx, colleague, u.ID, 0, map[string]any{"title": "Hijack"})
	assert.Equal(t, errs.Forbidden, code(err))

	// Submission checks everything.
	_, err = svc.Update(ctx, author, u.ID, 0, map[string]any{"location": map[string]any{"latitude": nil}})
	require.NoError(t, err)
	_, err = svc.Submit(ctx, author, u.ID, 0, "en")
	require.Equal(t, errs.Validation, code(err))
	e, _ := errs.As(err)
	assert.Equal(t, []errs.FieldError{{Field: "location.latitude", Message: "is required"}}, e.Fields)
	u, err = svc.Update(ctx, author, u.ID, 0, map[string]any{"location": map[string]any{"latitude": 24.7136}})
	require.NoError(t, err)
	_, err = svc.Submit(ctx, author, u.ID, u.Version-1, "en")
	assert.ErrorIs(t, err, usecase.ErrStale)
	u, err = svc.Submit(ctx, author, u.ID, u.Version, "en")
	require.NoError(t, err)
	assert.Equal(t, usecase.StatusSubmitted, u.Status)
	assert.Equal(t, 1, u.Submissions)
	_, err = svc.Update(ctx, author, u.ID, 0, map[string]any{"title": "Too late for this"})
	assert.Equal(t, errs.Conflict, code(err))

	// The moderator's queue; others may not review.
	_, err = svc.Queue(ctx, author, "", 0, "")
	assert.Equal(t, errs.Forbidden, code(err))
	_, err = svc.Decide(ctx, author, u.ID, usecase.Decision{Action: usecase.ActionPublish})
	assert.Equal(t, errs.Forbidden, code(err))
	q, err := svc.Queue(ctx, mod, "", 0, "")
	require.NoError(t, err)
	require.Len(t, q.Items, 1)
	assert.Equal(t, 1, *q.Total)
	_, err = svc.Decide(ctx, mod, u.ID, usecase.Decision{Action: usecase.ActionRequestChanges})
	assert.Equal(t, errs.Validation, code(err), "changes are requested with comments")
	u, err = svc.Decide(ctx, mod, u.ID, usecase.Decision{Action: usecase.ActionRequestChanges, Comments: "Add the payback period."})
	require.NoError(t, err)
	assert.Equal(t, usecase.StatusChangesRequested, u.Status)
	require.NotNil(t, u.Review)
	assert.Equal(t, "Add the payback period.", u.Review.Comments)
	var payload map[string]any
	require.NoError(t, pool.QueryRow(ctx, `SELECT payload FROM domain_events WHERE name = 'usecase.reviewed' AND aggregate = $1`, u.ID).Scan(&payload))
	assert.Equal(t, map[string]any{"useCaseId": u.ID, "title": "AI Quality Inspection System", "authorId": author.UserID,
		"reviewerId": mod.UserID, "action": "request_changes", "status": "changes_requested", "comments": "Add the payback period."}, payload)

	// Resubmitted, published.
	_, err = svc.Update(ctx, author, u.ID, 0, map[string]any{"results": map[string]any{"roiAnalysis": map[string]any{"paybackPeriod": "1.5 months"}}})
	require.NoError(t, err)
	u, err = svc.Submit(ctx, author, u.ID, 0, "en")
	require.NoError(t, err)
	assert.Equal(t, 2, u.Submissions)
	u, err = svc.Decide(ctx, mod, u.ID, usecase.Decision{Action: usecase.ActionPublish})
	require.NoError(t, err)
	assert.Equal(t, usecase.StatusPublished, u.Status)
	assert.NotNil(t, u.PublishedAt)
	_, err = svc.Decide(ctx, mod, u.ID, usecase.Decision{Action: usecase.ActionReject, Comments: "no"})
	assert.Equal(t, errs.Conflict, code(err))
	err = svc.Delete(ctx, author, u.ID, 0)
	assert.Equal(t, errs.Conflict, code(err))

	// The library: everyone; filters, search in English and Arabic, a draft never.
	_, err = svc.Create(ctx, author, map[string]any{"title": "Another draft about inspection"})
	require.NoError(t, err)
	ar, err := svc.Create(ctx, outsider, map[string]any{})
	require.NoError(t, err)
	publish(t, svc, outsider, mod, ar.ID, map[string]any{"title": "نظام الصيانة التنبؤية للمضخات", "category": "Predictive Maintenance",
		"industry": "Food & Beverage", "description": "نظام يتنبأ بأعطال المضخات قبل حدوثها ويقلل التوقف غير المخطط بنسبة أربعين بالمئة في المصنع"})
	list := func(q usecase.Query) []string {
		t.Helper()
		pg, err := svc.Library(ctx, outsider, q, 0, "")
		require.NoError(t, err)
		var ids []string
		for _, it := range pg.Items {
			ids = append(ids, it.ID)
		}
		assert.Equal(t, len(ids), *pg.Total)
		return ids
	}
	assert.Equal(t, []string{ar.ID, u.ID}, list(usecase.Query{}))
	assert.Equal(t, []string{u.ID}, list(usecase.Query{Category: "quality control"}))
	assert.Equal(t, []string{u.ID}, list(usecase.Query{Industry: "Electronics Manufacturing"}))
	assert.Equal(t, []string{ar.ID}, list(usecase.Query{OrganizationID: other.ID}))
	assert.Equal(t, []string{u.ID}, list(usecase.Query{Text: "inspections"}))
	assert.Equal(t, []string{u.ID}, list(usecase.Query{Text: "defects"}), "the executive summary is searched")
	assert.Equal(t, []string{ar.ID}, list(usecase.Query{Text: "الصيانه"}), "Arabic spelling variants match")

	// Likes and saves, once per user, with my state.
	var wg sync.WaitGroup
	for _, p := range []identity.Principal{outsider, outsider, colleague, mod} {
		wg.Go(func() {
			_, err := svc.React(ctx, p, "like", u.ID, true)
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	n, err := svc.React(ctx, outsider, "save", u.ID, true)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	got, err = svc.Get(ctx, outsider, u.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, got.Likes)
	assert.True(t, got.LikedByMe)
	assert.True(t, got.SavedByMe)
	n, err = svc.React(ctx, outsider, "like", u.ID, false)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []string{u.ID, ar.ID}, list(usecase.Query{Sort: usecase.SortLiked}))
	_, err = svc.React(ctx, outsider, "like", ar.ID+"x", true)
	assert.Equal(t, errs.NotFound, code(err))

	// Mine: every status, last changed first; a draft deleted is gone.
	pg, err := svc.Mine(ctx, author, "", 0, "")
	require.NoError(t, err)
	require.Len(t, pg.Items, 2)
	drafts, err := svc.Mine(ctx, author, usecase.StatusDraft, 0, "")
	require.NoError(t, err)
	require.Len(t, drafts.Items, 1)
	require.NoError(t, svc.Delete(ctx, author, drafts.Items[0].ID, 0))
	_, err = svc.Get(ctx, author, drafts.Items[0].ID)
	assert.Equal(t, errs.NotFound, code(err))
}

func TestLifecycle(t *testing.T) { eachBackend(t, testLifecycle) }

// publish makes use case id complete (with extra over it), submits it and publishes it.
func publish(t *testing.T, svc *usecase.Service, author, mod identity.Principal, id string, extra map[string]any) {
	t.Helper()
	ctx := context.Background()
	m := complete(t)
	for k, v := range extra {
		m[k] = v
	}
	_, err := svc.Update(ctx, author, id, 0, m)
	require.NoError(t, err)
	_, err = svc.Submit(ctx, author, id, 0, "en")
	require.NoError(t, err)
	_, err = svc.Decide(ctx, mod, id, usecase.Decision{Action: usecase.ActionPublish})
	require.NoError(t, err)
}

// TestPages: the library pages through every published use case once, in each sort.
func testPages(t *testing.T, open opener) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := usecase.NewService(usecase.Deps{Store: open(t, pool)})
	org := identitytest.NewOrg(t, pool)
	mod := org.Member(t, pool)
	mod.Roles = append(mod.Roles, identity.RoleModerator)
	// Ties everywhere: two state the same ROI, one states none; every one matches "defects".
	for _, roi := range []string{"250% ROI in first year", "120%", "250%", "Not measured yet", "40% in two years"} {
		u, err := svc.Create(ctx, org.Owner, map[string]any{})
		require.NoError(t, err)
		m := complete(t)["results"].(map[string]any)
		m["roiPercentage"] = roi
		publish(t, svc, org.Owner, mod, u.ID, map[string]any{"results": m})
	}
	sorts := []string{usecase.SortNewest, usecase.SortViewed, usecase.SortLiked, usecase.SortSaved, usecase.SortROI, usecase.SortRelevance}
	for _, sort := range sorts {
		seen := map[string]bool{}
		var rois []string
		cursor := ""
		for {
			pg, err := svc.Library(ctx, org.Owner, usecase.Query{Sort: sort, Text: "defects"}, 2, cursor)
			require.NoError(t, err)
			assert.Equal(t, 5, *pg.Total)
			for _, it := range pg.Items {
				assert.False(t, seen[it.ID], "%s: %s twice", sort, it.ID)
				seen[it.ID] = true
				rois = append(rois, it.RoiPercentage)
			}
			if pg.NextCursor == nil {
				break
			}
			cursor = *pg.NextCursor
		}
		assert.Len(t, seen, 5, sort)
		if sort == usecase.SortROI {
			assert.Equal(t, []string{"250", "250", "120%", "40% in two years", "Not measured yet"},
				[]string{rois[0][:3], rois[1][:3], rois[2], rois[3], rois[4]}, "highest first, none last")
		}
	}
	_, err := svc.Library(ctx, org.Owner, usecase.Query{}, 0, "bm90IGEgY3Vyc29y")
	assert.Equal(t, errs.Validation, code(err))
	_, err = svc.Library(ctx, org.Owner, usecase.Query{Sort: "random"}, 0, "")
	assert.Equal(t, errs.Validation, code(err))
}

func TestPages(t *testing.T) { eachBackend(t, testPages) }

// TestConcurrentAutosaves: saves on one version race and one wins (the rest are stale); saves
// without a version merge, and none is lost.
func testConcurrentAutosaves(t *testing.T, open opener) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := usecase.NewService(usecase.Deps{Store: open(t, pool)})
	org := identitytest.NewOrg(t, pool)
	u, err := svc.Create(ctx, org.Owner, map[string]any{})
	require.NoError(t, err)

	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		won, stale int
	)
	for i := range 4 {
		wg.Go(func() {
			_, err := svc.Update(ctx, org.Owner, u.ID, 1, map[string]any{"title": "Tab " + string(rune('A'+i))})
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, usecase.ErrStale) {
				stale++
			} else if assert.NoError(t, err) {
				won++
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, won)
	assert.Equal(t, 3, stale)

	fields := []string{"subtitle", "industry", "factoryName", "contactPerson"}
	for _, f := range fields {
		wg.Go(func() {
			_, err := svc.Update(ctx, org.Owner, u.ID, 0, map[string]any{f: "set " + f})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	got, err := svc.Get(ctx, org.Owner, u.ID)
	require.NoError(t, err)
	assert.Equal(t, "set subtitle", got.Subtitle)
	assert.Equal(t, "set industry", got.Industry)
	assert.Equal(t, "set factoryName", got.FactoryName)
	assert.Equal(t, "set contactPerson", got.ContactPerson)
	assert.Equal(t, 6, got.Version)
}

func TestConcurrentAutosaves(t *testing.T) { eachBackend(t, testConcurrentAutosaves) }

// TestRelatedAndSaved: related use cases share the category (3), the industry (2) and tags (1
// each), best first, never the one shown, drafts or unrelated ones; the saved filter lists what
// the viewer saved.
func testRelatedAndSaved(t *testing.T, open opener) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	svc := usecase.NewService(usecase.Deps{Store: open(t, pool)})
	org := identitytest.NewOrg(t, pool)
	mod := org.Member(t, pool)
	mod.Roles = append(mod.Roles, identity.RoleModerator)
	made := func(extra map[string]any, published bool) string {
		u, err := svc.Create(ctx, org.Owner, map[string]any{})
		require.NoError(t, err)
		if published {
			publish(t, svc, org.Owner, mod, u.ID, extra)
		}
		return u.ID
	}
	shown := made(nil, true) // Quality Control, Electronics Manufacturing, tags AI and Computer Vision
	best := made(map[string]any{"tags": []any{"ai", "Robotics"}}, true)
	sameCategory := made(map[string]any{"industry": "Food Processing", "tags": []any{}}, true)
	sameIndustry := made(map[string]any{"category": "Predictive Maintenance", "tags": []any{"AI", "Computer Vision"}}, true)
	made(map[string]any{"category": "Predictive Maintenance", "industry": "Food Processing", "tags": []any{"AI"}}, true)
	made(nil, false) // a draft like it

	related, err := svc.Related(ctx, mod, shown)
	require.NoError(t, err)
	var got []string
	for _, r := range related {
		got = append(got, r.ID)
	}
	assert.Equal(t, []string{best, sameIndustry, sameCategory}, got, "6, then 2+2, then 3 points")
	for _, r := range related {
		u, err := svc.Get(ctx, mod, r.ID)
		require.NoError(t, err)
		assert.Equal(t, usecase.Summarize(u), r, "a related card shows what the library's card shows")
	}

	_, err = svc.React(ctx, mod, "save", sameCategory, true)
	require.NoError(t, err)
	pg, err := svc.Library(ctx, mod, usecase.Query{Saved: true}, 0, "")
	require.NoError(t, err)
	require.Len(t, pg.Items, 1)
	assert.Equal(t, sameCategory, pg.Items[0].ID)
	assert.Equal(t, 1, *pg.Total)

	// The sidebar: each facet ignores its own filter; companies rank by what they published.
	f, err := svc.Facets(ctx, mod, usecase.Query{Category: "Quality Control"})
	require.NoError(t, err)
	assert.Equal(t, []usecase.Facet{{Value: "Quality Control", Count: 3}, {Value: "Predictive Maintenance", Count: 2}}, f.Categories)
	assert.Equal(t, []usecase.Facet{{Value: "Electronics Manufacturing", Count: 2}, {Value: "Food Processing", Count: 1}}, f.Industries,
		"within the category filter")
	require.Len(t, f.TopCompanies, 1)
	assert.Equal(t, 5, f.TopCompanies[0].Count)
	_, err = svc.Facets(ctx, mod, usecase.Query{OrganizationID: "nope"})
	assert.Equal(t, errs.Validation, code(err))

	// Moderators' marks: on published ones only.
	u, err := svc.Verify(ctx, mod, best, true)
	require.NoError(t, err)
	assert.True(t, u.Verified)
	assert.NotEmpty(t, u.VerifiedBy)
	u, err = svc.Verify(ctx, mod, best, false)
	require.NoError(t, err)
	assert.False(t, u.Verified)
	assert.Empty(t, u.VerifiedBy)
	_, err = svc.Feature(ctx, org.Owner, best, true)
	assert.Equal(t, errs.Forbidden, code(err), "authors do not feature their own")
	waiting, err := svc.Create(ctx, org.Owner, map[string]any{})
	require.NoError(t, err)
	_, err = svc.Update(ctx, org.Owner, waiting.ID, 0, complete(t))
	require.NoError(t, err)
	_, err = svc.Submit(ctx, org.Owner, waiting.ID, 0, "en")
	require.NoError(t, err)
	_, err = svc.Feature(ctx, mod, waiting.ID, true)
	assert.Equal(t, errs.Conflict, code(err), "not yet published")
}

func TestRelatedAndSaved(t *testing.T) { eachBackend(t, testRelatedAndSaved) }

// library is a new database (its pool) and its use case service with one organization, and made, which publishes
// a use case of its owner with the complete content changed by extra.
func library(t *testing.T, open opener) (*pgxpool.Pool, *usecase.Service, identitytest.Org, func(extra map[string]any) string) {
	t.Helper()
	pool, _ := pgtest.New(t)
	svc := usecase.NewService(usecase.Deps{Store: open(t, pool)})
	org := identitytest.NewOrg(t, pool)
	mod := org.Member(t, pool)
	mod.Roles = append(mod.Roles, identity.RoleModerator)
	return pool, svc, org, func(extra map[string]any) string {
		u, err := svc.Create(context.Background(), org.Owner, map[string]any{})
		require.NoError(t, err)
		publish(t, svc, org.Owner, mod, u.ID, extra)
		return u.ID
	}
}

// TestLibraryFilters: technology (a tag or a component, any case), city, ROI range and distance
// from a point narrow the library; a search's snippet marks the matches and escapes the rest.
func testLibraryFilters(t *testing.T, open opener) {
	ctx := context.Background()
	_, svc, org, made := library(t, open)
	results := func(roi string) map[string]any {
		m := complete(t)["results"].(map[string]any)
		m["roiPercentage"] = roi
		return m
	}
	riyadh := made(map[string]any{"results": results("250%")}) // Riyadh, tags AI and Computer Vision, component Hardware Platform
	khobar := made(map[string]any{"tags": []any{"IoT"}, "results": results("90%"),
		"location":    map[string]any{"city": "Al Khobar", "region": "Eastern Province", "latitude": 26.2172, "longitude": 50.1971},
		"description": "Sensors <b>warned</b> of bearing failures & cut downtime on the kiln by 40% in a year."})
	dammam := made(map[string]any{"tags": []any{}, "results": results("none stated"),
		"location": map[string]any{"city": "Dammam", "region": "Eastern Province", "latitude": 26.4207, "longitude": 50.0888}})
	ten, hundred := 10.0, 100.0

	tests := []struct {
		name string
		q    usecase.Query
		want []string
	}{
		{"tag, any case", usecase.Query{Technology: "iot"}, []string{khobar}},
		{"component name", usecase.Query{Technology: "HARDWARE PLATFORM"}, []string{dammam, khobar, riyadh}},
		{"a tag no one has", usecase.Query{Technology: "blockchain"}, nil},
		{"city, any case", usecase.Query{City: "al khobar"}, []string{khobar}},
		{"roi range", usecase.Query{RoiMin: &ten, RoiMax: &hundred}, []string{khobar}},
		{"roi at least", usecase.Query{RoiMin: &hundred}, []string{riyadh}},
		{"near Dhahran, 30 km", usecase.Query{Near: &usecase.Near{Latitude: 26.2654, Longitude: 50.1520, RadiusKm: 30}}, []string{dammam, khobar}},
		{"near Dhahran, 10 km", usecase.Query{Near: &usecase.Near{Latitude: 26.2654, Longitude: 50.1520, RadiusKm: 10}}, []string{khobar}},
		{"near Riyadh, 1000 km", usecase.Query{Near: &usecase.Near{Latitude: 24.71, Longitude: 46.67, RadiusKm: 1000}}, []string{dammam, khobar, riyadh}},
		{"company searched", usecase.Query{Text: "Advanced Electronics"}, []string{dammam, khobar, riyadh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg, err := svc.Library(ctx, org.Owner, tt.q, 0, "")
			require.NoError(t, err)
			var got []string
			for _, it := range pg.Items {
				got = append(got, it.ID)
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, len(tt.want), *pg.Total)
			facets, err := svc.Facets(ctx, org.Owner, tt.q)
			require.NoError(t, err)
			n := 0
			for _, f := range facets.Categories {
				n += f.Count
			}
			assert.Equal(t, len(tt.want), n, "the facets count what the list finds")
		})
	}

	pg, err := svc.Library(ctx, org.Owner, usecase.Query{Text: "bearing failures"}, 0, "")
	require.NoError(t, err)
	require.Len(t, pg.Items, 1)
	assert.Contains(t, pg.Items[0].Snippet, "<mark>bearing</mark> <mark>failures</mark>")
	assert.Contains(t, pg.Items[0].Snippet, "&amp; cut downtime", "the rest is escaped")
	assert.NotContains(t, pg.Items[0].Snippet, "<b>", "the description's markup never comes through")
	pg, err = svc.Library(ctx, org.Owner, usecase.Query{}, 0, "")
	require.NoError(t, err)
	assert.Empty(t, pg.Items[0].Snippet, "no search, no snippet")

	for _, bad := range []usecase.Query{
		{RoiMin: &hundred, RoiMax: &ten},
		{Near: &usecase.Near{Latitude: 91, Longitude: 0, RadiusKm: 5}},
		{Near: &usecase.Near{Latitude: 24, Longitude: 46, RadiusKm: 0}},
		{Near: &usecase.Near{Latitude: 24, Longitude: 46, RadiusKm: 3000}},
		{Technology: strings.Repeat("x", 101)},
	} {
		_, err := svc.Library(ctx, org.Owner, bad, 0, "")
		assert.Equal(t, errs.Validation, code(err), "%+v", bad)
	}
}

func TestLibraryFilters(t *testing.T) { eachBackend(t, testLibraryFilters) }

// TestReviewWorkflow: comments per field are stored with the decision and replaced by the next;
// of moderators claiming at once exactly one wins; every change of status is in the history, and
// a change whose history cannot be written does not happen (one transaction); archived ones leave
// the library and come back restored.
func testReviewWorkflow(t *testing.T, open opener) {
	ctx := context.Background()
	pool, _ := pgtest.New(t)
	store := open(t, pool)
	svc := usecase.NewService(usecase.Deps{Store: store})
	org, other := identitytest.NewOrg(t, pool), identitytest.NewOrg(t, pool)
	author, outsider := org.Owner, other.Owner
	mods := other.Members(t, pool, 8)
	for i := range mods {
		mods[i].Roles = append(mods[i].Roles, identity.RoleModerator)
	}
	mod := mods[0]

	u, err := svc.Create(ctx, author, complete(t))
	require.NoError(t, err)
	_, err = svc.Submit(ctx, author, u.ID, 0, "en")
	require.NoError(t, err)
	fc := []usecase.FieldComment{{Field: "results.quantitativeMetrics[1].baseline", Comment: "Which month?"}}
	u, err = svc.Decide(ctx, mod, u.ID, usecase.Decision{Action: usecase.ActionRequestChanges, FieldComments: fc})
	require.NoError(t, err)
	require.NotNil(t, u.Review)
	assert.Equal(t, fc, u.Review.FieldComments)
	assert.Equal(t, mod.UserID, u.Review.Reviewer.ID)
	seen, err := svc.Get(ctx, author, u.ID)
	require.NoError(t, err)
	assert.Equal(t, fc, seen.Review.FieldComments, "the author reads them")

	// Eight moderators claim the resubmission at once: one wins, the others are told.
	_, err = svc.Submit(ctx, author, u.ID, 0, "en")
	require.NoError(t, err)
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		wins, conflicts int
	)
	for _, m := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Claim(ctx, m, u.ID, "en")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case code(err) == errs.Conflict:
				conflicts++
			default:
				t.Errorf("claim: %v", err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, len(mods)-1, conflicts)
	claimed, err := svc.Get(ctx, mod, u.ID)
	require.NoError(t, err)
	assert.Equal(t, usecase.StatusUnderReview, claimed.Status)
	q, err := svc.Queue(ctx, mod, usecase.StatusUnderReview, 0, "")
	require.NoError(t, err)
	require.Len(t, q.Items, 1)
	assert.Equal(t, claimed.ReviewerID, q.Items[0].ReviewerID)

	// Published from under_review: the field comments of the last decision are gone.
	u, err = svc.Decide(ctx, mod, u.ID, usecase.Decision{Action: usecase.ActionPublish})
	require.NoError(t, err)
	assert.Equal(t, []usecase.FieldComment{}, u.Review.FieldComments)
	assert.Empty(t, u.ReviewerID)
	seen, err = svc.Get(ctx, outsider, u.ID)
	require.NoError(t, err)
	assert.Nil(t, seen.Review, "readers outside the organization do not read the review")

	// A change whose history row fails (an actor who is nobody) leaves the use case as it was.
	err = store.Transition(ctx, u.ID, usecase.Transition{From: []string{usecase.StatusPublished}, To: usecase.StatusArchived,
		At: u.UpdatedAt, Action: usecase.ActionArchive, ActorID: "00000000-0000-0000-0000-000000000001"})
	require.Error(t, err)
	seen, err = svc.Get(ctx, author, u.ID)
	require.NoError(t, err)
	assert.Equal(t, usecase.StatusPublished, seen.Status, "the status change rolled back with the history")

	// Archived by the organization's admin, out of the library; restored, back.
	_, err = svc.Archive(ctx, author, u.ID, "Line replaced", "en")
	require.NoError(t, err)
	lib, err := svc.Library(ctx, outsider, usecase.Query{}, 0, "")
	require.NoError(t, err)
	assert.Empty(t, lib.Items)
	_, err = svc.Get(ctx, outsider, u.ID)
	assert.Equal(t, errs.NotFound, code(err))
	_, err = svc.Archive(ctx, outsider, u.ID, "", "en")
	assert.Equal(t, errs.NotFound, code(err))
	_, err = svc.Restore(ctx, mod, u.ID, "", "en")
	require.NoError(t, err)
	lib, err = svc.Library(ctx, outsider, usecase.Query{}, 0, "")
	require.NoError(t, err)
	require.Len(t, lib.Items, 1)
	assert.Equal(t, u.PublishedAt.UTC(), lib.Items[0].PublishedAt.UTC(), "restored in its place")

	// The history: every change, once, in order.
	h, err := svc.History(ctx, author, u.ID, "en")
	require.NoError(t, err)
	var actions []string
	for _, e := range h {
		actions = append(actions, e.Action)
	}
	assert.Equal(t, []string{"create", "submit", "request_changes", "submit", "claim", "publish", "archive", "restore"}, actions)
	assert.Nil(t, h[0].From)
	assert.Equal(t, fc, h[2].FieldComments)
	assert.Equal(t, "Line replaced", h[6].Comments)
	_, err = svc.History(ctx, outsider, u.ID, "en")
	assert.Equal(t, errs.NotFound, code(err))
}

func TestReviewWorkflow(t *testing.T) { eachBackend(t, testReviewWorkflow) }

// TestMapPoints: the map's points, extracted from the documents in SQL, show what the detail
// shows; benefits are the first three metrics with an improvement; drafts and use cases outside
// the box are left out.
func testMapPoints(t *testing.T, open opener) {
	ctx := context.Background()
	pool, svc, org, made := library(t, open)
	metric := func(name, improvement string) map[string]any {
		return map[string]any{"metric": name, "baseline": "10", "current": "20", "improvement": improvement}
	}
	results := complete(t)["results"].(map[string]any)
	results["quantitativeMetrics"] = []any{metric("Alpha", "1%"), metric("Bravo", "2%"), metric("Charlie \"quoted\" ج", "3% <less>"),
		metric("Delta", "4%")}
	many := made(map[string]any{"results": results, "contactPerson": "Sara \\ Ali"})
	// A metric without an improvement (older documents) is no benefit.
	_, err := pool.Exec(ctx, `UPDATE use_cases SET document = jsonb_set(document, '{results,quantitativeMetrics,1,improvement}', '""')
		WHERE id = $1`, many)
	require.NoError(t, err)
	plain := made(nil)
	_, err = svc.Create(ctx, org.Owner, complete(t)) // a draft
	require.NoError(t, err)

	points := mapPoints(t, svc, usecase.Whole)
	require.Len(t, points, 2)
	assert.Equal(t, plain, points[0].ID, "newest first")
	assert.Equal(t, []string{"Defect rate: 85% reduction", "Inspection time: 40% faster"}, points[0].Benefits)
	p := points[1]
	assert.Equal(t, []string{"Alpha: 1%", "Charlie \"quoted\" ج: 3% <less>", "Delta: 4%"}, p.Benefits)
	u, err := svc.Get(ctx, org.Owner, many)
	require.NoError(t, err)
	assert.Equal(t, usecase.Point{ID: u.ID, Title: u.Title, Description: u.Description, FactoryName: u.FactoryName,
		City: u.Location.City, Category: u.Category, ImplementationTime: u.Implementation.ImplementationTime, Benefits: p.Benefits,
		RoiPercentage: u.Results.RoiPercentage, ContactPerson: "Sara \\ Ali", ContactTitle: u.ContactTitle,
		Latitude: *u.Location.Latitude, Longitude: *u.Location.Longitude}, p)

	assert.Equal(t, []usecase.Point{}, mapPoints(t, svc, usecase.Box{MinLat: 0, MinLng: 0, MaxLat: 10, MaxLng: 10}),
		"none in the box: an empty list")
}

func TestMapPoints(t *testing.T) { eachBackend(t, testMapPoints) }

// mapPoints reads the map's GeoJSON back into points, checking its frame.
func mapPoints(t *testing.T, svc *usecase.Service, b usecase.Box) []usecase.Point {
	t.Helper()
	m, err := svc.Map(context.Background(), b)
	require.NoError(t, err)
	var doc struct {
		Type     string `json:"type"`
		Features []struct {
			Type     string `json:"type"`
			ID       string `json:"id"`
			Geometry struct {
				Type        string    `json:"type"`
				Coordinates []float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties usecase.Point `json:"properties"`
		} `json:"features"`
	}
	require.NoError(t, json.Unmarshal(m.GeoJSON, &doc))
	require.Equal(t, "FeatureCollection", doc.Type)
	require.Len(t, doc.Features, m.Count)
	points := []usecase.Point{}
	for _, f := range doc.Features {
		require.Equal(t, "Feature", f.Type)
		require.Equal(t, "Point", f.Geometry.Type)
		require.Len(t, f.Geometry.Coordinates, 2)
		require.Equal(t, f.ID, f.Properties.ID)
		p := f.Properties
		p.Longitude, p.Latitude = f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]
		points = append(points, p)
	}
	return points
}

// TestSearchCandidates: a search matching more than 500 use cases is answered from the 500 most
// recently published, says its total is capped, and pages to their end; one matching fewer
// counts them all.
func TestSearchCandidates(t *testing.T) {
	ctx := context.Background()
	pool, svc, org, made := library(t, postgresOnly)
	made(map[string]any{"title": "Kiln vibration monitoring"})
	_, err := pool.Exec(ctx, `INSERT INTO use_cases (id, organization_id, author_id, status, category, title, document, published_at, created_at, updated_at)
		SELECT gen_random_uuid(), $1, $2, 'published', 'Automation', 'Conveyor vibration ' || i,
		       jsonb_build_object('title', 'Conveyor vibration ' || i), now() - i * interval '1 minute', now(), now()
		  FROM generate_series(1, 1100) i`, org.ID, org.Owner.UserID)
	require.NoError(t, err)

	pg, err := svc.Library(ctx, org.Owner, usecase.Query{Text: "vibration", Sort: usecase.SortRelevance}, 100, "")
	require.NoError(t, err)
	assert.Equal(t, 500, *pg.Total)
	assert.True(t, pg.TotalCapped)
	seen := len(pg.Items)
	for pg.NextCursor != nil {
		pg, err = svc.Library(ctx, org.Owner, usecase.Query{Text: "vibration", Sort: usecase.SortRelevance}, 100, *pg.NextCursor)
		require.NoError(t, err)
		seen += len(pg.Items)
	}
	assert.Equal(t, 500, seen, "the pages end with the candidates")
	facets, err := svc.Facets(ctx, org.Owner, usecase.Query{Text: "vibration"})
	require.NoError(t, err)
	sum := 0
	for _, f := range facets.Categories {
		sum += f.Count
	}
	assert.Equal(t, 500, sum, "the sidebar counts what the search lists")

	pg, err = svc.Library(ctx, org.Owner, usecase.Query{Text: "kiln"}, 10, "")
	require.NoError(t, err)
	assert.Equal(t, 1, *pg.Total)
	assert.False(t, pg.TotalCapped)
	pg, err = svc.Library(ctx, org.Owner, usecase.Query{}, 10, "")
	require.NoError(t, err)
	assert.Equal(t, 1000, *pg.Total, "without a search the count stops past 1,000")
	assert.True(t, pg.TotalCapped)
}
