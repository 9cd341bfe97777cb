package exportapp_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/p2psandbox/hub/app/exportapp"
	"github.com/p2psandbox/hub/domain/export"
	"github.com/p2psandbox/hub/platform/postgres/pgtest"
)

// BenchmarkUseCasePDF: one use case's detail page (Arabic, every section) printed to PDF by the
// worker's warm browser, as the export:run task does after its first export; p50/p95/p99 per
// print. The browser's cold start is measured apart (the first print of a worker).
func BenchmarkUseCasePDF(b *testing.B) {
	u := arabicUseCase(b)
	html, err := export.DetailPage(u)
	if err != nil {
		b.Fatal(err)
	}
	chrome := exportapp.NewChrome(os.Getenv("P2P_EXPORT_CHROMIUM"), 30*time.Second)
	b.Cleanup(chrome.Close)
	ctx := context.Background()
	start := time.Now()
	if _, err := chrome.PrintPDF(ctx, html); err != nil {
		b.Fatal(err)
	}
	cold := time.Since(start)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if _, err := chrome.PrintPDF(ctx, html); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	pgtest.ReportLatencies(b, lat)
	b.ReportMetric(float64(cold.Milliseconds()), "cold-ms") // after ResetTimer, which drops metrics
}
