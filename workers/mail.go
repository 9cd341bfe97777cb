package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/p2psandbox/hub/platform/mail"
)

// TypeSendMail renders and sends one templated mail. Retried with backoff when SMTP fails.
const TypeSendMail = "mail:send"

// MailQueue enqueues mail for the worker; the requester never waits on SMTP.
type MailQueue struct {
	Client *asynq.Client
	Queue  string
}

// Send enqueues req.
func (q MailQueue) Send(ctx context.Context, req mail.Request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("mail task: %w", err)
	}
	_, err = q.Client.EnqueueContext(ctx, asynq.NewTask(TypeSendMail, b),
		asynq.Queue(q.Queue), asynq.MaxRetry(8), asynq.Timeout(time.Minute))
	if err != nil {
		return fmt.Errorf("enqueueing %s mail to %s: %w", req.Template, req.To, err)
	}
	return nil
}

// SendMail is the handler of TypeSendMail.
type SendMail struct {
	Renderer *mail.Renderer
	Sender   mail.Sender
}

// ProcessTask renders and sends. A payload or template that cannot work is not retried.
func (h SendMail) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var req mail.Request
	if err := json.Unmarshal(t.Payload(), &req); err != nil {
		return fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
	}
	m, err := h.Renderer.Render(req)
	if err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	return h.Sender.Send(ctx, m)
}

// Template queues the named template: the form the domain packages use, which know nothing of
// the mail package.
func (q MailQueue) Template(ctx context.Context, template, lang, to string, data map[string]string) error {
	return q.Send(ctx, mail.Request{Template: template, Lang: lang, To: to, Data: data})
}

// onceRetention keeps a mail queued by TemplateOnce known for this long after it was sent, so
// that queuing it again (a digest retried after its mail was queued) is refused.
const onceRetention = 24 * time.Hour

// TemplateOnce queues a templated mail under the task id "mail:"+id; queuing the same id again
// within a day, even after the mail was sent, is a no-op (notify.Mailer).
func (q MailQueue) TemplateOnce(ctx context.Context, id, template, lang, to string, data map[string]string, items []map[string]string) error {
	b, err := json.Marshal(mail.Request{Template: template, Lang: lang, To: to, Data: data, Items: items})
	if err != nil {
		return fmt.Errorf("mail task: %w", err)
	}
	_, err = q.Client.EnqueueContext(ctx, asynq.NewTask(TypeSendMail, b),
		asynq.Queue(q.Queue), asynq.MaxRetry(8), asynq.Timeout(time.Minute),
		asynq.TaskID("mail:"+id), asynq.Retention(onceRetention))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueueing %s mail to %s: %w", template, to, err)
	}
	return nil
}
