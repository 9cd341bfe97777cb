package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// widgets is a dashboard's progress and quick access as key → [value, weeklyDelta] and key →
// count.
func widgets(t *testing.T, d map[string]any) (map[string][2]float64, map[string]float64) {
	t.Helper()
	progress := map[string][2]float64{}
	for _, w := range d["progress"].([]any) {
		m := w.(map[string]any)
		progress[m["key"].(string)] = [2]float64{m["value"].(float64), m["weeklyDelta"].(float64)}
	}
	access := map[string]float64{}
	for _, w := range d["quickAccess"].([]any) {
		m := w.(map[string]any)
		access[m["key"].(string)] = m["count"].(float64)
	}
	return progress, access
}

// settled waits until the dashboard's subscriber has applied every event in the log.
func settled(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var behind int
		err := conn.QueryRow(context.Background(), `SELECT count(*) FROM domain_events e, domain_event_cursors c
			WHERE c.subscriber = 'dashboard' AND (e.txid, e.id) > (c.txid, c.id)`).Scan(&behind)
		require.NoError(t, err)
		if behind == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the dashboard's subscriber is %d events behind", behind)
		time.Sleep(100 * time.Millisecond)
	}
}

// counters reads every counter as "scope/id/metric/day" → n, zeros left out, and the active
// days and months.
func counters(t *testing.T, conn *pgx.Conn) map[string]int64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), `
		SELECT scope || '/' || scope_id || '/' || metric || '/' || day, n FROM dashboard_counts WHERE n <> 0
		UNION ALL SELECT 'active/' || organization_id || '/' || user_id || '/' || day, actions FROM dashboard_active_days
		UNION ALL SELECT 'month/' || user_id || '/' || month, actions FROM dashboard_month_actions`)
	require.NoError(t, err)
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		require.NoError(t, rows.Scan(&k, &n))
		out[k] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// rebuild runs `p2p stats rebuild` against the server's database and Redis.
func rebuild(t *testing.T, env *harness.Env) {
	t.Helper()
	cmd := env.Run(t, []string{"stats", "rebuild"}, "")
	require.NoError(t, cmd.Exited(t, 60*time.Second), cmd.Logs())
	assert.Contains(t, cmd.Logs(), "counters")
	t.Log(cmd.Logs())
}

// TestDashboard: a scripted stretch of activity by three people in two organizations gives the
// widgets, weekly deltas, quick access counts, month ranking and organization block it should;
// the cache answers until an event changes a counter; counters kept from events equal a full
// recount, after concurrent activity and after `p2p stats rebuild` run in the middle of it.
func TestDashboard(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t, "P2P_FORUM_POSTS_PER_MINUTE=1000") // the concurrent part posts fast
	conn := db(t, env)
	amal := seed.Verified(t, env, srv, "dash-amal")
	badr := seed.Invite(t, env, srv, amal, "dash-badr", "member")
	carol := seed.Verified(t, env, srv, "dash-carol")

	post := func(c seed.Account, title, kind string) string {
		res := c.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": title, "kind": kind,
			"category": "Maintenance", "content": "How do you plan this on your lines?"})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		return res.JSON()["id"].(string)
	}
	reply := func(c seed.Account, topic string) string {
		res := c.Do(http.MethodPost, "/api/v1/forum/topics/"+topic+"/replies", map[string]any{"content": "We log it per shift."})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		return res.JSON()["id"].(string)
	}
	ok := func(res *harness.Response) {
		t.Helper()
		require.Less(t, res.Status, 300, res.String())
	}

	q1, q2 := post(amal, "Which vibration sensors for pumps?", "question"), post(amal, "How often do you recalibrate?", "question")
	gone := post(amal, "A question asked by mistake", "question")
	post(amal, "Shift handover notes", "discussion")
	a1, a2 := reply(badr, q1), reply(badr, q2)
	c1 := reply(carol, q1)
	ok(amal.Do(http.MethodPut, "/api/v1/forum/topics/"+q1+"/best-answer", map[string]any{"replyId": c1}))
	ok(amal.Do(http.MethodPut, "/api/v1/forum/topics/"+q1+"/best-answer", map[string]any{"replyId": a1})) // moved to badr
	ok(carol.Do(http.MethodPut, "/api/v1/forum/topics/"+q1+"/like", nil))
	ok(badr.Do(http.MethodPut, "/api/v1/forum/topics/"+q1+"/like", nil))
	ok(carol.Do(http.MethodPut, "/api/v1/forum/replies/"+a2+"/like", nil))
	ok(carol.Do(http.MethodPut, "/api/v1/forum/replies/"+a2+"/like", nil)) // liking twice is liking once
	ok(amal.Do(http.MethodPut, "/api/v1/forum/topics/"+q2+"/bookmark", nil))
	ok(amal.Do(http.MethodPut, "/api/v1/forum/topics/"+gone+"/bookmark", nil))
	ok(amal.Do(http.MethodDelete, "/api/v1/forum/topics/"+gone+"/bookmark", nil))
	ok(amal.Do(http.MethodDelete, "/api/v1/forum/topics/"+gone, nil))
	ok(amal.Do(http.MethodPut, "/api/v1/people/"+badr.ID+"/follow", nil))
	res := amal.Do(http.MethodPost, "/api/v1/use-cases", map[string]any{"title": "A draft I keep"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	res = amal.Do(http.MethodPost, "/api/v1/use-cases", completeUseCase(t))
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	ok(amal.Do(http.MethodPost, "/api/v1/use-cases/"+res.JSON()["id"].(string)+"/submit", nil, `If-Match: "1"`))
	settled(t, conn)

	res = amal.Do(http.MethodGet, "/api/v1/dashboard?period=7d", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	d := res.JSON()
	progress, access := widgets(t, d)
	assert.Equal(t, map[string][2]float64{"questions": {2, 2}, "answers": {0, 0}, "saved": {1, 1}, "reputation": {20, 20}}, progress,
		"two live questions (one of three removed), one bookmark of two standing, two likes of q1")
	assert.Equal(t, map[string]float64{"saved": 1, "connections": 1, "drafts": 1}, access)
	org := d["organization"].(map[string]any)
	assert.Equal(t, map[string]any{"total": 2.0, "active": 2.0, "new": 2.0}, org["users"])
	assert.Equal(t, map[string]any{"topics": 3.0, "posts": 5.0, "topicsThisWeek": 3.0, "engagementRate": 100.0}, org["forum"],
		"four topics less one removed; two replies by badr")
	assert.Equal(t, 1.0, org["useCases"].(map[string]any)["submissions"])
	month := d["thisMonth"].(map[string]any)
	assert.Equal(t, 5.0, month["contributions"], "four topics and a submission")
	assert.Equal(t, 3.0, month["activeUsers"])
	assert.Equal(t, 66.0, month["activityLevel"], "badr (2) and carol (1) contributed less")
	assert.Equal(t, 34.0, month["topPercent"])
	assert.Equal(t, "You're in the top 34%", month["summary"])

	res = badr.Do(http.MethodGet, "/api/v1/dashboard", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	progress, _ = widgets(t, res.JSON())
	assert.Equal(t, [2]float64{2, 2}, progress["answers"])
	assert.Equal(t, [2]float64{25, 25}, progress["reputation"], "a best answer (15) and one like of a2 (10), liked twice")
	res = carol.Do(http.MethodGet, "/api/v1/dashboard?period=all", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	progress, _ = widgets(t, res.JSON())
	assert.Equal(t, [2]float64{0, 0}, progress["reputation"], "the best answer moved away from carol")
	assert.Equal(t, map[string]any{"total": 1.0, "active": 1.0, "new": 1.0}, res.JSON()["organization"].(map[string]any)["users"])

	// Cached until an event changes a counter of the dashboard.
	first := amal.Do(http.MethodGet, "/api/v1/dashboard?period=7d", nil).JSON()["generatedAt"]
	assert.Equal(t, first, amal.Do(http.MethodGet, "/api/v1/dashboard?period=7d", nil).JSON()["generatedAt"], "a second read is the cached one")
	ok(badr.Do(http.MethodPut, "/api/v1/forum/replies/"+c1+"/like", nil)) // carol's counter, not amal's
	ok(carol.Do(http.MethodPut, "/api/v1/forum/topics/"+q2+"/like", nil))
	settled(t, conn)
	res = amal.Do(http.MethodGet, "/api/v1/dashboard?period=7d", nil)
	progress, _ = widgets(t, res.JSON())
	assert.Equal(t, [2]float64{30, 30}, progress["reputation"])
	assert.NotEqual(t, first, res.JSON()["generatedAt"])

	// Upcoming events, read live: the organization's own reach its members only.
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)
	res = amal.Do(http.MethodPost, "/api/v1/events", map[string]any{"scope": "organization", "title": "Pump clinic",
		"titleAr": "عيادة المضخات", "startsAt": start.Format(time.RFC3339), "endsAt": start.Add(time.Hour).Format(time.RFC3339),
		"timeZone": "Asia/Riyadh", "onlineUrl": "https://meet.example/pumps"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	event := res.JSON()["id"].(string)
	upcoming := badr.Do(http.MethodGet, "/api/v1/dashboard", nil).JSON()["upcomingEvents"].([]any)
	require.Len(t, upcoming, 1)
	assert.Equal(t, map[string]any{"id": event, "title": "Pump clinic", "titleAr": "عيادة المضخات", "date": start.Format(time.RFC3339),
		"location": "Online", "online": true, "attendingByMe": false, "link": "/events/" + event}, upcoming[0])
	assert.Empty(t, carol.Do(http.MethodGet, "/api/v1/dashboard", nil).JSON()["upcomingEvents"], "another organization's event")

	// Hostile input.
	res = amal.Do(http.MethodGet, "/api/v1/dashboard?period=365d", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, res.String())
	anon := srv.Client(t)
	assert.Equal(t, http.StatusUnauthorized, anon.Do(http.MethodGet, "/api/v1/dashboard", nil).Status)

	// Counters kept from events equal a full recount.
	fromEvents := counters(t, conn)
	rebuild(t, env)
	assert.Equal(t, fromEvents, counters(t, conn), "the events' counters and the recount differ")

	// Concurrent activity, with a rebuild in the middle of it: each change counts once. Everyone
	// keeps going until the rebuild has finished, and a little after.
	var (
		wg      sync.WaitGroup
		rebuilt atomic.Bool
		rounds  [3]int
	)
	people := []seed.Account{amal, badr, carol}
	for i, c := range people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for after := 0; after < 3; rounds[i]++ {
				if rebuilt.Load() {
					after++
				}
				topic := post(c, fmt.Sprintf("Concurrent question %d from %d", rounds[i], i), "question")
				other := people[(i+1)%len(people)]
				reply(other, topic)
				ok(other.Do(http.MethodPut, "/api/v1/forum/topics/"+topic+"/like", nil))
				ok(other.Do(http.MethodPut, "/api/v1/forum/topics/"+topic+"/bookmark", nil))
				if rounds[i]%3 == 0 {
					ok(c.Do(http.MethodDelete, "/api/v1/forum/topics/"+topic, nil))
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	rebuild(t, env)
	rebuilt.Store(true)
	wg.Wait()
	settled(t, conn)
	afterEvents := counters(t, conn)
	rebuild(t, env)
	assert.Equal(t, afterEvents, counters(t, conn), "a rebuild during activity counted a change twice or missed one")
	res = badr.Do(http.MethodGet, "/api/v1/dashboard", nil)
	progress, _ = widgets(t, res.JSON())
	n := float64(2 + rounds[0])
	assert.Equal(t, [2]float64{n, n}, progress["answers"], "badr answered each of amal's concurrent questions")
}
