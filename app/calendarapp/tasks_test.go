package calendarapp_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/app/calendarapp"
	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/app/notifyapp"
	"github.com/p2psandbox/hub/domain/calendar"
	"github.com/p2psandbox/hub/domain/calendar/calendardb"
	"github.com/p2psandbox/hub/domain/event"
	"github.com/p2psandbox/hub/domain/identity/identitytest"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/domain/notify/notifydb"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/markdown"
	"github.com/p2psandbox/hub/platform/outbox"
	"github.com/p2psandbox/hub/platform/postgres"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
	"github.com/p2psandbox/hub/platform/redis/redistest"
)

// TestReminderReachesAttendees: creating an event schedules its reminder on the real queue for
// the lead time before the start (ProcessAt); the task's handler, run directly, records the
// reminder once however often it runs, and the notifications' subscriber turns it into one
// event_reminder per attendee.
func TestReminderReachesAttendees(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, _ := pgtest.New(t)
	rdb, prefix := redistest.New(t)
	queue := redistest.Queue(t, rdb, prefix+"queue")
	client := asynq.NewClientFromRedisClient(rdb)
	inspect := asynq.NewInspectorFromRedisClient(rdb)

	dispatcher, err := outbox.New(pool, outbox.Options{Log: logging.Discard()})
	require.NoError(t, err)
	bus := events.New(dispatcher, logging.Discard())
	notes := notify.NewService(notify.Deps{Store: notifydb.New(pool), Events: afterCommit{bus}, Log: logging.Discard()})
	arrived := make(chan notify.Notification, 10)
	events.Listen(bus, func(_ context.Context, e notify.Arrived) { arrived <- e.Notification })
	notifyapp.Subscribe(bus, notes, 0)
	require.NoError(t, dispatcher.Prepare(ctx))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = dispatcher.Run(runCtx) }()
	defer func() { stop(); <-done }()

	const lead = 90 * time.Minute
	svc := calendar.NewService(calendar.Deps{Store: calendardb.New(pool), Renderer: markdown.New(),
		Reminders: calendarapp.ReminderQueue{Client: client, Queue: queue}, ReminderLead: lead})
	org := identitytest.NewOrg(t, pool)
	mates := org.Members(t, pool, 2)
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	e, err := svc.Create(ctx, org.Owner, calendar.Input{Scope: calendar.ScopeOrganization, Title: "Energy audit walk",
		TitleAr: "جولة تدقيق الطاقة", StartsAt: start.Format(time.RFC3339), EndsAt: start.Add(time.Hour).Format(time.RFC3339),
		TimeZone: "Asia/Riyadh", Location: "Plant 2"}, "")
	require.NoError(t, err)
	for _, m := range mates {
		_, err := svc.Attend(ctx, m, e.ID, true, "")
		require.NoError(t, err)
	}

	tasks, err := inspect.ListScheduledTasks(queue)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	assert.Equal(t, calendarapp.TypeEventReminder, tasks[0].Type)
	assert.WithinDuration(t, start.Add(-lead), tasks[0].NextProcessAt, time.Second)
	// Scheduling the same start again makes no second task.
	require.NoError(t, calendarapp.ReminderQueue{Client: client, Queue: queue}.ScheduleReminder(ctx, e.ID, e.StartsAt, time.Now().Add(time.Hour)))
	tasks, err = inspect.ListScheduledTasks(queue)
	require.NoError(t, err)
	require.Len(t, tasks, 1)

	handler := calendarapp.EventReminder{Events: svc}
	for range 2 {
		require.NoError(t, handler.ProcessTask(ctx, asynq.NewTask(tasks[0].Type, tasks[0].Payload)))
	}
	got := map[string]notify.Notification{}
	for len(got) < len(mates) {
		select {
		case n := <-arrived:
			got[n.RecipientID] = n
		case <-ctx.Done():
			t.Fatalf("reminders arrived for %d of %d attendees", len(got), len(mates))
		}
	}
	for _, m := range mates {
		n := got[m.UserID]
		assert.Equal(t, notify.TypeEventReminder, n.Type)
		assert.Equal(t, "event", n.TargetType)
		assert.Equal(t, e.ID, n.TargetID)
		assert.Equal(t, "Energy audit walk", n.Data["title"])
	}
	var count int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE type = 'event_reminder'`).Scan(&count))
	assert.Equal(t, len(mates), count, "the second run reminded no one again")

	// A payload that is not ours is not retried.
	err = handler.ProcessTask(ctx, asynq.NewTask(calendarapp.TypeEventReminder, []byte(`{"eventId":""}`)))
	assert.ErrorIs(t, err, asynq.SkipRetry)
}

// afterCommit publishes the notify service's events once the subscriber's transaction
// committed, as the notifications area does in serve.
type afterCommit struct{ bus event.Publisher }

func (a afterCommit) Publish(ctx context.Context, evs ...event.Event) {
	postgres.AfterCommit(ctx, func(ctx context.Context) { a.bus.Publish(ctx, evs...) })
}
