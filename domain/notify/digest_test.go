package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/notify"
)

// TestDigestRule covers the rule on the service's clock (the real asynq path is in workers): what
// is due, the online skip, the windows, and concurrent digests of one recipient mailing once.
func TestDigestRule(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sara, omar := f.user(t, "Sara"), f.user(t, "Omar")
	f.notify(t, notify.Event{RecipientID: omar, ActorID: sara, Data: map[string]any{"title": "old"}})

	// Not a delay old yet: nothing is due.
	require.NoError(t, f.svc.SendDigest(ctx, omar, "w0"))
	assert.Empty(t, f.outbox.all())

	f.clock.Advance(time.Minute)
	f.notify(t, notify.Event{Type: notify.TypeMention, RecipientID: omar, ActorID: sara, Data: map[string]any{"title": "new"}})
	// Online: skipped, nothing marked.
	f.online.users.Store(omar, true)
	require.NoError(t, f.svc.SendDigest(ctx, omar, "w1"))
	assert.Empty(t, f.outbox.all())
	f.online.users.Delete(omar)

	// Four digests at once (windows of a worker that was down): one mail, with what is due.
	var wg sync.WaitGroup
	for _, w := range []string{"w2", "w3", "w4", "w5"} {
		wg.Go(func() { assert.NoError(t, f.svc.SendDigest(ctx, omar, w)) })
	}
	wg.Wait()
	mails := f.outbox.all()
	require.Len(t, mails, 1)
	m := mails[0]
	assert.Equal(t, notify.DigestTemplate, m.template)
	assert.Equal(t, identitytest.Email(omar), m.to)
	assert.Equal(t, "en", m.lang)
	assert.Contains(t, []string{"notify:" + omar + ":w2", "notify:" + omar + ":w3", "notify:" + omar + ":w4", "notify:" + omar + ":w5"}, m.id)
	assert.Equal(t, map[string]string{"FirstName": "Omar", "Count": "1", "More": "0", "Link": "http://app.example/notifications"}, m.data)
	assert.Equal(t, []map[string]string{{"Type": notify.TypeReply, "Actor": "Sara Tester", "Count": "1", "Title": "old", "Preview": ""}}, m.items,
		"only the notification a delay old; the mention is not due yet")

	// A delay later the mention is due; the reply, mailed, is not mailed again.
	f.clock.Advance(time.Minute)
	require.NoError(t, f.svc.SendDigest(ctx, omar, "w6"))
	mails = f.outbox.all()
	require.Len(t, mails, 2)
	require.Len(t, mails[1].items, 1)
	assert.Equal(t, "new", mails[1].items[0]["Title"])

	// Windows: one a delay long, its digest at the end of the next.
	schedules := f.schedules.of(omar)
	require.Len(t, schedules, 2)
	assert.NotEqual(t, schedules[0], schedules[1], "events a delay apart fall in different windows")

	// A process without the digest collaborators says so.
	bare := notify.NewService(notify.Deps{})
	assert.ErrorIs(t, bare.SendDigest(ctx, omar, "w"), notify.ErrNoDigestDeps)
}

// TestDigestListsTheNewestTwenty: a long digest lists the 20 newest and counts the rest.
func TestDigestListsTheNewestTwenty(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sara, omar := f.user(t, "Sara"), f.user(t, "Omar")
	for i := range 23 {
		f.notify(t, notify.Event{RecipientID: omar, ActorID: sara, Data: map[string]any{"title": string(rune('a' + i))}})
	}
	f.clock.Advance(time.Minute)
	require.NoError(t, f.svc.SendDigest(ctx, omar, "w"))
	mails := f.outbox.all()
	require.Len(t, mails, 1)
	assert.Equal(t, "23", mails[0].data["Count"])
	assert.Equal(t, "3", mails[0].data["More"])
	require.Len(t, mails[0].items, 20)
	assert.Equal(t, "w", mails[0].items[0]["Title"], "newest first")
	assert.Equal(t, "d", mails[0].items[19]["Title"])
}
