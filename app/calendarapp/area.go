// Package calendarapp is the events area: platform and organization events, attendance with
// capacity, reminders and .ics (domain/calendar) behind REST, and the reminder task.
package calendarapp

import (
	"context"
	_ "embed"
	"net/url"

	"github.com/p2psandbox/hub/app/area"
	"github.com/p2psandbox/hub/domain/calendar"
	"github.com/p2psandbox/hub/domain/calendar/calendardb"
	"github.com/p2psandbox/hub/platform/markdown"
)

//go:embed openapi.yaml
var openAPI []byte

// Area is the events area.
type Area struct{}

// New returns the events area.
func New() *Area { return &Area{} }

// Name is "events".
func (*Area) Name() string { return "events" }

// OpenAPI is the area's part of the document.
func (*Area) OpenAPI() []byte { return openAPI }

// Register builds the events service, mounts its routes and handles the reminder task.
func (*Area) Register(_ context.Context, h *area.Host) error {
	svc := calendar.NewService(calendar.Deps{
		Store:        calendardb.New(h.Pool),
		Renderer:     markdown.New(),
		Reminders:    ReminderQueue{Client: h.Tasks, Queue: h.Queue},
		ReminderLead: h.Config.Events.ReminderLead,
		Log:          h.Log.With("component", "events"),
	})
	if h.REST != nil {
		mountREST(h.REST, svc, uidDomain(h.Config.App.WebsiteDomain))
	}
	if h.Worker != nil {
		h.Worker.Handle(TypeEventReminder, EventReminder{Events: svc})
	}
	return nil
}

// uidDomain is the right-hand side of the .ics UIDs: the website's host, so that UIDs are
// unique across installations (RFC 5545 §3.8.4.7).
func uidDomain(website string) string {
	if u, err := url.Parse(website); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "p2psandbox.local"
}
