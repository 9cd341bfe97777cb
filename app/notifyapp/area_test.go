package notifyapp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/app/notifyapp"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/domain/notify/notifydb"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/realtime"
	"github.com/p2psandbox/hub/realtime/sioclient"
)

// TestEventsWaitForTheCommit: the service announces from inside the durable subscriber's
// transaction. What that transaction rolls back is never announced; what it commits reaches the
// listeners once it has committed, and the bridge pushes it to the recipient's sockets with the
// payloads of docs/realtime.md. Outside a transaction, events go at once.
func TestEventsWaitForTheCommit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, _ := pgtest.New(t)
	rdb, prefix := redistest.New(t)
	hub, url := serveHub(t, rdb, prefix)
	bus := newBus(t, pool)
	notifyapp.Bridge(bus, hub)

	var mu sync.Mutex
	var heard []string
	hear := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, s)
	}
	heardSoFar := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), heard...)
	}
	events.Listen(bus, func(_ context.Context, e notify.Arrived) { hear(e.EventName() + " " + e.Notification.ID) })
	events.Listen(bus, func(_ context.Context, e notify.UnreadChanged) {
		hear(fmt.Sprintf("%s %d", e.EventName(), e.Unread.Unread))
	})

	user := func(first string) string {
		return identitytest.NewOrg(t, pool, identitytest.Named(first, "Tester")).Owner.UserID
	}
	omar, sara := user("Omar"), user("Sara")
	svc := notify.NewService(notify.Deps{Store: notifydb.New(pool), Events: notifyapp.AfterCommit(bus), Log: logging.Discard()})

	tab, err := sioclient.Dial(ctx, url, sioclient.Options{Auth: map[string]any{"token": omar}})
	require.NoError(t, err)
	defer tab.Close()
	// An answered event: the socket is connected and in its user room.
	_, err = tab.EmitWithAck(ctx, realtime.EventPresenceSubscribe, map[string]any{"userIds": []any{sara}})
	require.NoError(t, err)

	reply := notify.Event{Type: notify.TypeReply, RecipientID: omar, ActorID: sara, TargetType: "post",
		TargetID: uuid.NewString(), Data: map[string]any{"title": "Line 4 downtime"}}
	failed := errors.New("a later event of the batch failed")
	err = postgres.Unit(ctx, pool, func(ctx context.Context, _ pgx.Tx) error {
		require.NoError(t, svc.Notify(ctx, reply))
		return failed
	})
	require.ErrorIs(t, err, failed)
	assert.Empty(t, heardSoFar(), "a rolled back notification is never announced")

	require.NoError(t, postgres.Unit(ctx, pool, func(ctx context.Context, _ pgx.Tx) error {
		require.NoError(t, svc.Notify(ctx, reply))
		assert.Empty(t, heardSoFar(), "nothing before the commit")
		return nil
	}))
	l, err := svc.List(ctx, omar, false, 0, "")
	require.NoError(t, err)
	require.Len(t, l.Items, 1, "the rolled back one is not stored")
	n := l.Items[0]
	assert.Equal(t, []string{"notify.arrived " + n.ID, "notify.unread_changed 1"}, heardSoFar(), "after the commit, in order")

	// The first push is the committed notification (the rolled back one, with another id, would
	// have come first), exactly as the list shows it; then the count.
	pushed, err := tab.Next(ctx, notifyapp.EventNotificationNew)
	require.NoError(t, err)
	assert.JSONEq(t, jsonOf(t, n), jsonOf(t, pushed.Args[0]))
	count, err := tab.Next(ctx, notifyapp.EventNotificationCount)
	require.NoError(t, err)
	u, err := svc.UnreadCount(ctx, omar)
	require.NoError(t, err)
	assert.JSONEq(t, fmt.Sprintf(`{"unread": 1, "version": %d}`, u.Version), jsonOf(t, count.Args[0]))

	// A read from REST runs in no transaction: its count goes at once.
	_, err = svc.MarkRead(ctx, omar, n.ID)
	require.NoError(t, err)
	assert.Equal(t, "notify.unread_changed 0", heardSoFar()[2])
	count, err = tab.Next(ctx, notifyapp.EventNotificationCount)
	require.NoError(t, err)
	assert.JSONEq(t, fmt.Sprintf(`{"unread": 0, "version": %d}`, u.Version+1), jsonOf(t, count.Args[0]))
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
