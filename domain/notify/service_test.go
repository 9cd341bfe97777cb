package notify_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/errs"
	"github.com/p2psandbox/hub/domain/notify"
)

func TestNotifyStoresAndPushes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sara, omar := f.user(t, "Sara"), f.user(t, "Omar")
	post := uuid.NewString()

	f.notify(t, notify.Event{Type: notify.TypeReply, RecipientID: omar, ActorID: sara, TargetType: "post", TargetID: post,
		Data: map[string]any{"title": "Line 4 downtime", "preview": strings.Repeat("ب", 300)}})

	l := f.list(t, omar, false, 0, "")
	require.Len(t, l.Items, 1)
	n := l.Items[0]
	assert.Equal(t, notify.TypeReply, n.Type)
	require.NotNil(t, n.Actor)
	assert.Equal(t, notify.Actor{ID: sara, FirstName: "Sara", LastName: "Tester"}, *n.Actor)
	assert.Equal(t, "post", n.TargetType)
	assert.Equal(t, post, n.TargetID)
	assert.Equal(t, "Line 4 downtime", n.Data["title"])
	preview := n.Data["preview"].(string)
	assert.Equal(t, notify.MaxDataText, utf8.RuneCountInString(preview), "long strings are cut")
	assert.True(t, strings.HasSuffix(preview, "…"))
	assert.Equal(t, 1, n.Count)
	assert.Nil(t, n.ReadAt)
	assert.Equal(t, n.CreatedAt, n.UpdatedAt)
	assert.Equal(t, 1, l.UnreadCount)
	assert.Nil(t, l.NextCursor)

	news := f.events.arrived(omar)
	require.Len(t, news, 1)
	assert.Equal(t, n, news[0], "the event carries the stored notification")
	assert.Equal(t, []notify.Unread{{Unread: 1, Version: 1}}, f.events.counts(omar))
	assert.Empty(t, f.events.arrived(sara), "nothing for the actor")
	assert.Len(t, f.schedules.of(omar), 1, "replies are mailed by default: a digest is scheduled")

	// Producers' mistakes are errors; an actor notifying themselves is simply dropped.
	bad := []notify.Event{
		{Type: "nope", RecipientID: omar, TargetType: "post", TargetID: post},
		{Type: notify.TypeReply, RecipientID: "omar", TargetType: "post", TargetID: post},
		{Type: notify.TypeReply, RecipientID: omar, ActorID: "sara", TargetType: "post", TargetID: post},
		{Type: notify.TypeReply, RecipientID: omar},
		// Too much data for a summary (long strings are cut; nested values are not).
		{Type: notify.TypeReply, RecipientID: omar, TargetType: "post", TargetID: post, Data: map[string]any{"x": slices.Repeat([]string{strings.Repeat("x", 100)}, 100)}},
	}
	for i, e := range bad {
		assert.Error(t, f.svc.Notify(ctx, e), "bad event %d", i)
	}
	err := f.svc.Notify(ctx, notify.Event{Type: notify.TypeReply, RecipientID: uuid.NewString(), TargetType: "post", TargetID: post})
	assert.Equal(t, errs.NotFound, errs.CodeOf(err), "an unknown recipient")
	f.notify(t, notify.Event{RecipientID: omar, ActorID: omar})
	assert.Equal(t, 1, f.unread(t, omar), "no notification about one's own action")
}

func TestGrouping(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sara, omar, huda := f.user(t, "Sara"), f.user(t, "Omar"), f.user(t, "Huda")
	conv := uuid.NewString()
	message := func(from, text string) notify.Event {
		return notify.Event{Type: notify.TypeMessage, RecipientID: huda, ActorID: from, TargetType: "conversation",
			TargetID: conv, GroupKey: "conversation:" + conv, Data: map[string]any{"preview": text}}
	}

	f.notify(t, message(sara, "one"))
	f.notify(t, notify.Event{RecipientID: huda, ActorID: omar}) // a reply in between
	f.notify(t, message(omar, "two"))
	f.notify(t, message(sara, "three"))

	l := f.list(t, huda, false, 0, "")
	require.Len(t, l.Items, 2, "three messages of one conversation are one notification")
	g := l.Items[0]
	assert.Equal(t, notify.TypeMessage, g.Type, "the bumped group comes first")
	assert.Equal(t, 3, g.Count)
	assert.Equal(t, "three", g.Data["preview"], "the latest event's data")
	assert.Equal(t, sara, g.Actor.ID, "and actor")
	assert.True(t, g.UpdatedAt.After(g.CreatedAt))
	assert.True(t, g.UpdatedAt.After(l.Items[1].UpdatedAt))
	assert.Equal(t, 2, l.UnreadCount)

	var ids []string
	var counts []int
	for _, n := range f.events.arrived(huda) {
		ids, counts = append(ids, n.ID), append(counts, n.Count)
	}
	assert.Equal(t, []string{g.ID, l.Items[1].ID, g.ID, g.ID}, ids, "updates announce the same notification again")
	assert.Equal(t, []int{1, 1, 2, 3}, counts)
	var unread []int
	for _, u := range f.events.counts(huda) {
		unread = append(unread, u.Unread)
	}
	assert.Equal(t, []int{1, 2}, unread, "a fold changes no count, so none is announced")

	// Reading the conversation reads its notification; the next message starts a new one.
	require.NoError(t, f.svc.MarkTargetRead(ctx, huda, "conversation", conv))
	assert.Equal(t, 1, f.unread(t, huda))
	assert.Equal(t, 1, f.events.counts(huda)[2].Unread, "the new count is announced")
	f.notify(t, message(omar, "four"))
	l = f.list(t, huda, false, 0, "")
	require.Len(t, l.Items, 3)
	assert.NotEqual(t, g.ID, l.Items[0].ID)
	assert.Equal(t, 1, l.Items[0].Count)
	assert.Equal(t, 2, l.UnreadCount)

	// Another conversation is another group.
	other := message(sara, "elsewhere")
	other.TargetID, other.GroupKey = "c2", "conversation:c2"
	f.notify(t, other)
	assert.Equal(t, 3, f.unread(t, huda))
}

func TestPreferences(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	actor := f.user(t, "Actor")
	yes, no := true, false

	prefs, err := f.svc.Preferences(ctx, actor)
	require.NoError(t, err)
	assert.Equal(t, notify.Preferences{
		notify.TypeMessage:            {InApp: true, Email: true},
		notify.TypeMention:            {InApp: true, Email: true},
		notify.TypeReply:              {InApp: true, Email: true},
		notify.TypeBestAnswer:         {InApp: true, Email: true},
		notify.TypeInvitationAccepted: {InApp: true, Email: false},
		notify.TypeUseCaseReviewed:    {InApp: true, Email: true},
		notify.TypePostHidden:         {InApp: true, Email: true},
		notify.TypeExportReady:        {InApp: true, Email: false},
		notify.TypeEventReminder:      {InApp: true, Email: true},
	}, prefs, "the defaults")
	require.Len(t, prefs, len(notify.Types))

	tests := []struct {
		name      string
		typ       string
		set       *notify.PreferenceUpdate
		listed    bool // in the list and the count, announced
		stored    bool
		scheduled bool // a digest is scheduled
	}{
		{"default message", notify.TypeMessage, nil, true, true, true},
		{"default invitation accepted", notify.TypeInvitationAccepted, nil, true, true, false},
		{"both off", notify.TypeMention, &notify.PreferenceUpdate{InApp: &no, Email: &no}, false, false, false},
		{"email only", notify.TypeReply, &notify.PreferenceUpdate{InApp: &no, Email: &yes}, false, true, true},
		{"in-app only", notify.TypeBestAnswer, &notify.PreferenceUpdate{InApp: &yes, Email: &no}, true, true, false},
		{"invitation accepted by email too", notify.TypeInvitationAccepted, &notify.PreferenceUpdate{InApp: &yes, Email: &yes}, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := f.user(t, "Pref")
			if tt.set != nil {
				got, err := f.svc.SetPreferences(ctx, user, map[string]notify.PreferenceUpdate{tt.typ: *tt.set})
				require.NoError(t, err)
				assert.Equal(t, notify.Channels{InApp: *tt.set.InApp, Email: *tt.set.Email}, got[tt.typ])
				assert.Len(t, got, len(notify.Types))
			}
			f.notify(t, notify.Event{Type: tt.typ, RecipientID: user, ActorID: actor})

			l := f.list(t, user, false, 0, "")
			assert.Equal(t, tt.listed, len(l.Items) == 1, "listed")
			assert.Equal(t, tt.listed, l.UnreadCount == 1, "counted")
			assert.Equal(t, tt.listed, len(f.events.arrived(user)) == 1, "announced")
			var rows int
			require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE recipient_id = $1`, user).Scan(&rows))
			assert.Equal(t, tt.stored, rows == 1, "stored")
			assert.Equal(t, tt.scheduled, len(f.schedules.of(user)) == 1, "scheduled")
		})
	}

	_, err = f.svc.SetPreferences(ctx, actor, map[string]notify.PreferenceUpdate{
		"nope": {InApp: &yes, Email: &yes}, notify.TypeReply: {InApp: &yes}, notify.TypeMention: {Email: &no},
	})
	e, ok := errs.As(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, errs.Validation, e.Code)
	assert.Equal(t, []errs.FieldError{
		{Field: "mention.inApp", Message: "is required"},
		{Field: "nope", Message: "is not a notification type"},
		{Field: "reply.email", Message: "is required"},
	}, e.Fields)
	prefs, err = f.svc.Preferences(ctx, actor)
	require.NoError(t, err)
	assert.True(t, prefs[notify.TypeMention].InApp, "nothing changed")
}

func TestMarkRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sara, omar := f.user(t, "Sara"), f.user(t, "Omar")
	for range 3 {
		f.notify(t, notify.Event{RecipientID: omar, ActorID: sara})
	}
	l := f.list(t, omar, false, 0, "")
	require.Len(t, l.Items, 3)
	first := l.Items[0].ID
	announced := len(f.events.counts(omar))

	u, err := f.svc.MarkRead(ctx, omar, first)
	require.NoError(t, err)
	assert.Equal(t, 2, u.Unread)
	counts := f.events.counts(omar)
	require.Len(t, counts, announced+1)
	assert.Equal(t, u, counts[len(counts)-1])

	again, err := f.svc.MarkRead(ctx, omar, first)
	require.NoError(t, err)
	assert.Equal(t, 2, again.Unread)
	assert.Len(t, f.events.counts(omar), announced+1, "no change, no event")
	read := f.list(t, omar, false, 0, "").Items[0]
	require.NotNil(t, read.ReadAt)

	// Another user's notification, an unknown id and a malformed one are all not found.
	for _, try := range []struct{ user, id string }{{sara, first}, {omar, uuid.NewString()}, {omar, "not-an-id"}} {
		_, err := f.svc.MarkRead(ctx, try.user, try.id)
		assert.Equal(t, errs.NotFound, errs.CodeOf(err), "%+v", try)
	}
	assert.Equal(t, 2, f.unread(t, omar))
	assert.Empty(t, f.list(t, sara, false, 0, "").Items, "one's list holds only one's own")

	u, err = f.svc.MarkAllRead(ctx, omar)
	require.NoError(t, err)
	assert.Equal(t, 0, u.Unread)
	assert.Equal(t, u, f.events.counts(omar)[len(f.events.counts(omar))-1])
	n := len(f.events.counts(omar))
	_, err = f.svc.MarkAllRead(ctx, omar)
	require.NoError(t, err)
	assert.Len(t, f.events.counts(omar), n, "nothing left to read, nothing announced")
	assert.Empty(t, f.list(t, omar, true, 0, "").Items)
	assert.Len(t, f.list(t, omar, false, 0, "").Items, 3, "read ones stay in the list")
}

func TestPaginationAndUnreadFilter(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sara, omar := f.user(t, "Sara"), f.user(t, "Omar")
	for i := range 25 {
		f.notify(t, notify.Event{RecipientID: omar, ActorID: sara, Data: map[string]any{"title": fmt.Sprint(i)}})
	}
	all := f.list(t, omar, false, 100, "").Items
	require.Len(t, all, 25)
	for i := range 5 { // read every fifth
		_, err := f.svc.MarkRead(ctx, omar, all[i*5].ID)
		require.NoError(t, err)
	}

	tests := []struct {
		unread bool
		pages  []int
	}{
		{false, []int{10, 10, 5}},
		{true, []int{10, 10}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("unread=%v", tt.unread), func(t *testing.T) {
			var got []notify.Notification
			cursor := ""
			for i, want := range tt.pages {
				l := f.list(t, omar, tt.unread, 10, cursor)
				assert.Len(t, l.Items, want, "page %d", i)
				assert.Equal(t, 20, l.UnreadCount)
				got = append(got, l.Items...)
				if i == len(tt.pages)-1 {
					assert.Nil(t, l.NextCursor, "the last page")
				} else {
					require.NotNil(t, l.NextCursor)
					cursor = *l.NextCursor
				}
			}
			seen := map[string]bool{}
			for i, n := range got {
				assert.False(t, seen[n.ID], "no repeats")
				seen[n.ID] = true
				if tt.unread {
					assert.Nil(t, n.ReadAt)
				}
				if i > 0 {
					assert.True(t, n.UpdatedAt.Before(got[i-1].UpdatedAt), "newest first")
				}
			}
		})
	}

	for _, bad := range []struct {
		limit  int
		cursor string
	}{{101, ""}, {-1, ""}, {10, "garbage"}, {10, "eyJ0IjoiMjAyNS0wMy0wMVQwOTowMDowMFoiLCJpIjoieCJ9"}} {
		_, err := f.svc.List(ctx, omar, false, bad.limit, bad.cursor)
		assert.Equal(t, errs.Validation, errs.CodeOf(err), "%+v", bad)
	}
}

// TestCountsExactUnderConcurrency: notifications arrive (grouped and not) while the recipient
// reads them in every way at once. Each change's count is exact as of its version: the announced
// count with the highest version is the final count, and no two changes share a version.
func TestCountsExactUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	omar := f.user(t, "Omar")
	actors := []string{f.user(t, "A"), f.user(t, "B"), f.user(t, "C")}
	convs := []string{uuid.NewString(), uuid.NewString(), uuid.NewString()}

	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range 40 {
				c := convs[rng.IntN(len(convs))]
				var err error
				switch op := rng.IntN(10); {
				case op < 4:
					err = f.svc.Notify(ctx, notify.Event{Type: notify.TypeMessage, RecipientID: omar, ActorID: actors[rng.IntN(3)],
						TargetType: "conversation", TargetID: c, GroupKey: "conversation:" + c})
				case op < 7:
					err = f.svc.Notify(ctx, notify.Event{Type: notify.TypeMention, RecipientID: omar, ActorID: actors[rng.IntN(3)],
						TargetType: "post", TargetID: uuid.NewString()})
				case op < 8:
					err = f.svc.MarkTargetRead(ctx, omar, "conversation", c)
				case op < 9:
					_, err = f.svc.MarkAllRead(ctx, omar)
				default:
					l, lerr := f.svc.List(ctx, omar, true, 5, "")
					if lerr == nil && len(l.Items) > 0 {
						_, err = f.svc.MarkRead(ctx, omar, l.Items[rng.IntN(len(l.Items))].ID)
					}
					err = errors.Join(lerr, err)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	var rows, groups int
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE recipient_id = $1 AND read_at IS NULL`, omar).Scan(&rows))
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT count(DISTINCT group_key) FROM notifications
		WHERE recipient_id = $1 AND read_at IS NULL AND group_key IS NOT NULL`, omar).Scan(&groups))
	u, err := f.svc.UnreadCount(ctx, omar)
	require.NoError(t, err)
	assert.Equal(t, rows, u.Unread)

	counts := f.events.counts(omar)
	require.NotEmpty(t, counts)
	latest := counts[0]
	versions := map[int64]bool{}
	for _, c := range counts {
		assert.False(t, versions[c.Version], "version %d announced twice", c.Version)
		versions[c.Version] = true
		if c.Version > latest.Version {
			latest = c
		}
	}
	assert.Equal(t, u.Unread, latest.Unread, "the newest announced count is the stored one")
	assert.LessOrEqual(t, latest.Version, u.Version)
	var perGroup int
	require.NoError(t, f.pool.QueryRow(ctx, `SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM notifications
		WHERE recipient_id = $1 AND read_at IS NULL AND group_key IS NOT NULL GROUP BY group_key) g`, omar).Scan(&perGroup))
	assert.LessOrEqual(t, perGroup, 1, "one unread notification per group")
}

// TestBurstAndTargetRead: an event that stands for a burst (Count) folds into its group's unread
// notification, and reading the target clears it.
func TestBurstAndTargetRead(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sara, omar := f.user(t, "Sara"), f.user(t, "Omar")
	conv := uuid.NewString()
	ev := func(count int, preview string) notify.Event {
		return notify.Event{Type: notify.TypeMessage, RecipientID: omar, ActorID: sara, TargetType: "conversation",
			TargetID: conv, GroupKey: "conversation:" + conv, Count: count,
			Data: map[string]any{"title": "Line 4 team", "preview": preview}}
	}
	require.NoError(t, f.svc.Notify(ctx, ev(2, "hi")))
	require.NoError(t, f.svc.Notify(ctx, ev(0, "there")))
	l := f.list(t, omar, false, 0, "")
	require.Len(t, l.Items, 1)
	n := l.Items[0]
	assert.Equal(t, notify.TypeMessage, n.Type)
	assert.Equal(t, "conversation", n.TargetType)
	assert.Equal(t, conv, n.TargetID)
	assert.Equal(t, 3, n.Count)
	assert.Equal(t, map[string]any{"title": "Line 4 team", "preview": "there"}, n.Data)

	require.NoError(t, f.svc.MarkTargetRead(ctx, omar, "conversation", conv))
	assert.Equal(t, 0, f.unread(t, omar))
	require.NoError(t, f.svc.MarkTargetRead(ctx, omar, "conversation", conv), "reading again is harmless")
}

// TestNotifyManyFoldsABatchAsNotifyWould: a delivered batch (several recipients and groups, some
// with an unread notification, some without, a group twice, an actor that is no user) ends as
// the same notifications, counts and announcements as the events one by one.
func TestNotifyManyFoldsABatchAsNotifyWould(t *testing.T) {
	ctx := context.Background()
	type outcome struct {
		counts  map[string][]int // recipient → counts of their notifications, newest first
		arrived map[string][]int // recipient → counts announced
		unread  map[string][]int // recipient → unread counts announced
	}
	run := func(t *testing.T, batched bool) outcome {
		f := newFixture(t)
		sara, omar, huda, ali := f.user(t, "Sara"), f.user(t, "Omar"), f.user(t, "Huda"), f.user(t, "Ali")
		c1, c2 := uuid.NewString(), uuid.NewString()
		message := func(to, from, conv, text string) notify.Event {
			return notify.Event{Type: notify.TypeMessage, RecipientID: to, ActorID: from, TargetType: "conversation",
				TargetID: conv, GroupKey: "conversation:" + conv, Data: map[string]any{"preview": text}}
		}
		// Huda already has an unread notification of c1; nobody has one of c2.
		f.notify(t, message(huda, sara, c1, "earlier"))
		batch := []notify.Event{
			message(huda, sara, c1, "one"),  // folds into the unread one
			message(ali, omar, c2, "two"),   // starts one
			message(ali, omar, c2, "three"), // folds into the one just started
			message(huda, huda, c2, "self"), // one's own message: nothing
			message(omar, sara, c1, "four"), // starts one
			{Type: notify.TypeReply, RecipientID: huda, ActorID: ali, TargetType: "post", TargetID: c2}, // ungrouped
		}
		if batched {
			require.NoError(t, f.svc.NotifyMany(ctx, batch))
		} else {
			for _, e := range batch {
				f.notify(t, e)
			}
		}
		out := outcome{counts: map[string][]int{}, arrived: map[string][]int{}, unread: map[string][]int{}}
		for name, u := range map[string]string{"huda": huda, "ali": ali, "omar": omar, "sara": sara} {
			for _, n := range f.list(t, u, false, 0, "").Items {
				out.counts[name] = append(out.counts[name], n.Count)
			}
			for _, n := range f.events.arrived(u) {
				out.arrived[name] = append(out.arrived[name], n.Count)
			}
			for _, c := range f.events.counts(u) {
				out.unread[name] = append(out.unread[name], c.Unread)
			}
		}
		// An actor that is no user is refused, batched or not, and nothing of its batch is kept.
		ghost := message(sara, uuid.NewString(), c1, "ghost")
		err := f.svc.NotifyMany(ctx, []notify.Event{ghost})
		require.Error(t, err)
		assert.Equal(t, errs.NotFound, errs.CodeOf(err), "%v", err)
		return out
	}
	one := run(t, false)
	many := run(t, true)
	assert.Equal(t, one, many)
	assert.Equal(t, []int{1, 2}, many.counts["huda"], "the ungrouped one and the folded group")
	assert.Equal(t, []int{2}, many.counts["ali"])
	assert.Equal(t, []int{1}, many.counts["omar"])
}
