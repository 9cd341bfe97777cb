// Package exportapp is the exports area. Exports of use cases and members as PDF, Excel and CSV, run as background jobs (domain/export).
package exportapp

import (
	"context"

	"github.com/p2psandbox/hub/app/area"
)

// Area is the exports area.
type Area struct{}

// New returns the exports area.
func New() *Area { return &Area{} }

// Name is "exports".
func (*Area) Name() string { return "exports" }

// Register builds the area's services and plugs them into h.
func (*Area) Register(_ context.Context, _ *area.Host) error { return nil }
