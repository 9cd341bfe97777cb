// Package trendingapp is the trending area. Trending topics and use cases, computed on a schedule by the worker (domain/trending).
package trendingapp

import (
	"context"

	"github.com/p2psandbox/hub/app/area"
)

// Area is the trending area.
type Area struct{}

// New returns the trending area.
func New() *Area { return &Area{} }

// Name is "trending".
func (*Area) Name() string { return "trending" }

// Register builds the area's services and plugs them into h.
func (*Area) Register(_ context.Context, _ *area.Host) error { return nil }
