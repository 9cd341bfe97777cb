package notifyapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeNotifyDigest mails one recipient the notifications they left unread (notify.SendDigest).
const TypeNotifyDigest = "notify:digest"

// A digest that fails (database, Redis, queuing the mail) is retried a few times; it marks
// nothing until its mail is queued, so a retry never loses or doubles a notification.
const (
	digestMaxRetry = 5
	digestTimeout  = time.Minute
)

type digestPayload struct {
	RecipientID string `json:"recipientId"`
	Window      string `json:"window"`
}

// DigestQueue schedules digests (notify.Scheduler).
type DigestQueue struct {
	Client *asynq.Client
	Queue  string
}

// ScheduleDigest enqueues the digest of one recipient and window to run at at. The task id is
// the recipient's and the window's, so the many events of a window make one task.
func (q DigestQueue) ScheduleDigest(ctx context.Context, recipientID, window string, at time.Time) error {
	b, err := json.Marshal(digestPayload{RecipientID: recipientID, Window: window})
	if err != nil {
		return fmt.Errorf("digest task: %w", err)
	}
	_, err = q.Client.EnqueueContext(ctx, asynq.NewTask(TypeNotifyDigest, b),
		asynq.Queue(q.Queue), asynq.ProcessAt(at), asynq.MaxRetry(digestMaxRetry), asynq.Timeout(digestTimeout),
		asynq.TaskID("notify-digest:"+recipientID+":"+window))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // already scheduled for this window
	}
	if err != nil {
		return fmt.Errorf("scheduling the digest of %s: %w", recipientID, err)
	}
	return nil
}

// Digests is what the digest handler needs from the notify service.
type Digests interface {
	SendDigest(ctx context.Context, recipientID, window string) error
}

// NotifyDigest is the handler of TypeNotifyDigest.
type NotifyDigest struct {
	Digests Digests
}

// ProcessTask sends the digest.
func (h NotifyDigest) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p digestPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.RecipientID == "" || p.Window == "" {
		return fmt.Errorf("%w: bad payload %q", asynq.SkipRetry, t.Payload())
	}
	return h.Digests.SendDigest(ctx, p.RecipientID, p.Window)
}
