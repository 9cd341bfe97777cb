package usecaseapp

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/p2psandbox/hub/domain/usecase"
)

// tenThousand answers the map with a 10,000-point FeatureCollection of the size the store makes
// (about 700 bytes a point); how long the store takes to build one is BenchmarkLibrary100k's
// map case (docs/perf.md).
type tenThousand struct{ body []byte }

func (m tenThousand) Map(context.Context, usecase.Box) (usecase.MapPoints, error) {
	return usecase.MapPoints{GeoJSON: m.body, Count: 10_000}, nil
}
func (tenThousand) Stats(context.Context) (usecase.PublicStats, error) {
	return usecase.PublicStats{}, nil
}
func (tenThousand) Featured(context.Context) ([]usecase.Summary, error) { return nil, nil }

// BenchmarkPublicMap serves the landing map's box of 10,000 points from the node's cache over
// HTTP (a real listener, the client reading all 7 MB), as every request but the first of a
// minute is served. It reports p50 and p95 per request.
func BenchmarkPublicMap(b *testing.B) {
	var geo bytes.Buffer
	geo.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := range 10_000 {
		if i > 0 {
			geo.WriteByte(',')
		}
		geo.WriteString(`{"type":"Feature","id":"01930000-0000-7000-8000-` + strconv.Itoa(100000000000+i) + `","geometry":{"type":"Point","coordinates":[39.1,21.5]},` +
			`"properties":{"title":"Vision inspection of PCB assembly lines in Jeddah","description":"Computer vision catches defects before the oven; the line runs at full speed with fewer reworks and scrap.",` +
			`"factoryName":"Red Sea Electronics","city":"Jeddah","category":"Quality Control","implementationTime":"6 months",` +
			`"benefits":["Defect rate: 85% reduction","Inspection time: 70% faster","Scrap: 40% less"],"roiPercentage":"250%","contactPerson":"Ahmed Al-Faisal","contactTitle":"Operations Manager"}}`)
	}
	geo.WriteString(`]}`)
	gin.SetMode(gin.ReleaseMode)
	pr := publicRoutes{p: tenThousand{body: geo.Bytes()}, cache: newPublicCache(publicMaxAge, publicCacheBytes)}
	e := gin.New()
	e.GET("/map", pr.mapPoints)
	srv := httptest.NewServer(e)
	defer srv.Close()
	get := func() {
		res, err := http.Get(srv.URL + "/map?bbox=38.5,20.8,39.9,22.2")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || n != int64(geo.Len()) {
			b.Fatalf("%d, %d bytes", res.StatusCode, n)
		}
	}
	get() // the minute's first request builds the answer
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		get()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	b.SetBytes(int64(geo.Len()))
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	at := func(q float64) float64 { return float64(sorted[int(q*float64(len(sorted)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.95), "p95-ms")
}
