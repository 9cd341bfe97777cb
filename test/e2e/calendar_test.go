package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestEventsJourney: a moderator's platform event and an organization admin's event, over HTTP
// and against the document: who may create which, hostile inputs (bad zones, end before start,
// NUL bytes, wrong types), another organization's event answering 404 everywhere, the upcoming
// list with its window and cursor, edits by the creator or a moderator only, attendance
// (idempotent, leave), 50 concurrent joins of an event of 10 (exactly 10 attend, the rest 409
// in English or Arabic), and the .ics parsed back.
func TestEventsJourney(t *testing.T) {
	env := harness.NewEnv(t)
	modEmail := harness.UniqueEmail("ev-mod")
	srv := env.Start(t, "P2P_AUTH_MODERATORS="+modEmail)
	mod := seed.Account{Client: srv.Client(t), Email: modEmail}
	mod.SignUp(harness.SignUpFields(modEmail))
	admin := seed.Founder(t, srv, "ev-admin")
	member := seed.Invite(t, env, srv, admin, "ev-member", "member")
	alien := seed.Founder(t, srv, "ev-alien")

	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute)
	body := func(scope string, capacity any) map[string]any {
		return map[string]any{"scope": scope, "title": "Predictive maintenance clinic", "titleAr": "عيادة الصيانة التنبؤية",
			"description": "Bring **questions** <script>alert(1)</script>", "startsAt": start.Format(time.RFC3339),
			"endsAt": start.Add(2 * time.Hour).Format(time.RFC3339), "timeZone": "Asia/Riyadh",
			"onlineUrl": "https://meet.example/clinic", "location": "Riyadh, Hall B", "capacity": capacity}
	}

	// Who may create which.
	assert.Equal(t, http.StatusForbidden, member.Do(http.MethodPost, "/api/v1/events", body("organization", nil)).Status)
	assert.Equal(t, http.StatusForbidden, admin.Do(http.MethodPost, "/api/v1/events", body("platform", nil)).Status)
	res := admin.Do(http.MethodPost, "/api/v1/events", body("organization", 5))
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	orgEvent := res.JSON()
	orgID := orgEvent["id"].(string)
	assert.Equal(t, "/api/v1/events/"+orgID, res.Header.Get("Location"))
	assert.NotContains(t, orgEvent["descriptionHtml"], "<script")
	assert.Contains(t, orgEvent["descriptionHtml"], "<strong>questions</strong>")
	res = mod.Do(http.MethodPost, "/api/v1/events", body("platform", 10))
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	platID := res.JSON()["id"].(string)

	// Hostile inputs.
	for name, mut := range map[string]func(map[string]any){
		"unknown zone":       func(b map[string]any) { b["timeZone"] = "Mars/Olympus" },
		"zone path":          func(b map[string]any) { b["timeZone"] = "../../../etc/passwd" },
		"end before start":   func(b map[string]any) { b["endsAt"] = start.Add(-time.Hour).Format(time.RFC3339) },
		"start in the past":  func(b map[string]any) { b["startsAt"] = "2020-01-01T10:00:00Z" },
		"not a time":         func(b map[string]any) { b["startsAt"] = "next tuesday" },
		"script link":        func(b map[string]any) { b["onlineUrl"] = "javascript:alert(1)" },
		"no place":           func(b map[string]any) { b["onlineUrl"], b["location"] = "", "" },
		"zero capacity":      func(b map[string]any) { b["capacity"] = 0 },
		"short title":        func(b map[string]any) { b["title"] = "ab" },
		"missing title ar":   func(b map[string]any) { delete(b, "titleAr") },
		"unknown scope":      func(b map[string]any) { b["scope"] = "galaxy" },
		"too long":           func(b map[string]any) { b["endsAt"] = start.Add(40 * 24 * time.Hour).Format(time.RFC3339) },
		"huge capacity":      func(b map[string]any) { b["capacity"] = 1_000_000 },
		"oversized describe": func(b map[string]any) { b["description"] = strings.Repeat("x", 20_001) },
	} {
		b := body("organization", nil)
		mut(b)
		res := admin.Do(http.MethodPost, "/api/v1/events", b, "Accept-Language: ar")
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, name+": "+res.String())
	}
	res = admin.Do(http.MethodPost, "/api/v1/events", map[string]any{"scope": "organization", "title": "x", "timeZone": "Asia/Riyadh",
		"startsAt": "2026-12-10T18:00", "endsAt": "2026-12-10T17:00", "titleAr": "abc", "location": "x"}, "Accept-Language: ar")
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	assert.Contains(t, res.String(), "يجب أن يكون بعد وقت البدء", "messages follow Accept-Language")
	for name, raw := range map[string]string{
		"NUL in title":   `{"scope":"organization","title":"Clinic\u0000","titleAr":"عيادة","startsAt":"2030-01-01T10:00:00Z","endsAt":"2030-01-01T11:00:00Z","timeZone":"Asia/Riyadh","location":"x"}`,
		"wrong type":     `{"scope":"organization","title":"Clinic","titleAr":"عيادة","startsAt":"2030-01-01T10:00:00Z","endsAt":"2030-01-01T11:00:00Z","timeZone":"Asia/Riyadh","location":"x","capacity":"ten"}`,
		"unknown member": `{"scope":"organization","title":"Clinic","titleAr":"عيادة","startsAt":"2030-01-01T10:00:00Z","endsAt":"2030-01-01T11:00:00Z","timeZone":"Asia/Riyadh","location":"x","admin":true}`,
		"not JSON":       `{"scope":`,
	} {
		res := admin.Do(http.MethodPost, "/api/v1/events", raw)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.Status, name+": "+res.String())
	}
	assert.Equal(t, http.StatusUnsupportedMediaType, admin.Do(http.MethodPost, "/api/v1/events", "x", "Content-Type: text/plain").Status)

	// Another organization's event is not there, whatever is asked of it.
	for _, try := range []struct{ method, path string }{
		{http.MethodGet, "/api/v1/events/" + orgID}, {http.MethodGet, "/api/v1/events/" + orgID + ".ics"},
		{http.MethodPatch, "/api/v1/events/" + orgID}, {http.MethodDelete, "/api/v1/events/" + orgID},
		{http.MethodPut, "/api/v1/events/" + orgID + "/attendance"}, {http.MethodDelete, "/api/v1/events/" + orgID + "/attendance"},
		{http.MethodGet, "/api/v1/events/not-a-uuid"}, {http.MethodGet, "/api/v1/events/00000000-0000-4000-8000-000000000000"},
	} {
		var b any
		if try.method == http.MethodPatch {
			b = map[string]any{"title": "Taken over"}
		}
		res := alien.Do(try.method, try.path, b)
		assert.Equal(t, http.StatusNotFound, res.Status, try.method+" "+try.path+": "+res.String())
	}

	// The upcoming list: the member sees both, the outsider the platform event only.
	listIDs := func(c *harness.Client, q string) []string {
		t.Helper()
		var out []string
		path := "/api/v1/events?limit=1" + q
		for range 10 {
			res := c.Do(http.MethodGet, path, nil)
			require.Equal(t, http.StatusOK, res.Status, res.String())
			for _, it := range res.JSON()["items"].([]any) {
				out = append(out, it.(map[string]any)["id"].(string))
			}
			next, ok := res.JSON()["nextCursor"].(string)
			if !ok {
				return out
			}
			path = "/api/v1/events?limit=1&cursor=" + next + q
		}
		t.Fatal("the list did not end")
		return nil
	}
	assert.ElementsMatch(t, []string{orgID, platID}, listIDs(member.Client, ""))
	assert.Equal(t, []string{platID}, listIDs(alien.Client, ""))
	assert.Empty(t, listIDs(member.Client, "&from="+start.Add(3*time.Hour).Format(time.RFC3339)))
	for _, q := range []string{"from=yesterday", "to=2020-01-01T00:00:00Z", "limit=-1", "limit=101", "limit=x", "cursor=%00"} {
		res := member.Do(http.MethodGet, "/api/v1/events?"+q, nil)
		assert.Equal(t, http.StatusUnprocessableEntity, res.Status, q+": "+res.String())
	}
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/events", nil).Status)

	// Edits: the creator or a moderator; a member of the organization may not.
	assert.Equal(t, http.StatusForbidden, member.Do(http.MethodPatch, "/api/v1/events/"+orgID, map[string]any{"title": "Mine now"}).Status)
	res = admin.Do(http.MethodPatch, "/api/v1/events/"+orgID, map[string]any{"title": "Clinic, revised", "capacity": nil})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "Clinic, revised", res.JSON()["title"])
	assert.Nil(t, res.JSON()["capacity"])
	res = admin.Do(http.MethodPatch, "/api/v1/events/"+orgID, map[string]any{"endsAt": start.Add(-time.Hour).Format(time.RFC3339)})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	res = mod.Do(http.MethodPatch, "/api/v1/events/"+platID, map[string]any{"location": "Jeddah, Hall A"})
	require.Equal(t, http.StatusOK, res.Status, res.String())

	// Attendance: idempotent, and leaving.
	for range 2 {
		res = member.Do(http.MethodPut, "/api/v1/events/"+orgID+"/attendance", nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		assert.Equal(t, map[string]any{"attendeesCount": 1.0, "attendingByMe": true}, res.JSON())
	}
	assert.Equal(t, true, member.Do(http.MethodGet, "/api/v1/events/"+orgID, nil).JSON()["attendingByMe"])
	res = member.Do(http.MethodDelete, "/api/v1/events/"+orgID+"/attendance", nil)
	assert.Equal(t, map[string]any{"attendeesCount": 0.0, "attendingByMe": false}, res.JSON())

	// 50 at once for 10 seats.
	joiners := make([]seed.Account, 50)
	for i := range joiners {
		joiners[i] = seed.Founder(t, srv, fmt.Sprintf("ev-j%02d", i))
	}
	statuses := make([]int, len(joiners))
	bodies := make([]string, len(joiners))
	var wg sync.WaitGroup
	for i, j := range joiners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lang := "en"
			if i%2 == 1 {
				lang = "ar"
			}
			res := j.Do(http.MethodPut, "/api/v1/events/"+platID+"/attendance", nil, "Accept-Language: "+lang)
			statuses[i], bodies[i] = res.Status, string(res.Body)
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for i, s := range statuses {
		count[s]++
		if s == http.StatusConflict {
			want := "the event is full"
			if i%2 == 1 {
				want = "الفعالية مكتملة العدد"
			}
			assert.Contains(t, bodies[i], want)
			assert.Contains(t, bodies[i], `"code":"conflict"`)
		}
	}
	assert.Equal(t, map[int]int{http.StatusOK: 10, http.StatusConflict: 40}, count)
	assert.EqualValues(t, 10, mod.Do(http.MethodGet, "/api/v1/events/"+platID, nil).JSON()["attendeesCount"])

	// The .ics, parsed back.
	res = alien.Do(http.MethodGet, "/api/v1/events/"+platID+".ics?lang=ar", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Equal(t, "text/calendar; charset=utf-8", res.Header.Get("Content-Type"))
	text := string(res.Body)
	assert.NotContains(t, strings.ReplaceAll(text, "\r\n", ""), "\n", "CRLF line ends")
	for _, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		assert.LessOrEqual(t, len(line), 75, line)
	}
	cal, err := ics.ParseCalendar(bytes.NewReader(res.Body))
	require.NoError(t, err)
	require.Len(t, cal.Events(), 1)
	ev := cal.Events()[0]
	assert.True(t, strings.HasPrefix(ev.Id(), platID+"@"))
	st, err := ev.GetStartAt()
	require.NoError(t, err)
	assert.True(t, st.Equal(start), "%v", st)
	assert.Equal(t, "عيادة الصيانة التنبؤية", ev.GetProperty(ics.ComponentPropertySummary).Value)
	assert.Equal(t, "Jeddah, Hall A", ics.FromText(ev.GetProperty(ics.ComponentPropertyLocation).Value))
	assert.NotNil(t, ev.GetProperty(ics.ComponentPropertyDtstamp))

	// Deletion: a member may not; the creator may, and then it is gone.
	assert.Equal(t, http.StatusForbidden, member.Do(http.MethodDelete, "/api/v1/events/"+orgID, nil).Status)
	assert.Equal(t, http.StatusNoContent, admin.Do(http.MethodDelete, "/api/v1/events/"+orgID, nil).Status)
	assert.Equal(t, http.StatusNotFound, member.Do(http.MethodGet, "/api/v1/events/"+orgID, nil).Status)
	assert.Equal(t, http.StatusNoContent, mod.Do(http.MethodDelete, "/api/v1/events/"+platID, nil).Status, "moderators delete anyone's")
}
