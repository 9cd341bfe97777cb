package e2e

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/p2psandbox/hub/test/harness"
	"github.com/p2psandbox/hub/test/seed"
)

func items(t *testing.T, res *harness.Response) []map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, res.Status, res.String())
	var out []map[string]any
	for _, it := range res.JSON()["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func TestDirectMessages(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	amal, badr := seed.Verified(t, env, srv, "amal"), seed.Verified(t, env, srv, "badr")
	outsider := seed.Verified(t, env, srv, "omar")

	res := amal.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{badr.ID}})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	conv := res.JSON()
	id := conv["id"].(string)
	assert.Equal(t, "direct", conv["kind"])
	assert.Len(t, conv["participants"].([]any), 2)

	// One conversation per pair, whoever starts it.
	res = amal.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{badr.ID}})
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, id, res.JSON()["id"])
	res = badr.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{amal.ID, amal.ID}})
	assert.Equal(t, id, res.JSON()["id"])

	// A retried send (same Idempotency-Key) makes one message.
	path := "/api/v1/conversations/" + id + "/messages"
	first := amal.Do(http.MethodPost, path, map[string]any{"content": "Salam Badr, how are the sensors?"}, "Idempotency-Key: retry-1")
	require.Equal(t, http.StatusCreated, first.Status, first.String())
	again := amal.Do(http.MethodPost, path, map[string]any{"content": "Salam Badr, how are the sensors?"}, "Idempotency-Key: retry-1")
	assert.Equal(t, http.StatusOK, again.Status)
	assert.Equal(t, first.JSON()["id"], again.JSON()["id"])
	assert.EqualValues(t, 1, first.JSON()["seq"])
	for i := 2; i <= 5; i++ {
		res := amal.Do(http.MethodPost, path, map[string]any{"content": fmt.Sprintf("message %d", i), "clientId": fmt.Sprintf("c-%d", i)})
		require.Equal(t, http.StatusCreated, res.Status)
		assert.EqualValues(t, i, res.JSON()["seq"])
	}
	reply := badr.Do(http.MethodPost, path, map[string]any{"content": "All good", "replyTo": first.JSON()["id"]})
	require.Equal(t, http.StatusCreated, reply.Status, reply.String())
	assert.Equal(t, first.JSON()["id"], reply.JSON()["replyTo"])

	// History: newest first, in pages, and forwards from a seq for catching up.
	res = badr.Do(http.MethodGet, path+"?limit=4", nil)
	require.Equal(t, http.StatusOK, res.Status)
	h := res.JSON()
	var seqs []float64
	for _, m := range h["items"].([]any) {
		seqs = append(seqs, m.(map[string]any)["seq"].(float64))
	}
	assert.Equal(t, []float64{6, 5, 4, 3}, seqs)
	assert.EqualValues(t, 6, h["lastSeq"])
	res = badr.Do(http.MethodGet, fmt.Sprintf("%s?limit=4&before=%v", path, h["nextBefore"]), nil)
	assert.Len(t, res.JSON()["items"], 2)
	assert.Nil(t, res.JSON()["nextBefore"])
	res = badr.Do(http.MethodGet, path+"?after=4", nil)
	assert.Len(t, res.JSON()["items"], 2)
	assert.EqualValues(t, 5, res.JSON()["items"].([]any)[0].(map[string]any)["seq"])

	// Unread counts: a reply marks everything before it read by its sender.
	list := items(t, amal.Do(http.MethodGet, "/api/v1/conversations", nil))
	require.Len(t, list, 1)
	assert.EqualValues(t, 1, list[0]["unreadCount"], "Badr's reply")
	assert.Equal(t, "All good", list[0]["lastMessage"].(map[string]any)["text"])
	assert.EqualValues(t, 0, items(t, badr.Do(http.MethodGet, "/api/v1/conversations", nil))[0]["unreadCount"], "his own reply read the rest")
	res = amal.Do(http.MethodPost, path, map[string]any{"content": "One more"})
	require.Equal(t, http.StatusCreated, res.Status)
	list = items(t, badr.Do(http.MethodGet, "/api/v1/conversations", nil))
	assert.EqualValues(t, 1, list[0]["unreadCount"])
	assert.EqualValues(t, 1, badr.Do(http.MethodGet, "/api/v1/conversations/unread", nil).JSON()["totalUnread"])
	res = badr.Do(http.MethodPost, "/api/v1/conversations/"+id+"/read", nil)
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.EqualValues(t, 7, res.JSON()["readSeq"])
	assert.EqualValues(t, 0, badr.Do(http.MethodGet, "/api/v1/conversations/unread", nil).JSON()["totalUnread"])
	res = badr.Do(http.MethodPost, "/api/v1/conversations/"+id+"/read", map[string]any{"seq": 3})
	assert.EqualValues(t, 7, res.JSON()["readSeq"], "read state never goes back")

	// Edits and deletions are the sender's; a deleted message stays as a tombstone.
	mid := first.JSON()["id"].(string)
	res = badr.Do(http.MethodPatch, path+"/"+mid, map[string]any{"content": "hijacked"})
	assert.Equal(t, http.StatusForbidden, res.Status)
	res = amal.Do(http.MethodPatch, path+"/"+mid, map[string]any{"content": "Salam Badr, how are the new sensors?"})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.NotNil(t, res.JSON()["editedAt"])
	res = amal.Do(http.MethodDelete, path+"/"+mid, nil)
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, true, res.JSON()["deleted"])
	assert.Equal(t, "", res.JSON()["content"])
	assert.Equal(t, http.StatusGone, amal.Do(http.MethodPatch, path+"/"+mid, map[string]any{"content": "back"}).Status)

	// Bad input.
	for _, body := range []map[string]any{
		{"content": ""}, {"content": strings.Repeat("x", 10_001)}, {"content": "a\u0000b"},
		{"content": "x", "clientId": "has spaces"}, {"content": "x", "replyTo": "nope"},
	} {
		assert.Equal(t, http.StatusUnprocessableEntity, amal.Do(http.MethodPost, path, body).Status, "%v", body)
	}
	res = amal.Do(http.MethodPost, path, map[string]any{"content": "x", "replyTo": "00000000-0000-7000-8000-000000000000"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "a reply to a message elsewhere")
	assert.Equal(t, http.StatusBadRequest, amal.Do(http.MethodPost, path, `{"content": "x", "urgent": true}`).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, amal.Do(http.MethodGet, path+"?before=-1", nil).Status)

	// Someone else sees nothing of it, whatever they try.
	for _, req := range []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/api/v1/conversations/" + id, nil},
		{http.MethodGet, path, nil},
		{http.MethodPost, path, map[string]any{"content": "let me in"}},
		{http.MethodPost, "/api/v1/conversations/" + id + "/read", nil},
		{http.MethodPatch, "/api/v1/conversations/" + id, map[string]any{"muted": true}},
		{http.MethodDelete, path + "/" + reply.JSON()["id"].(string), nil},
	} {
		res := outsider.Do(req.method, req.path, req.body)
		assert.Equal(t, http.StatusNotFound, res.Status, "%s %s: %s", req.method, req.path, res)
	}
	assert.Empty(t, items(t, outsider.Do(http.MethodGet, "/api/v1/conversations", nil)))
}

func TestMessagingNeedsAConfirmedAddress(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	peer := seed.Verified(t, env, srv, "peer")
	fresh := seed.Founder(t, srv, "fresh")
	res := fresh.Client.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{peer.ID}})
	assert.Equal(t, http.StatusForbidden, res.Status)
	assert.Contains(t, res.JSON()["detail"], "confirm your email")
}

func TestGroups(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	lead := seed.Verified(t, env, srv, "lead")
	var others []seed.Account
	for i := range 10 {
		others = append(others, seed.Verified(t, env, srv, fmt.Sprintf("member%d", i)))
	}
	ids := func(ps []seed.Account) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}

	res := lead.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": ids(others), "title": "Too many"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "11 with the creator")
	res = lead.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": ids(others[:3])})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "a group needs a title")

	res = lead.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": ids(others[:8]), "title": "Line 3 retrofit"})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	g := res.JSON()
	gid := g["id"].(string)
	assert.Equal(t, "group", g["kind"])
	assert.Equal(t, "admin", g["role"])
	assert.Len(t, g["participants"].([]any), 9)
	path := "/api/v1/conversations/" + gid

	require.Equal(t, http.StatusCreated, others[0].Do(http.MethodPost, path+"/messages", map[string]any{"content": "before the newcomer"}).Status)

	// Only admins manage the group; it never passes ten.
	assert.Equal(t, http.StatusForbidden, others[0].Do(http.MethodPost, path+"/participants", map[string]any{"userIds": []string{others[8].ID}}).Status)
	assert.Equal(t, http.StatusForbidden, others[0].Do(http.MethodPatch, path, map[string]any{"title": "Mine"}).Status)
	res = lead.Do(http.MethodPost, path+"/participants", map[string]any{"userIds": []string{others[8].ID}})
	require.Equal(t, http.StatusOK, res.Status, res.String())
	assert.Len(t, res.JSON()["participants"].([]any), 10)
	assert.Equal(t, http.StatusConflict, lead.Do(http.MethodPost, path+"/participants", map[string]any{"userIds": []string{others[9].ID}}).Status)

	// A newcomer reads from their arrival on.
	h := others[8].Do(http.MethodGet, path+"/messages", nil).JSON()
	assert.Empty(t, h["items"])
	assert.EqualValues(t, 0, items(t, others[8].Do(http.MethodGet, "/api/v1/conversations", nil))[0]["unreadCount"])

	// Removal and leaving; the group keeps an admin.
	assert.Equal(t, http.StatusNoContent, lead.Do(http.MethodDelete, path+"/participants/"+others[1].ID, nil).Status)
	assert.Equal(t, http.StatusNotFound, others[1].Do(http.MethodGet, path, nil).Status)
	assert.Equal(t, http.StatusForbidden, others[2].Do(http.MethodDelete, path+"/participants/"+others[3].ID, nil).Status)
	assert.Equal(t, http.StatusNoContent, others[2].Do(http.MethodDelete, path+"/participants/"+others[2].ID, nil).Status, "anyone may leave")
	assert.Equal(t, http.StatusNoContent, lead.Do(http.MethodDelete, path+"/participants/"+lead.ID, nil).Status)
	res = others[0].Do(http.MethodGet, path, nil)
	assert.Equal(t, "admin", res.JSON()["role"], "the longest-standing member took over")
	res = others[0].Do(http.MethodPatch, path, map[string]any{"title": "Line 3 retrofit (phase 2)"})
	assert.Equal(t, "Line 3 retrofit (phase 2)", res.JSON()["title"])

	// Archive and mute are one's own.
	res = others[3].Do(http.MethodPatch, path, map[string]any{"archived": true, "muted": true})
	require.Equal(t, http.StatusOK, res.Status)
	assert.Equal(t, true, res.JSON()["archived"])
	assert.Empty(t, items(t, others[3].Do(http.MethodGet, "/api/v1/conversations", nil)))
	assert.Len(t, items(t, others[3].Do(http.MethodGet, "/api/v1/conversations?archived=true", nil)), 1)
	assert.Equal(t, false, others[4].Do(http.MethodGet, path, nil).JSON()["archived"])
	require.Equal(t, http.StatusCreated, others[0].Do(http.MethodPost, path+"/messages", map[string]any{"content": "after"}).Status)
	assert.EqualValues(t, 0, others[3].Do(http.MethodGet, "/api/v1/conversations/unread", nil).JSON()["totalUnread"], "muted and archived do not count")
	assert.EqualValues(t, 2, others[4].Do(http.MethodGet, "/api/v1/conversations/unread", nil).JSON()["totalUnread"])
}

func TestBlocks(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	a, b := seed.Verified(t, env, srv, "ana"), seed.Verified(t, env, srv, "bilal")
	res := a.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{b.ID}})
	require.Equal(t, http.StatusCreated, res.Status)
	path := "/api/v1/conversations/" + res.JSON()["id"].(string) + "/messages"

	require.Equal(t, http.StatusNoContent, b.Do(http.MethodPut, "/api/v1/users/"+a.ID+"/block", nil).Status)
	assert.Equal(t, http.StatusNoContent, b.Do(http.MethodPut, "/api/v1/users/"+a.ID+"/block", nil).Status, "idempotent")
	assert.Equal(t, a.ID, items(t, b.Do(http.MethodGet, "/api/v1/me/blocks", nil))[0]["id"])
	res = a.Do(http.MethodPost, path, map[string]any{"content": "hello?"})
	assert.Equal(t, http.StatusForbidden, res.Status, res.String())
	assert.Equal(t, http.StatusCreated, b.Do(http.MethodPost, path, map[string]any{"content": "I can still write"}).Status)
	assert.Equal(t, http.StatusUnprocessableEntity, b.Do(http.MethodPut, "/api/v1/users/"+b.ID+"/block", nil).Status)
	assert.Equal(t, http.StatusNotFound, b.Do(http.MethodPut, "/api/v1/users/00000000-0000-7000-8000-000000000000/block", nil).Status)

	require.Equal(t, http.StatusNoContent, b.Do(http.MethodDelete, "/api/v1/users/"+a.ID+"/block", nil).Status)
	assert.Equal(t, http.StatusCreated, a.Do(http.MethodPost, path, map[string]any{"content": "hello again"}).Status)
}

func TestMessageSearch(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	a, b, c := seed.Verified(t, env, srv, "sara"), seed.Verified(t, env, srv, "fahad"), seed.Verified(t, env, srv, "nura")
	send := func(from seed.Account, to seed.Account, text string) string {
		res := from.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{to.ID}})
		id := res.JSON()["id"].(string)
		require.Equal(t, http.StatusCreated, from.Do(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"content": text}).Status)
		return id
	}
	ab := send(a, b, "The vibration sensors on line 2 need recalibrating")
	send(a, b, "المستشعرات تعمل بكفاءة بعد المعايرة")
	send(b, c, "Private: sensors budget for next year")

	hits := items(t, a.Do(http.MethodGet, "/api/v1/messages/search?q=sensor", nil))
	require.Len(t, hits, 1, "stemming finds 'sensors'; the b–c conversation is not a's")
	assert.Contains(t, hits[0]["highlight"], "<mark>")
	hits = items(t, a.Do(http.MethodGet, "/api/v1/messages/search?q=المستشعرات", nil))
	assert.Len(t, hits, 1, "Arabic")
	assert.Len(t, items(t, b.Do(http.MethodGet, "/api/v1/messages/search?q=sensors", nil)), 2)
	assert.Len(t, items(t, b.Do(http.MethodGet, "/api/v1/messages/search?q=sensors&conversationId="+ab, nil)), 1)
	assert.Equal(t, http.StatusUnprocessableEntity, a.Do(http.MethodGet, "/api/v1/messages/search?q=x", nil).Status)
}

func TestAttachments(t *testing.T) {
	env := harness.NewEnv(t)
	srv := env.Start(t)
	a, b, outsider := seed.Verified(t, env, srv, "hana"), seed.Verified(t, env, srv, "ziad"), seed.Verified(t, env, srv, "kamal")
	res := a.Do(http.MethodPost, "/api/v1/conversations", map[string]any{"participantIds": []string{b.ID}})
	conv := "/api/v1/conversations/" + res.JSON()["id"].(string)

	upload := func(c seed.Account, name string, content []byte) *harness.Response {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		part, _ := w.CreateFormFile("file", name)
		part.Write(content)
		w.Close()
		return c.Do(http.MethodPost, conv+"/attachments", body.Bytes(), "Content-Type: "+w.FormDataContentType())
	}
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var pngBytes bytes.Buffer
	require.NoError(t, png.Encode(&pngBytes, img))

	res = upload(a, "line-2.png", pngBytes.Bytes())
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	att := res.JSON()
	assert.Equal(t, "image/png", att["contentType"])
	assert.Equal(t, http.StatusNotFound, b.Do(http.MethodGet, att["url"].(string), nil).Status, "not shared before it is sent")

	res = a.Do(http.MethodPost, conv+"/messages", map[string]any{"attachmentIds": []string{att["id"].(string)}})
	require.Equal(t, http.StatusCreated, res.Status, res.String())
	assert.Equal(t, "line-2.png", res.JSON()["attachments"].([]any)[0].(map[string]any)["name"])
	res = a.Do(http.MethodPost, conv+"/messages", map[string]any{"content": "again", "attachmentIds": []string{att["id"].(string)}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.Status, "an attachment goes on one message")

	dl := b.Do(http.MethodGet, att["url"].(string), nil)
	require.Equal(t, http.StatusOK, dl.Status)
	assert.Equal(t, pngBytes.Bytes(), dl.Body)
	assert.Contains(t, dl.Header.Get("Content-Disposition"), `filename=line-2.png`)
	assert.Equal(t, http.StatusNotFound, outsider.Do(http.MethodGet, att["url"].(string), nil).Status)

	assert.Equal(t, http.StatusUnsupportedMediaType, upload(a, "notes.png", []byte("plain text, not a picture")).Status)
	assert.Equal(t, http.StatusUnsupportedMediaType, upload(a, "tool.exe", []byte("MZ\x90\x00binary")).Status)
	assert.Equal(t, http.StatusCreated, upload(a, "notes.txt", []byte("plain text notes")).Status)
	assert.Equal(t, http.StatusRequestEntityTooLarge, upload(a, "big.txt", bytes.Repeat([]byte("a"), 10<<20+1)).Status)
	assert.Equal(t, http.StatusNotFound, upload(outsider, "x.txt", []byte("hello")).Status)
}
