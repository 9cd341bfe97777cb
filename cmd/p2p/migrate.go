package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/app"
	"github.com/p2psandbox/hub/platform/postgres"
)

func migrateCmd(load func() (*setup, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate up|down|status",
		Short: "Apply, roll back or list the SQL migrations (the system of record, then the auth core's)",
	}
	// withMigrators opens one migrator per migration set, in application order.
	withMigrators := func(create bool, fn func(cmd *cobra.Command, ms []*postgres.Migrator) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			a, err := load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if create {
				if err := postgres.EnsureDatabase(ctx, a.cfg.Postgres.URL); err != nil {
					return err
				}
			}
			pool, err := postgres.Connect(ctx, a.cfg.Postgres.URL, 2)
			if err != nil {
				return err
			}
			defer pool.Close()
			var ms []*postgres.Migrator
			for _, set := range app.MigrationSets() {
				m, err := postgres.NewMigrator(pool, set, a.log)
				if err != nil {
					return err
				}
				defer m.Close()
				ms = append(ms, m)
			}
			return fn(cmd, ms)
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "up",
			Short: "Create the database if needed and apply every pending migration",
			Args:  cobra.NoArgs,
			RunE: withMigrators(true, func(cmd *cobra.Command, ms []*postgres.Migrator) error {
				total := 0
				for _, m := range ms {
					n, err := m.Up(cmd.Context())
					if err != nil {
						return err
					}
					total += n
				}
				fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s)\n", total)
				return nil
			}),
		},
		&cobra.Command{
			Use:   "down",
			Short: "Roll back the newest applied migration (the auth core's go first)",
			Args:  cobra.NoArgs,
			RunE: withMigrators(false, func(cmd *cobra.Command, ms []*postgres.Migrator) error {
				done, err := downOne(cmd.Context(), ms)
				if err != nil {
					return err
				}
				if !done {
					fmt.Fprintln(cmd.OutOrStdout(), "nothing to roll back")
					return nil
				}
				fmt.Fprintln(cmd.OutOrStdout(), "rolled back 1 migration")
				return nil
			}),
		},
		&cobra.Command{
			Use:   "status",
			Short: "List migrations and whether each is applied",
			Args:  cobra.NoArgs,
			RunE: withMigrators(false, func(cmd *cobra.Command, ms []*postgres.Migrator) error {
				for i, m := range ms {
					st, err := m.Status(cmd.Context())
					if err != nil {
						return err
					}
					for _, s := range st {
						state := "pending"
						if s.Applied {
							state = "applied"
						}
						fmt.Fprintf(cmd.OutOrStdout(), "%-20s %05d  %-8s %s\n", app.MigrationSets()[i].VersionTable, s.Version, state, s.Name)
					}
				}
				return nil
			}),
		},
	)
	return cmd
}

// downOne rolls back the newest migration of the last set that has one applied.
func downOne(ctx context.Context, ms []*postgres.Migrator) (bool, error) {
	for _, m := range slices.Backward(ms) {
		done, err := m.Down(ctx)
		if err != nil || done {
			return done, err
		}
	}
	return false, nil
}
