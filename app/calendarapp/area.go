// Package calendarapp is the events area. Events: platform and organization events, attendance with capacity, reminders and .ics (domain/calendar).
package calendarapp

import (
	"context"

	"github.com/p2psandbox/hub/app/area"
)

// Area is the events area.
type Area struct{}

// New returns the events area.
func New() *Area { return &Area{} }

// Name is "events".
func (*Area) Name() string { return "events" }

// Register builds the area's services and plugs them into h.
func (*Area) Register(_ context.Context, _ *area.Host) error { return nil }
