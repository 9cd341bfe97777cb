// Command p2p is the one binary of P2P Sandbox Hub: serve (REST, auth, hub), worker, migrate and
// version.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/rest"
)

// Set at link time: -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = "unknown"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2 // bad configuration or usage
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// usageError marks errors that are the caller's fault: bad flags, arguments or configuration.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// setup is what every subcommand gets: the validated configuration and a logger.
type setup struct {
	cfg   config.Config
	log   *slog.Logger
	build rest.Build
}

func run(args, env []string, stdout, stderr io.Writer) int {
	var configFile string
	load := func() (*setup, error) {
		file := configFile
		if file == "" {
			file = lookup(env, "P2P_CONFIG")
		}
		cfg, err := config.Load(file, env)
		if err != nil {
			return nil, usageError{err}
		}
		return &setup{
			cfg:   cfg,
			log:   logging.New(stderr, cfg.Log.Format, cfg.Log.Level),
			build: rest.Build{Version: version, Commit: commit, Started: time.Now()},
		}, nil
	}

	root := &cobra.Command{
		Use:           "p2p",
		Short:         "P2P Sandbox Hub: knowledge sharing for industrial SMEs",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&configFile, "config", "", "config file (yaml, json or toml); also P2P_CONFIG")
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		serveCmd(load),
		workerCmd(load),
		migrateCmd(load),
		authcoreCmd(load),
		moderatorsCmd(load),
		blobsCmd(load),
		statsCmd(load),
		docsCmd(load),
		healthcheckCmd(),
		&cobra.Command{
			Use:   "version",
			Short: "Print the version",
			Args:  cobra.NoArgs,
			Run: func(cmd *cobra.Command, _ []string) {
				fmt.Fprintf(cmd.OutOrStdout(), "p2p %s (commit %s, %s)\n", version, commit, runtime.Version())
			},
		},
	)

	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "p2p:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		return exitConfig
	}
	return exitFailed
}

// isCobraUsageError recognises cobra's own argument errors, which it does not type.
func isCobraUsageError(err error) bool {
	for _, prefix := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "invalid argument"} {
		if strings.HasPrefix(err.Error(), prefix) {
			return true
		}
	}
	return false
}

func lookup(env []string, name string) string {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}
