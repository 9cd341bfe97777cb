// Package workers runs background work: an asynq server that executes tasks and a scheduler that
// enqueues the periodic ones. Tasks reach sockets through the Redis emitter, never a hub node.
package workers

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"
)

// Config configures a Worker.
type Config struct {
	Concurrency     int
	Queue           string
	CleanupInterval time.Duration
	ShutdownTimeout time.Duration
}

// Worker is an asynq server plus its scheduler on one Redis.
type Worker struct {
	cfg   Config
	log   *slog.Logger
	mux   *asynq.ServeMux
	srv   *asynq.Server
	sched *asynq.Scheduler
}

// New prepares a worker on rdb. Register handlers with Handle before Run.
func New(rdb goredis.UniversalClient, cfg Config, log *slog.Logger) (*Worker, error) {
	lg := slogAdapter{log.With("component", "asynq")}
	w := &Worker{
		cfg: cfg,
		log: log,
		mux: asynq.NewServeMux(),
		srv: asynq.NewServerFromRedisClient(rdb, asynq.Config{
			Concurrency:     cfg.Concurrency,
			Queues:          map[string]int{cfg.Queue: 1},
			Logger:          lg,
			ShutdownTimeout: cfg.ShutdownTimeout,
			ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
				log.ErrorContext(ctx, "task failed", "type", t.Type(), "err", err)
			}),
		}),
		sched: asynq.NewSchedulerFromRedisClient(rdb, &asynq.SchedulerOpts{Logger: lg, LogLevel: asynq.WarnLevel}),
	}
	// Every node's scheduler fires; Unique keeps one copy of each periodic task per interval.
	if _, err := w.sched.Register(fmt.Sprintf("@every %s", cfg.CleanupInterval),
		asynq.NewTask(TypeCleanup, nil),
		asynq.Queue(cfg.Queue), asynq.Unique(cfg.CleanupInterval), asynq.MaxRetry(1),
	); err != nil {
		return nil, fmt.Errorf("workers: scheduling cleanup: %w", err)
	}
	return w, nil
}

// Every has every node's scheduler enqueue task each interval on the worker's queue; Unique keeps
// one copy of it per interval across nodes, as for cleanup. Call it before Run.
func (w *Worker) Every(interval time.Duration, task *asynq.Task, opts ...asynq.Option) error {
	opts = append([]asynq.Option{asynq.Queue(w.cfg.Queue), asynq.Unique(interval)}, opts...)
	if _, err := w.sched.Register(fmt.Sprintf("@every %s", interval), task, opts...); err != nil {
		return fmt.Errorf("workers: scheduling %s: %w", task.Type(), err)
	}
	return nil
}

// Handle registers the handler of a task type.
func (w *Worker) Handle(taskType string, h asynq.Handler) {
	w.mux.Handle(taskType, h)
}

// Run serves tasks until ctx is done, then lets running tasks finish within the shutdown timeout.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("workers: starting server: %w", err)
	}
	if err := w.sched.Start(); err != nil {
		w.srv.Shutdown()
		return fmt.Errorf("workers: starting scheduler: %w", err)
	}
	w.log.Info("worker started", "queue", w.cfg.Queue, "concurrency", w.cfg.Concurrency)
	<-ctx.Done()
	w.sched.Shutdown()
	w.srv.Shutdown()
	w.log.Info("worker stopped")
	return nil
}

// slogAdapter gives asynq a log/slog logger.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) {
	msg := fmt.Sprint(args...)
	// The scheduler tries to close the client we lent it and says so at error level on every stop.
	if strings.Contains(msg, "connection is shared") {
		a.l.Debug(msg)
		return
	}
	a.l.Error(msg)
}
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
