package usecasedb_test

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/p2psandbox/hub/domain/location"
	"github.com/p2psandbox/hub/domain/usecase"
	"github.com/p2psandbox/hub/domain/usecase/usecasedb"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// BenchmarkLibrary100k measures what the library, the detail page and the landing map ask of the
// store, through the service as the handlers call it, on 100,000 published use cases
// (seedLibrary): a page of 20 with two filters for every sort, search in English and Arabic,
// the sidebar's facets with a filter, a detail, its related use cases, the map's box of 10,000
// points, and the city autocomplete (in memory). Each sub-benchmark reports p50/p95/p99;
// USECASE_EXPLAIN=1 also logs EXPLAIN (ANALYZE, BUFFERS) of every statement each operation runs:
//
//	go test ./domain/usecase/usecasedb/ -run '^$' -bench Library100k -benchtime 200x -count 1 -timeout 30m
func BenchmarkLibrary100k(b *testing.B) {
	ctx := context.Background()
	pool, url := pgtest.New(b)
	d := seedLibrary(b, pool)
	svc := usecase.NewService(usecase.Deps{Store: usecasedb.New(pool)})
	var explain *explainer
	if os.Getenv("USECASE_EXPLAIN") != "" {
		explain = newExplainer(b, url)
	}
	p := d.viewer
	roiMin := 150.0

	type op struct {
		name string
		run  func(svc *usecase.Service, i int) (int, error) // the number of items, to check it found some
	}
	library := func(q usecase.Query) func(*usecase.Service, int) (int, error) {
		return func(svc *usecase.Service, _ int) (int, error) {
			pg, err := svc.Library(ctx, p, q, 20, "")
			return len(pg.Items), err
		}
	}
	// The commonest category with the second industry (about 2,800 use cases), every sort.
	two := func(sort string) usecase.Query {
		return usecase.Query{Category: "quality control", Industry: "Petrochemicals", Sort: sort}
	}
	ops := []op{
		{"library/newest", library(two(usecase.SortNewest))},
		{"library/viewed", library(two(usecase.SortViewed))},
		{"library/liked", library(two(usecase.SortLiked))},
		{"library/saved", library(two(usecase.SortSaved))},
		{"library/roi", library(two(usecase.SortROI))},
		{"library/relevance", library(usecase.Query{Category: "Quality Control", Industry: "Petrochemicals", Text: "inspection",
			Sort: usecase.SortRelevance})},
		// Other pairs of filters the sidebar combines.
		{"library/city+tech", library(usecase.Query{City: "jeddah", Technology: "iot", Sort: usecase.SortNewest})},
		{"library/verified+roi", library(usecase.Query{Verified: true, RoiMin: &roiMin, Sort: usecase.SortROI})},
		{"search/en", library(usecase.Query{Text: "vibration", Sort: usecase.SortRelevance})},
		{"search/ar", library(usecase.Query{Text: "صيانه", Sort: usecase.SortRelevance})},
		{"facets/category", func(svc *usecase.Service, _ int) (int, error) {
			f, err := svc.Facets(ctx, p, usecase.Query{Category: "Predictive Maintenance"})
			return len(f.Industries), err
		}},
		{"facets/search", func(svc *usecase.Service, _ int) (int, error) {
			f, err := svc.Facets(ctx, p, usecase.Query{Text: "vibration"})
			return len(f.Industries), err
		}},
		{"detail", func(svc *usecase.Service, i int) (int, error) {
			_, err := svc.View(ctx, p, d.ids[i%len(d.ids)])
			return 1, err
		}},
		{"related", func(svc *usecase.Service, i int) (int, error) {
			r, err := svc.Related(ctx, p, d.ids[i%len(d.ids)])
			return len(r), err
		}},
		{"map/10k-points", func(svc *usecase.Service, _ int) (int, error) {
			pts, err := svc.Map(ctx, usecase.Box{MinLat: d.box[0], MinLng: d.box[1], MaxLat: d.box[2], MaxLng: d.box[3]})
			return pts.Count, err
		}},
	}
	for _, o := range ops {
		if explain != nil {
			explain.run(b, o.name, func(svc *usecase.Service) error { _, err := o.run(svc, 0); return err })
		}
		b.Run(o.name, func(b *testing.B) {
			pgtest.Measure(b, func(i int) error {
				n, err := o.run(svc, i)
				if err == nil && n == 0 {
					b.Fatalf("%s: found nothing", o.name)
				}
				return err
			})
		})
	}

	// The city autocomplete: the form's picker as one types, in English and Arabic (with and
	// without the article), in memory.
	g, err := location.New()
	if err != nil {
		b.Fatal(err)
	}
	for name, prefixes := range map[string][]string{
		"cities/en": {"r", "ri", "riy", "j", "je", "jed", "da", "dam", "kh", "khob", "ta", "tab", "ju", "jub", "ya", "yan"},
		"cities/ar": {"ا", "الر", "الريا", "ج", "جد", "د", "دم", "خب", "الخب", "ت", "تب", "ين", "ينب", "مك", "مد", "أبه"},
	} {
		b.Run(name, func(b *testing.B) {
			pgtest.Measure(b, func(i int) error {
				if len(g.Search(prefixes[i%len(prefixes)], nil, 10)) == 0 {
					b.Fatalf("no city for %q", prefixes[i%len(prefixes)])
				}
				return nil
			})
		})
	}
}

// explainer runs an operation through a store whose pool records its statements, then logs the
// plan of each as EXPLAIN (ANALYZE, BUFFERS) shows it.
type explainer struct {
	pool *pgxpool.Pool
	svc  *usecase.Service
	mu   sync.Mutex
	on   bool
	seen []pgx.TraceQueryStartData
}

func newExplainer(b *testing.B, url string) *explainer {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		b.Fatal(err)
	}
	e := &explainer{}
	cfg.ConnConfig.Tracer = e
	if e.pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.pool.Close)
	e.svc = usecase.NewService(usecase.Deps{Store: usecasedb.New(e.pool)})
	return e
}

func (e *explainer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.on {
		e.seen = append(e.seen, data)
	}
	return ctx
}

func (e *explainer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (e *explainer) run(b *testing.B, name string, op func(*usecase.Service) error) {
	ctx := context.Background()
	e.mu.Lock()
	e.on, e.seen = true, nil
	e.mu.Unlock()
	err := op(e.svc)
	e.mu.Lock()
	e.on = false
	seen := e.seen
	e.mu.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range seen {
		// Transaction control and settings (the facets' SET LOCAL) have no plan.
		if verb := strings.ToLower(strings.Fields(q.SQL + " x")[0]); verb == "begin" || verb == "commit" || verb == "set" || verb == "rollback" {
			continue
		}
		rows, err := e.pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q.SQL, q.Args...)
		if err != nil {
			b.Fatalf("explaining %s: %v", name, err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			b.Fatalf("explaining %s: %v", name, err)
		}
		b.Logf("%s:\n%s\n%s", name, strings.TrimSpace(q.SQL), strings.Join(lines, "\n"))
	}
}
