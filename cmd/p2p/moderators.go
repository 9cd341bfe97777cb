package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/app"
)

// moderatorsCmd grants and takes the platform's moderator role (docs/auth.md).
func moderatorsCmd(load func() (*setup, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "moderators grant|revoke EMAIL",
		Short: "Grant or take the platform's moderator role (verify and suspend organizations, moderate the forum)",
	}
	for _, sub := range []struct {
		name, short string
		on          bool
	}{
		{"grant", "Make the user with this address a platform moderator", true},
		{"revoke", "Take the platform moderator role from the user with this address", false},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   sub.name + " EMAIL",
			Short: sub.short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				a, err := load()
				if err != nil {
					return err
				}
				if err := app.SetModerator(cmd.Context(), a.cfg, a.log, args[0], sub.on); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: moderator %s\n", args[0], map[bool]string{true: "granted", false: "revoked"}[sub.on])
				return nil
			},
		})
	}
	return cmd
}
