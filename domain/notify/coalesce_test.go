package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/domain/notify"
)

func message(recipient, actor, conv, text string) notify.Event {
	return notify.Event{Type: notify.TypeMessage, RecipientID: recipient, ActorID: actor, TargetType: "conversation",
		TargetID: conv, GroupKey: "conversation:" + conv, Data: map[string]any{"preview": text}}
}

// A burst is written at once for its first message and once more, exactly, when its window
// closes: nothing stays stale after the burst.
func TestCoalescedBurstEndsExact(t *testing.T) {
	f := newFixtureCoalescing(t, 150*time.Millisecond)
	huda, sara := f.user(t, "Huda"), f.user(t, "Sara")
	for _, text := range []string{"one", "two", "three", "four"} {
		f.notify(t, message(huda, sara, "c1", text))
	}
	l := f.list(t, huda, false, 0, "")
	require.Len(t, l.Items, 1)
	assert.Equal(t, 1, l.Items[0].Count, "the first message is written at once")
	assert.Equal(t, "one", l.Items[0].Data["preview"])
	assert.Len(t, f.sockets.of(huda, notify.EventNew), 1)

	require.Eventually(t, func() bool {
		l := f.list(t, huda, false, 0, "")
		return len(l.Items) == 1 && l.Items[0].Count == 4
	}, 5*time.Second, 20*time.Millisecond, "the window's end writes the other three")
	l = f.list(t, huda, false, 0, "")
	assert.Equal(t, "four", l.Items[0].Data["preview"])
	pushed := f.sockets.of(huda, notify.EventNew)
	require.Len(t, pushed, 2, "two writes, two pushes, for four messages")
	assert.Equal(t, l.Items[0].ID, pushed[1].(notify.Notification).ID, "the same notification, updated")
	assert.Equal(t, 1, f.unread(t, huda))
}

type item struct {
	count   int
	preview string
}

func TestCoalescing(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		// between runs after "one" and "two" were notified, before "three"
		between   func(f *fixture, huda string)
		wantItems []item
	}{
		{
			name:      "a read of the conversation ends the window: what it held was seen",
			between:   func(f *fixture, huda string) { require.NoError(t, f.svc.ConversationRead(ctx, huda, "c1")) },
			wantItems: []item{{1, "three"}},
		},
		{
			name:      "marking everything read too",
			between:   func(f *fixture, huda string) { _, err := f.svc.MarkAllRead(ctx, huda); require.NoError(t, err) },
			wantItems: []item{{1, "three"}},
		},
		{
			name:      "a read of another conversation leaves it",
			between:   func(f *fixture, huda string) { require.NoError(t, f.svc.ConversationRead(ctx, huda, "c2")) },
			wantItems: []item{{3, "three"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixtureCoalescing(t, time.Hour)
			huda, sara := f.user(t, "Huda"), f.user(t, "Sara")
			f.notify(t, message(huda, sara, "c1", "one"))
			f.notify(t, message(huda, sara, "c1", "two"))
			tc.between(f, huda)
			f.notify(t, message(huda, sara, "c1", "three"))
			f.svc.Close() // writes what is held, as serve does on shutdown
			l := f.list(t, huda, true, 0, "")
			require.Len(t, l.Items, len(tc.wantItems))
			for i, want := range tc.wantItems {
				assert.Equal(t, want.count, l.Items[i].Count)
				assert.Equal(t, want.preview, l.Items[i].Data["preview"])
			}
		})
	}
}

// Close writes every held repeat, and afterwards nothing is held any more.
func TestCloseWritesWhatIsHeld(t *testing.T) {
	f := newFixtureCoalescing(t, time.Hour)
	huda, omar, sara := f.user(t, "Huda"), f.user(t, "Omar"), f.user(t, "Sara")
	for _, user := range []string{huda, omar} {
		for _, text := range []string{"a", "b", "c"} {
			f.notify(t, message(user, sara, "c-"+user, text))
		}
	}
	f.svc.Close()
	for _, user := range []string{huda, omar} {
		l := f.list(t, user, false, 0, "")
		require.Len(t, l.Items, 1)
		assert.Equal(t, 3, l.Items[0].Count, user)
		assert.Equal(t, "c", l.Items[0].Data["preview"])
	}
	f.notify(t, message(huda, sara, "c-"+huda, "d"))
	assert.Equal(t, 4, f.list(t, huda, false, 0, "").Items[0].Count, "written at once after Close")
}
