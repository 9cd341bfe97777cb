package usecasedb_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/domain/usecase/usecasemongo"
	"github.com/p2psandbox/hub/platform/logging"
	"github.com/p2psandbox/hub/platform/mongo/mongotest"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// BenchmarkDocuments measures the use case detail (the service's View, as GET /use-cases/:id
// calls it), a library page (20 cards, two filters, newest first) and the creation of a draft
// with a whole document (the save path: the outbox and its delivery) on both backends, on the
// same seeded use cases: first with PostgreSQL alone, then after `docs migrate --to mongo`
// (MigrateToDocuments, timed and logged) with the documents in MongoDB, here FerretDB 1.24 on the
// same PostgreSQL, whose figures are FerretDB's, not MongoDB's. seedLibraryOf seeds
// USECASE_DOCS_N use cases, 2,000 by default: every FerretDB find is a sequential scan and each
// Put makes two, so moving documents there takes time that grows with the square of their
// number. Each sub-benchmark reports p50/p95/p99:
//
//	go test ./domain/usecase/usecasedb/ -run '^$' -bench Documents -benchtime 300x -count 1 -timeout 30m
func BenchmarkDocuments(b *testing.B) {
	ctx := context.Background()
	n := 2_000
	if s := os.Getenv("USECASE_DOCS_N"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("USECASE_DOCS_N=%q: a number of use cases", s)
		}
	}
	pool, _ := pgtest.New(b)
	d := seedLibraryOf(b, pool, n)
	p := d.viewer
	// A draft as the form's autosave first stores it: the whole of ../testdata/complete.json.
	raw, err := os.ReadFile("../testdata/complete.json")
	if err != nil {
		b.Fatal(err)
	}
	var draft map[string]any
	if err := json.Unmarshal(raw, &draft); err != nil {
		b.Fatal(err)
	}
	ops := []struct {
		name string
		run  func(svc *usecase.Service, i int) (int, error)
	}{
		{"detail", func(svc *usecase.Service, i int) (int, error) {
			u, err := svc.View(ctx, p, d.ids[i%len(d.ids)])
			return len(u.Solution.SelectionCriteria), err // a part only the whole document holds
		}},
		{"library", func(svc *usecase.Service, _ int) (int, error) {
			pg, err := svc.Library(ctx, p, usecase.Query{Category: "quality control", Industry: "Petrochemicals", Sort: usecase.SortNewest}, 20, "")
			return len(pg.Items), err
		}},
		{"create", func(svc *usecase.Service, _ int) (int, error) {
			u, err := svc.Create(ctx, p, draft)
			return len(u.Solution.SelectionCriteria), err
		}},
	}
	measure := func(backend string, svc *usecase.Service) {
		for _, o := range ops {
			b.Run(backend+"/"+o.name, func(b *testing.B) {
				pgtest.Measure(b, func(i int) error {
					found, err := o.run(svc, i)
					if err == nil && found == 0 {
						b.Fatalf("%s: found nothing", o.name)
					}
					return err
				})
			})
		}
	}

	measure("postgres", usecase.NewService(usecase.Deps{Store: usecasedb.New(pool)}))

	db, _ := mongotest.Database(b)
	docs := usecasemongo.New(db)
	if _, err := docs.EnsureSchema(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	m, err := usecasedb.MigrateToDocuments(ctx, pool, docs, 500)
	if err != nil {
		b.Fatal(err)
	}
	if !m.OK() {
		b.Fatalf("migration: %+v", m)
	}
	// The rows now hold projections: their dead versions are vacuumed before the timings.
	for _, sql := range []string{`VACUUM ANALYZE use_cases`, `CHECKPOINT`} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	var size int64
	if err := pool.QueryRow(ctx, `SELECT pg_total_relation_size('use_cases')`).Scan(&size); err != nil {
		b.Fatal(err)
	}
	b.Logf("moved %d documents to FerretDB in %s (%.1f ms each); use_cases with the projections: %d MB",
		m.Written, time.Since(start).Round(time.Second), float64(time.Since(start).Milliseconds())/float64(max(1, m.Written)), size>>20)

	measure("mongo", usecase.NewService(usecase.Deps{Store: usecasedb.WithDocuments(pool, docs, logging.Discard())}))
}
