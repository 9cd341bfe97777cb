package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/migrations"
	"github.com/p2psandbox/hub/platform/postgres"
)

func migrateCmd(load func() (*app, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate up|down|status",
		Short: "Apply, roll back or list the SQL migrations",
	}
	withMigrator := func(create bool, fn func(cmd *cobra.Command, m *postgres.Migrator) error) func(*cobra.Command, []string) error {
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
			m, err := postgres.NewMigrator(pool, postgres.MainMigrations(migrations.FS), a.log)
			if err != nil {
				return err
			}
			defer m.Close()
			return fn(cmd, m)
		}
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "up",
			Short: "Create the database if needed and apply every pending migration",
			Args:  cobra.NoArgs,
			RunE: withMigrator(true, func(cmd *cobra.Command, m *postgres.Migrator) error {
				n, err := m.Up(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "applied %d migration(s)\n", n)
				return nil
			}),
		},
		&cobra.Command{
			Use:   "down",
			Short: "Roll back the newest applied migration",
			Args:  cobra.NoArgs,
			RunE: withMigrator(false, func(cmd *cobra.Command, m *postgres.Migrator) error {
				done, err := m.Down(cmd.Context())
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
			RunE: withMigrator(false, func(cmd *cobra.Command, m *postgres.Migrator) error {
				st, err := m.Status(cmd.Context())
				if err != nil {
					return err
				}
				for _, s := range st {
					state := "pending"
					if s.Applied {
						state = "applied"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%05d  %-8s %s\n", s.Version, state, s.Name)
				}
				return nil
			}),
		},
	)
	return cmd
}
