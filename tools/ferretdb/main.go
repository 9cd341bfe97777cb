// Command ferretdb serves the MongoDB wire protocol on top of PostgreSQL with FerretDB's
// embeddable package, for the tests and the development machines of the document store
// (MongoDB itself cannot be installed there).
//
// It is a module of its own because FerretDB pulls in an older pgx and mongo-driver v1, which must
// never mix with the service's dependencies. It wraps the embeddable package rather than building
// FerretDB's own command because that binary panics at start unless build/version/version.txt
// exists in the source it was built from, which the module proxy's copy lacks.
//
//	ferretdb -listen 127.0.0.1:27017 -postgresql-url postgres://postgres@127.0.0.1:5432/ferretdb
//
// It runs until SIGTERM or SIGINT. Give every instance a PostgreSQL database of its own: FerretDB
// keeps its catalogue in the database it is given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL URL of the database FerretDB stores everything in")
	level := flag.String("log-level", "warn", "log level: debug, info, warn or error")
	flag.Parse()
	if *pgURL == "" {
		return errors.New("-postgresql-url is required")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *pgURL,
	})
	if err != nil {
		return fmt.Errorf("starting on %s: %w", *listen, err)
	}
	logger.Info("serving", "listen", *listen)
	if err := f.Run(ctx); err != nil {
		return fmt.Errorf("serving on %s: %w", *listen, err)
	}
	return nil
}
