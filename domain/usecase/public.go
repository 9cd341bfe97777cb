package usecase

import (
	"context"
	"encoding/json"
	"math"

	"github.com/p2psandbox/hub/domain/errs"
)

// What the landing page shows without signing in: the map of published use cases, the
// platform's figures and the featured use cases. Only published use cases, and only what their
// cards show.

// Point is a published use case on the landing map (§2.5 a of the frontend contract): the
// properties of its feature in MapPoints.
type Point struct {
	ID                 string   `json:"id"`
	Title              string   `json:"title"`
	Description        string   `json:"description"`
	FactoryName        string   `json:"factoryName"`
	City               string   `json:"city"`
	Category           string   `json:"category"`
	ImplementationTime string   `json:"implementationTime"`
	Benefits           []string `json:"benefits"`
	RoiPercentage      string   `json:"roiPercentage"`
	ContactPerson      string   `json:"contactPerson"`
	ContactTitle       string   `json:"contactTitle"`
	Latitude           float64  `json:"-"`
	Longitude          float64  `json:"-"`
}

// MapPoints is the map as GeoJSON: a FeatureCollection of Points (geometry from Latitude and
// Longitude, the rest the properties), newest first, as the store wrote it. The store builds the
// document itself: 10,000 points decoded and encoded again in Go took three times as long as
// the query.
type MapPoints struct {
	GeoJSON json.RawMessage
	Count   int
}

// Box bounds the map's points (degrees); the zero Box is the whole map.
type Box struct {
	MinLat, MinLng, MaxLat, MaxLng float64
}

// Whole is the box of every point.
var Whole = Box{MinLat: -90, MinLng: -180, MaxLat: 90, MaxLng: 180}

// MaxPoints bounds one answer of the map.
const MaxPoints = 10_000

// PublicStats are the landing page's figures, computed from the published use cases.
type PublicStats struct {
	Organizations         int      `json:"organizations"`         // active organizations on the platform
	ContributingCompanies int      `json:"contributingCompanies"` // organizations with a published use case
	PublishedUseCases     int      `json:"publishedUseCases"`
	AverageRoi            *float64 `json:"averageRoi"` // mean ROI in percent of those that state one
}

// Map lists the published use cases with coordinates inside b, newest first, at most MaxPoints.
func (s *Service) Map(ctx context.Context, b Box) (MapPoints, error) {
	if b.MinLat > b.MaxLat || b.MinLng > b.MaxLng || b.MinLat < -90 || b.MaxLat > 90 || b.MinLng < -180 || b.MaxLng > 180 ||
		math.IsNaN(b.MinLat+b.MaxLat+b.MinLng+b.MaxLng) {
		return MapPoints{}, errs.Fields(errs.FieldError{Field: "bbox", Message: "must be minLng,minLat,maxLng,maxLat within the world, min before max"})
	}
	return s.store.Points(ctx, b, MaxPoints)
}

// Stats are the landing page's figures.
func (s *Service) Stats(ctx context.Context) (PublicStats, error) { return s.store.PublicStats(ctx) }

// featuredShown is how many featured use cases the landing page shows.
const featuredShown = 6

// Featured lists the featured published use cases, newest first, as no one in particular sees them.
func (s *Service) Featured(ctx context.Context) ([]Summary, error) {
	items, _, _, err := s.store.List(ctx, "", Query{Status: StatusPublished, Featured: true, Sort: SortNewest}, nil, featuredShown)
	if err != nil {
		return nil, err
	}
	return s.summaries(ctx, items)
}
