package notify

// What happens to a user's notifications. The realtime bridge (app/notifyapp) turns each into the
// socket events of docs/realtime.md. Neither is recorded in the event log: they are listener-only
// announcements of what is already stored, and a client that missed one refetches the list and
// the count (so Notification's fields without JSON, such as RecipientID, need not survive encoding).

// Arrived: a notification shown in the app was stored for its recipient, new or with a repeat
// folded into it (same ID, Count grown, UpdatedAt bumped).
type Arrived struct {
	Notification Notification `json:"notification"`
}

func (Arrived) EventName() string     { return "notify.arrived" }
func (e Arrived) AggregateID() string { return e.Notification.RecipientID }

// UnreadChanged: a user's unread count changed (a new notification, one or more read).
type UnreadChanged struct {
	UserID string `json:"userId"`
	Unread Unread `json:"unread"`
}

func (UnreadChanged) EventName() string     { return "notify.unread_changed" }
func (e UnreadChanged) AggregateID() string { return e.UserID }
