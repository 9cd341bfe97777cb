package exportapp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/p2psandbox/hub/domain/export"
	"github.com/p2psandbox/hub/domain/notify"
	"github.com/p2psandbox/hub/realtime"
)

// TypeExportRun is the task that makes one export.
const TypeExportRun = "export:run"

// EventProgress is the socket event of an export's progress (docs/realtime.md).
const EventProgress = "export:progress"

type runPayload struct {
	ID string `json:"id"`
}

// Queue enqueues exports on the worker's queue (export.Queue).
type Queue struct {
	Client  *asynq.Client
	Queue   string
	Timeout time.Duration
}

// Enqueue enqueues the export; its id is the task's, so a repeat is one task.
func (q Queue) Enqueue(ctx context.Context, id string) error {
	b, err := json.Marshal(runPayload{ID: id})
	if err != nil {
		return err
	}
	// The task outlives the export's own limit a little, so that the runner, not asynq, ends it
	// and records why.
	_, err = q.Client.EnqueueContext(ctx, asynq.NewTask(TypeExportRun, b), asynq.Queue(q.Queue),
		asynq.TaskID("export:"+id), asynq.MaxRetry(3), asynq.Timeout(q.Timeout+30*time.Second))
	if err != nil {
		return fmt.Errorf("enqueueing export %s: %w", id, err)
	}
	return nil
}

// Runner makes one export.
type Runner interface {
	Run(ctx context.Context, id string) error
}

// RunTask is the handler of TypeExportRun.
type RunTask struct{ Runner Runner }

// ProcessTask runs the export.
func (h RunTask) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p runPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ID == "" {
		return fmt.Errorf("%w: bad payload %q", asynq.SkipRetry, t.Payload())
	}
	return h.Runner.Run(ctx, p.ID)
}

// listener tells the requester how their export goes: progress on their user room, in order
// (one goroutine, one Redis channel), and a notification when it is ready.
type listener struct {
	sockets realtime.Sockets
	notes   interface {
		Notify(ctx context.Context, e notify.Event) error
	}
	log *slog.Logger
}

func (l listener) Progress(ctx context.Context, userID string, p export.Progress) {
	if err := l.sockets.EmitToUsers(ctx, []string{userID}, EventProgress, p); err != nil {
		l.log.WarnContext(ctx, "pushing export progress", "export", p.ID, "err", err)
	}
}

func (l listener) Ready(ctx context.Context, e export.Export) {
	err := l.notes.Notify(ctx, notify.Event{Type: notify.TypeExportReady, RecipientID: e.UserID, TargetType: "export",
		TargetID: e.ID, Data: map[string]any{"title": e.FileName, "kind": e.Kind, "rows": e.Rows}})
	if err != nil {
		l.log.WarnContext(ctx, "notifying a ready export", "export", e.ID, "err", err)
	}
}
