package mediaapp_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/app/mediaapp"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/workers"
	"github.com/p2psandbox/hub/workers/workertest"
)

// images records the calls the handler makes; Process fails while failing is set.
type images struct {
	mu        sync.Mutex
	failing   bool
	processed []string
	abandoned chan string
}

func (i *images) Process(_ context.Context, id string) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.processed = append(i.processed, id)
	if i.failing {
		return errors.New("storage unavailable")
	}
	return nil
}

func (i *images) Abandon(_ context.Context, id string) error {
	i.abandoned <- id
	return nil
}

// runWorker serves queue with the image handler until the test ends.
func runWorker(t *testing.T, queue string, h mediaapp.ProcessImage, done chan<- string) *asynq.Client {
	t.Helper()
	rdb, _ := redistest.New(t)
	w, err := workers.New(rdb, workers.Config{Concurrency: 1, Queue: queue, CleanupInterval: time.Hour,
		ShutdownTimeout: 5 * time.Second}, logging.Discard())
	require.NoError(t, err)
	w.Handle(mediaapp.TypeProcessImage, asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		err := h.ProcessTask(ctx, task)
		done <- string(task.Payload())
		return err
	}))
	workertest.Serve(t, w)
	return asynq.NewClientFromRedisClient(rdb)
}

func TestImageTaskRunsTheProcessing(t *testing.T) {
	rdb, prefix := redistest.New(t)
	queue := redistest.Queue(t, rdb, prefix+"images")
	imgs := &images{abandoned: make(chan string, 1)}
	done := make(chan string, 4)
	client := runWorker(t, queue, mediaapp.ProcessImage{Images: imgs, Log: logging.Discard()}, done)

	q := mediaapp.ImageQueue{Client: client, Queue: queue}
	require.NoError(t, q.EnqueueImage(context.Background(), "file-1"))
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("the image task never ran")
	}
	imgs.mu.Lock()
	assert.Equal(t, []string{"file-1"}, imgs.processed)
	imgs.mu.Unlock()
	assert.Empty(t, imgs.abandoned)
}

// TestImageTaskAbandonsAfterTheLastAttempt: when the last attempt fails, the file is abandoned
// so that its status stops saying pending.
func TestImageTaskAbandonsAfterTheLastAttempt(t *testing.T) {
	rdb, prefix := redistest.New(t)
	queue := redistest.Queue(t, rdb, prefix+"images")
	imgs := &images{failing: true, abandoned: make(chan string, 1)}
	done := make(chan string, 4)
	client := runWorker(t, queue, mediaapp.ProcessImage{Images: imgs, Log: logging.Discard()}, done)

	// One attempt only, so that the test does not wait for the retry backoff.
	_, err := client.Enqueue(asynq.NewTask(mediaapp.TypeProcessImage, []byte(`{"fileId":"file-2"}`)),
		asynq.Queue(queue), asynq.MaxRetry(0))
	require.NoError(t, err)
	select {
	case id := <-imgs.abandoned:
		assert.Equal(t, "file-2", id)
	case <-time.After(15 * time.Second):
		t.Fatal("the failing image was never abandoned")
	}
}

func TestImageTaskRefusesABadPayload(t *testing.T) {
	err := mediaapp.ProcessImage{Images: &images{}, Log: logging.Discard()}.
		ProcessTask(context.Background(), asynq.NewTask(mediaapp.TypeProcessImage, []byte("{")))
	assert.ErrorIs(t, err, asynq.SkipRetry)
}

// TestImageTaskEnqueuedOncePerFile: enqueueing a file that is already queued succeeds and adds
// no second task (completing an upload again re-enqueues it safely).
func TestImageTaskEnqueuedOncePerFile(t *testing.T) {
	rdb, prefix := redistest.New(t)
	queue := redistest.Queue(t, rdb, prefix+"images")
	q := mediaapp.ImageQueue{Client: asynq.NewClientFromRedisClient(rdb), Queue: queue}
	require.NoError(t, q.EnqueueImage(context.Background(), "file-3"))
	require.NoError(t, q.EnqueueImage(context.Background(), "file-3"))
	require.NoError(t, q.EnqueueImage(context.Background(), "file-4"))
	tasks, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(queue)
	require.NoError(t, err)
	var payloads []string
	for _, task := range tasks {
		payloads = append(payloads, string(task.Payload))
	}
	assert.ElementsMatch(t, []string{`{"fileId":"file-3"}`, `{"fileId":"file-4"}`}, payloads)
}
