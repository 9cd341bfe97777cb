package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/p2psandbox/hub/app"
	"github.com/p2psandbox/hub/domain/forum/forumdb"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/platform/config"
	"github.com/p2psandbox/hub/platform/postgres"
)

// Targets of `docs migrate --to`.
const (
	docsToMongo    = "mongo"
	docsToPostgres = "postgres"
)

// docsCmd holds the use case documents' operator command.
func docsCmd(load func() (*setup, error)) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docs migrate",
		Short: "Use case documents and forum bodies: move them between PostgreSQL and MongoDB",
	}
	var (
		to    string
		batch int
	)
	migrate := &cobra.Command{
		Use:   "migrate --to mongo|postgres",
		Short: "Move the use cases' whole documents and the forum's bodies to MongoDB (mongo.url) or back into PostgreSQL, then verify counts and checksums",
		Long: `--to mongo writes every use case's whole document into MongoDB (mongo.url, mongo.database)
at its version and then rewrites use_cases.document in PostgreSQL to its projection (what search,
filters, cards and the map read). --to postgres writes the whole documents back into
use_cases.document; the MongoDB documents stay (drop the collection use_case_documents once
satisfied). A document waiting in the outbox (a save whose MongoDB write failed) goes first.

The forum's bodies move the same way: --to mongo writes every version of every topic and reply
(the revisions kept in PostgreSQL, then the current body) into the collection forum_bodies and
clears them from their rows, which keep the text search reads; --to postgres writes them back
(forum_bodies stays until dropped).

Both directions can be stopped and run again at any time: documents are written by version and a
row already moved is recognised, so a second run writes nothing. Each run then reads every
document back from the target and prints the count and SHA-256 of the documents on both sides;
it exits with 1 when they differ. Run it with the hubs and workers stopped, or run it again once
they are restarted with the new mongo.url, to catch saves made in between.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to != docsToMongo && to != docsToPostgres {
				return usageError{errors.New("--to must be mongo or postgres")}
			}
			if batch < 1 {
				return usageError{errors.New("--batch must be at least 1")}
			}
			a, err := load()
			if err != nil {
				return err
			}
			if a.cfg.Mongo.URL == "" {
				return usageError{errors.New(config.EnvName("mongo.url") + " (mongo.url): is required, both ways")}
			}
			return migrateDocs(cmd.Context(), a, to, batch, cmd.OutOrStdout())
		},
	}
	migrate.Flags().StringVar(&to, "to", "", "where the documents go: mongo or postgres")
	migrate.Flags().IntVar(&batch, "batch", 500, "use cases read and written per batch")
	cmd.AddCommand(migrate)
	return cmd
}

func migrateDocs(ctx context.Context, a *setup, to string, batch int, out io.Writer) error {
	pool, err := postgres.Connect(ctx, a.cfg.Postgres.URL, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	d, err := app.OpenDocuments(ctx, a.cfg, nil, a.log)
	if err != nil {
		return err
	}
	defer d.Client.Close(context.WithoutCancel(ctx))
	docs := d.UseCases

	var m usecasedb.Migration
	if to == docsToMongo {
		m, err = usecasedb.MigrateToDocuments(ctx, pool, docs, batch)
	} else {
		m, err = usecasedb.MigrateToPostgres(ctx, pool, docs, batch)
	}
	if err != nil {
		return fmt.Errorf("docs: moving the documents to %s (run the command again to resume): %w", to, err)
	}
	fmt.Fprintf(out, "docs: %d use cases, %d documents written to %s\n", m.UseCases, m.Written, to)
	fmt.Fprintf(out, "docs: source %d documents sha256 %s\n", m.Source.Count, m.Source.SHA)
	fmt.Fprintf(out, "docs: target %d documents sha256 %s\n", m.Target.Count, m.Target.SHA)
	if m.Projections > 0 {
		fmt.Fprintf(out, "docs: %d rows of use_cases do not hold what %s expects there\n", m.Projections, to)
	}
	if m.Changed > 0 {
		fmt.Fprintf(out, "docs: %d use cases changed while they were moved\n", m.Changed)
	}
	if !m.OK() {
		return fmt.Errorf("docs: the documents on %s differ from the source; run the command again (with the hubs stopped)", to)
	}
	fmt.Fprintln(out, "docs: verified, the checksums match")

	var f forumdb.BodyMigration
	if to == docsToMongo {
		f, err = forumdb.MigrateBodiesToStore(ctx, pool, d.Forum, batch)
	} else {
		f, err = forumdb.MigrateBodiesToPostgres(ctx, pool, d.Forum, batch)
	}
	if err != nil {
		return fmt.Errorf("forum: moving the bodies to %s (run the command again to resume): %w", to, err)
	}
	fmt.Fprintf(out, "forum: %d posts, %d moved, %d versions written to %s\n", f.Posts, f.Moved, f.Versions, to)
	fmt.Fprintf(out, "forum: source %d versions sha256 %s\n", f.Source.Count, f.Source.SHA)
	fmt.Fprintf(out, "forum: target %d versions sha256 %s\n", f.Target.Count, f.Target.SHA)
	if f.Changed > 0 {
		fmt.Fprintf(out, "forum: %d posts changed while they were moved\n", f.Changed)
	}
	if !f.OK() {
		return fmt.Errorf("forum: the bodies on %s differ from the source; run the command again (with the hubs stopped)", to)
	}
	fmt.Fprintln(out, "forum: verified, the checksums match")
	return nil
}
