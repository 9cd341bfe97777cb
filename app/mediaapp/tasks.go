package mediaapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// TypeProcessImage turns an uploaded avatar or logo into its served image.
const TypeProcessImage = "media:process"

// Image processing attempts: a few retries with asynq's backoff cover a storage or database
// hiccup; after the last the file is marked failed so the user is not left waiting.
const (
	imageMaxRetry = 4
	imageTimeout  = 2 * time.Minute
)

type imagePayload struct {
	FileID string `json:"fileId"`
}

// ImageQueue enqueues image processing (media.Queue).
type ImageQueue struct {
	Client *asynq.Client
	Queue  string
}

// EnqueueImage enqueues the processing of a file. The task id is the file's, so an enqueue that
// is repeated while the first is still queued or running does not run twice: it succeeds without
// adding a task.
func (q ImageQueue) EnqueueImage(ctx context.Context, fileID string) error {
	b, err := json.Marshal(imagePayload{FileID: fileID})
	if err != nil {
		return fmt.Errorf("image task: %w", err)
	}
	_, err = q.Client.EnqueueContext(ctx, asynq.NewTask(TypeProcessImage, b),
		asynq.Queue(q.Queue), asynq.MaxRetry(imageMaxRetry), asynq.Timeout(imageTimeout),
		asynq.TaskID("media:"+fileID))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueueing image %s: %w", fileID, err)
	}
	return nil
}

// Images is what the handler needs from the media service.
type Images interface {
	Process(ctx context.Context, fileID string) error
	Abandon(ctx context.Context, fileID string) error
}

// ProcessImage is the handler of TypeProcessImage.
type ProcessImage struct {
	Images Images
	Log    *slog.Logger
}

// ProcessTask processes the file. Refused images are the service's business (it marks them
// failed and returns nil); an error here is one that a retry may cure, and on the last attempt
// the file is abandoned so that its status stops saying pending.
func (h ProcessImage) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p imagePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.FileID == "" {
		return fmt.Errorf("%w: bad payload %q", asynq.SkipRetry, t.Payload())
	}
	err := h.Images.Process(ctx, p.FileID)
	if err == nil {
		return nil
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	if ok && retried >= maxRetry {
		h.Log.ErrorContext(ctx, "giving up on an image", "file", p.FileID, "err", err)
		// The task's own deadline may be what failed it.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if aerr := h.Images.Abandon(actx, p.FileID); aerr != nil {
			return errors.Join(err, fmt.Errorf("abandoning image %s: %w", p.FileID, aerr))
		}
	}
	return err
}
