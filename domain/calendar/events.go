package calendar

import "time"

// What happens to events. The store records these with the change (platform/outbox), so the
// activity feed and the notifications that follow them survive a crash.

// EventCreated: someone created an event. OrganizationID is empty for a platform event.
type EventCreated struct {
	EventID        string    `json:"eventId"`
	Scope          string    `json:"scope"`
	OrganizationID string    `json:"organizationId,omitempty"`
	CreatedBy      string    `json:"createdBy"`
	Title          string    `json:"title"`
	TitleAr        string    `json:"titleAr"`
	StartsAt       time.Time `json:"startsAt"`
	EndsAt         time.Time `json:"endsAt"`
	TimeZone       string    `json:"timeZone"`
}

func (EventCreated) EventName() string     { return "calendar.event_created" }
func (e EventCreated) AggregateID() string { return e.EventID }

// EventDeleted: the creator or a moderator deleted an event.
type EventDeleted struct {
	EventID string    `json:"eventId"`
	At      time.Time `json:"at"`
}

func (EventDeleted) EventName() string     { return "calendar.event_deleted" }
func (e EventDeleted) AggregateID() string { return e.EventID }

// ReminderDue: an event starts soon; its attendees are reminded (notifications follow it).
type ReminderDue struct {
	EventID     string    `json:"eventId"`
	Title       string    `json:"title"`
	TitleAr     string    `json:"titleAr"`
	StartsAt    time.Time `json:"startsAt"`
	TimeZone    string    `json:"timeZone"`
	OnlineURL   string    `json:"onlineUrl,omitempty"`
	Location    string    `json:"location,omitempty"`
	AttendeeIDs []string  `json:"attendeeIds"`
}

func (ReminderDue) EventName() string     { return "calendar.reminder_due" }
func (e ReminderDue) AggregateID() string { return e.EventID }
