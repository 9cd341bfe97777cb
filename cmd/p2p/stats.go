package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/app"
	"github.com/p2psandbox/hub/app/dashboardapp"
)

// statsCmd holds the dashboard counters' operator command.
func statsCmd(load func() (*setup, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stats rebuild",
		Short: "Dashboard counters: recount them from the data",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "rebuild",
		Short: "Recount every dashboard counter from the forum, use case and member tables",
		Long: `Recounts the dashboard's counters (per user, organization and day) from the data in one
transaction and makes every cached dashboard stale. Safe while the hubs and workers run: a change
made during the rebuild is counted once, by the rebuild or by the event that follows it. Run it
once after upgrading to the version that added the dashboard (its counters follow events from
then on) and whenever the counters are in doubt.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			conns, err := app.Connect(cmd.Context(), a.cfg, a.log, false)
			if err != nil {
				return err
			}
			defer conns.Close()
			r, err := dashboardapp.Rebuild(cmd.Context(), conns.Pool, conns.Redis, a.cfg.Redis.Prefix, a.log)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stats: %d counters, %d active days, %d monthly rows recounted in %s (%d events in flight already counted)\n",
				r.Counters, r.ActiveDays, r.MonthRows, r.Took.Round(time.Millisecond), r.Counted)
			return nil
		},
	})
	return cmd
}
