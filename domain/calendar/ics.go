package calendar

import (
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// ProdID names the product in the files it writes (RFC 5545 §3.7.3).
const ProdID = "-//P2P Sandbox Hub//Events//EN"

// ICS writes e as an iCalendar object (RFC 5545): CRLF line ends, lines folded at 75 octets
// without splitting a UTF-8 sequence, TEXT values escaped, times in UTC (DTSTART and DTEND as
// "…Z", which needs no VTIMEZONE) with the organizer's zone named in X-WR-TIMEZONE. The summary is
// the title in lang ("ar" → Arabic); the description carries the other language's title, the
// description's plain text and the online link. domain names the UID's right-hand side.
func ICS(e Event, descriptionText, lang, domain string, now time.Time) string {
	cal := ics.NewCalendarFor("P2P Sandbox Hub")
	cal.SetProductId(ProdID)
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	cal.SetXWRTimezone(e.TimeZone)
	ev := cal.AddEvent(e.ID + "@" + domain)
	ev.SetDtStampTime(now.UTC())
	ev.SetCreatedTime(e.CreatedAt)
	ev.SetModifiedAt(e.UpdatedAt)
	ev.SetStartAt(e.StartsAt)
	ev.SetEndAt(e.EndsAt)
	title, other := e.Title, e.TitleAr
	if msg(lang).ar {
		title, other = e.TitleAr, e.Title
	}
	ev.SetSummary(clean(title))
	desc := []string{clean(other)}
	if descriptionText != "" {
		desc = append(desc, clean(descriptionText))
	}
	if e.OnlineURL != "" {
		desc = append(desc, e.OnlineURL)
		ev.SetURL(e.OnlineURL)
	}
	ev.SetDescription(strings.Join(desc, "\n\n"))
	switch {
	case e.Location != "":
		ev.SetLocation(clean(e.Location))
	case e.OnlineURL != "":
		ev.SetLocation(e.OnlineURL)
	}
	return cal.Serialize(ics.WithNewLineWindows)
}

// clean makes line ends LF (TEXT escapes LF as \n; a bare CR would end the content line) and
// drops other control characters, which TEXT does not allow.
func clean(s string) string {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
