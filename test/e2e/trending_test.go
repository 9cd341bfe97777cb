package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/platform/redis/redistest"
	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

// TestTrending: topics replied to and liked are ranked by the worker's job (asked for through
// its queue, as the scheduler does) and served overall and per category in the documented
// shape; hostile parameters answer 4xx.
func TestTrending(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	amal, badr := seed.Verified(t, env, srv, "tr-amal"), seed.Verified(t, env, srv, "tr-badr")

	post := func(title, category string) string {
		res := amal.Do(http.MethodPost, "/api/v1/forum/topics", map[string]any{"title": title, "kind": "question",
			"category": category, "content": "Which ones hold up on a dusty line?"})
		require.Equal(t, http.StatusCreated, res.Status, res.String())
		return res.JSON()["id"].(string)
	}
	hot := post("Which vibration sensors last longest?", "Automation")
	calm := post("Spare parts stock levels for pumps", "Maintenance")
	for _, reply := range []string{"SKF ones on our side.", "Wired beats wireless in dust."} {
		require.Equal(t, http.StatusCreated, badr.Do(http.MethodPost, "/api/v1/forum/topics/"+hot+"/replies", map[string]any{"content": reply}).Status)
	}
	require.Equal(t, http.StatusOK, badr.Do(http.MethodPut, "/api/v1/forum/topics/"+hot+"/like", nil).Status)

	ranked := func(query string) []map[string]any {
		res := badr.Do(http.MethodGet, "/api/v1/trending?"+query, nil)
		require.Equal(t, http.StatusOK, res.Status, res.String())
		return items(t, res)
	}
	// The first run at start saw nothing yet; ask for another, as the scheduler would.
	rdb, _ := redistest.New(t)
	client := asynq.NewClientFromRedisClient(rdb)
	_, err := client.Enqueue(asynq.NewTask("trending:compute", nil), asynq.Queue(env.Queue()))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(ranked("kind=topics&window=24h")) == 2 }, 20*time.Second, 200*time.Millisecond)

	top := ranked("kind=topics&window=24h")
	assert.Equal(t, hot, top[0]["id"])
	assert.Equal(t, calm, top[1]["id"])
	assert.EqualValues(t, 2, top[0]["replies"])
	assert.EqualValues(t, 1, top[0]["likes"])
	assert.Equal(t, "Automation", top[0]["category"])
	assert.Equal(t, "/forum/topics/"+hot, top[0]["link"])
	assert.Greater(t, top[0]["score"].(float64), top[1]["score"].(float64))
	for _, q := range []string{"kind=topics&window=24h&category=maintenance", "kind=topics&category=Maintenance", "kind=topics&window=30d&category=maintenance&limit=1"} {
		got := ranked(q)
		require.Len(t, got, 1, q)
		assert.Equal(t, calm, got[0]["id"], q)
	}
	assert.Len(t, ranked("kind=topics&window=7d&limit=1"), 1)
	assert.Empty(t, ranked("kind=use-cases&window=30d"), "nothing published")
	res := badr.Do(http.MethodGet, "/api/v1/trending?kind=topics", nil)
	assert.Equal(t, "7d", res.JSON()["window"])

	for _, bad := range []string{"", "kind=people", "kind=topics&window=1y", "kind=topics&limit=0x", "kind=topics&limit=101",
		"kind=topics&category=%00", "kind=topics&category=%ff", "kind=topics&category=" + strings.Repeat("a", 101)} {
		res := badr.Do(http.MethodGet, "/api/v1/trending?"+bad, nil)
		assert.True(t, res.Status == http.StatusBadRequest || res.Status == http.StatusUnprocessableEntity, bad+": "+res.String())
	}
	assert.Equal(t, http.StatusUnauthorized, srv.Client(t).Do(http.MethodGet, "/api/v1/trending?kind=topics", nil).Status)
}
