package notifyapp

import (
	"context"

	"github.com/p2psandbox/hub/app/events"
	"github.com/p2psandbox/hub/domain/calendar"
	"github.com/p2psandbox/hub/domain/notify"
)

// subscribeCalendar notifies attendees of the events that start soon (calendar.ReminderDue,
// recorded once per start by the reminder task).
func subscribeCalendar(sub *events.Subscriber, svc Notifier) {
	events.On(sub, func(ctx context.Context, batch []events.Recorded[calendar.ReminderDue]) error {
		return svc.NotifyMany(ctx, ReminderNotifications(batch))
	})
}

// ReminderNotifications are one event_reminder per attendee, from the system (no actor). The
// group key is the event's and its start's: a reminder delivered twice folds into one.
func ReminderNotifications(batch []events.Recorded[calendar.ReminderDue]) []notify.Event {
	var out []notify.Event
	for _, r := range batch {
		e := r.Event
		data := map[string]any{"title": e.Title, "titleAr": e.TitleAr, "preview": e.Title,
			"startsAt": e.StartsAt, "timeZone": e.TimeZone}
		if e.OnlineURL != "" {
			data["onlineUrl"] = e.OnlineURL
		}
		if e.Location != "" {
			data["location"] = e.Location
		}
		for _, to := range e.AttendeeIDs {
			out = append(out, notify.Event{Type: notify.TypeEventReminder, RecipientID: to, TargetType: "event",
				TargetID: e.EventID, Data: data, GroupKey: "event-reminder:" + e.EventID + ":" + e.StartsAt.UTC().Format("20060102T150405Z")})
		}
	}
	return out
}
