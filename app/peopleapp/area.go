// Package peopleapp is the people area. The people directory and follows between people (domain/people).
package peopleapp

import (
	"context"

	"github.com/p2psandbox/hub/app/area"
)

// Area is the people area.
type Area struct{}

// New returns the people area.
func New() *Area { return &Area{} }

// Name is "people".
func (*Area) Name() string { return "people" }

// Register builds the area's services and plugs them into h.
func (*Area) Register(_ context.Context, _ *area.Host) error { return nil }
