package main

import (
	"fmt"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/app"
)

func serveCmd(load func() (*setup, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve REST, auth and the realtime hub on one port (and the worker when run_worker is set)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return app.Run(ctx, app.Options{Config: a.cfg, Log: a.log, Build: a.build, Serve: true, Worker: a.cfg.RunWorker})
		},
	}
}

func workerCmd(load func() (*setup, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the asynq worker and scheduler, with /health and /metrics on worker.addr",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return app.Run(ctx, app.Options{Config: a.cfg, Log: a.log, Build: a.build})
		},
	}
}

// healthcheckCmd lets container healthchecks probe the process without curl in the image.
func healthcheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "healthcheck [url]",
		Short: "Exit 0 when url (default http://127.0.0.1:8080/health/ready) answers 200",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			url := "http://127.0.0.1:8080/health/ready"
			if len(args) == 1 {
				url = args[0]
			}
			client := &http.Client{Timeout: 3 * time.Second}
			res, err := client.Get(url)
			if err != nil {
				return err
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("%s answered %s", url, res.Status)
			}
			return nil
		},
	}
}
