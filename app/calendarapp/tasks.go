package calendarapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// TypeEventReminder reminds an event's attendees before its start (calendar.Service.Remind).
const TypeEventReminder = "calendar:reminder"

const (
	reminderMaxRetry = 5
	reminderTimeout  = time.Minute
)

type reminderPayload struct {
	EventID  string    `json:"eventId"`
	StartsAt time.Time `json:"startsAt"`
}

// ReminderQueue schedules reminders (calendar.Reminders).
type ReminderQueue struct {
	Client *asynq.Client
	Queue  string
}

// ScheduleReminder enqueues the reminder of the event's start to run at at. The task id names
// the event and the start, so scheduling one start twice makes one task, and a moved event gets
// a new task while the old one finds the start changed and does nothing.
func (q ReminderQueue) ScheduleReminder(ctx context.Context, eventID string, startsAt, at time.Time) error {
	b, err := json.Marshal(reminderPayload{EventID: eventID, StartsAt: startsAt.UTC()})
	if err != nil {
		return fmt.Errorf("reminder task: %w", err)
	}
	_, err = q.Client.EnqueueContext(ctx, asynq.NewTask(TypeEventReminder, b),
		asynq.Queue(q.Queue), asynq.ProcessAt(at), asynq.MaxRetry(reminderMaxRetry), asynq.Timeout(reminderTimeout),
		asynq.TaskID("calendar-reminder:"+eventID+":"+strconv.FormatInt(startsAt.UnixMicro(), 10)))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("scheduling the reminder of event %s: %w", eventID, err)
	}
	return nil
}

// Reminding is what the reminder handler needs from the events service.
type Reminding interface {
	Remind(ctx context.Context, id string, startsAt time.Time) (bool, error)
}

// EventReminder is the handler of TypeEventReminder.
type EventReminder struct{ Events Reminding }

// ProcessTask reminds; running it again is harmless (the store remembers the start reminded).
func (h EventReminder) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p reminderPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.EventID == "" || p.StartsAt.IsZero() {
		return fmt.Errorf("%w: bad payload %q", asynq.SkipRetry, t.Payload())
	}
	_, err := h.Events.Remind(ctx, p.EventID, p.StartsAt)
	return err
}
