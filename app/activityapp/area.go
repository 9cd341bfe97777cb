// Package activityapp is the activity area. The activity feed: what happened across the areas, for me, my organization and the platform (domain/activity).
package activityapp

import (
	"context"

	"github.com/p2psandbox/hub/app/area"
)

// Area is the activity area.
type Area struct{}

// New returns the activity area.
func New() *Area { return &Area{} }

// Name is "activity".
func (*Area) Name() string { return "activity" }

// Register builds the area's services and plugs them into h.
func (*Area) Register(_ context.Context, _ *area.Host) error { return nil }
